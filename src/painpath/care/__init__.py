"""PainPath care area."""
