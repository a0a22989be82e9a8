"""PainPath kit area."""
