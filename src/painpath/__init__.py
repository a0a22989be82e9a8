"""PainPath."""
