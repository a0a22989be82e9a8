"""PainPath auth area."""
