"""PainPath diary area."""
