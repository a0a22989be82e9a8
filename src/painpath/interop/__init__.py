"""PainPath interop area."""
