"""The pure medicines core: knowledge, interactions, dose schedules, prescribing checks,
tapering, missed doses and side-effect triage.

Standard library (and PyYAML for reading the knowledge files) only: no database, web,
clock or randomness. Dates are passed in.
"""
