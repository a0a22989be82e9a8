"""PainPath demo area."""
