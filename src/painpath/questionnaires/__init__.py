"""PainPath questionnaires area."""
