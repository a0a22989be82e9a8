"""PainPath response area."""
