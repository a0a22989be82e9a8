"""indexes that match the caseload, Today and "Does it help?" queries

- dose_events (patient_id, taken_at): a patient's doses in a time window (adherence on
  the caseload and the Today page, the doses of a treatment course). The single-column
  index on patient_id made PostgreSQL read every dose the patient ever logged (a year:
  365 rows) to keep the 28–30 days it needed.
- questionnaire_responses (patient_id, completed_at): a patient's responses since a
  date, newest first (the caseload's 28-day count, the questionnaire schedule, the
  record page).

Only indexes: nothing is rewritten, so this is quick on a small database. On a large
PostgreSQL database, build them first with CREATE INDEX CONCURRENTLY under the same
names (see docs/benchmarks.md); this migration then finds them and does nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_dose_events_patient_id_taken_at", "dose_events", ("patient_id", "taken_at")),
    (
        "ix_questionnaire_responses_patient_id_completed_at",
        "questionnaire_responses",
        ("patient_id", "completed_at"),
    ),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, list(columns), if_not_exists=True)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table, if_exists=True)
