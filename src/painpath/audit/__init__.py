"""PainPath audit area."""
