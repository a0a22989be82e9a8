"""PainPath medication area."""
