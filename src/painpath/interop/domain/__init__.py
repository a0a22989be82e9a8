"""Pure interop code: FHIR mapping, iCalendar, the report's content, Yellow Card and
the data download's files. No database, web, clock or randomness."""
