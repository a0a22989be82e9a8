"""PainPath alerts area."""
