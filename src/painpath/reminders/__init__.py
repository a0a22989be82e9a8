"""PainPath reminders area."""
