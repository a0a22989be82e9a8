"""a version for the patient's recorded clinical facts, and a blood-pressure threshold

The care team records creatinine clearance, liver impairment, uncontrolled
hypertension and other conditions on a page and through
``PUT /api/v1/patients/{id}/clinical-facts``. A change needs the ETag read last; the
``facts_version`` counter is that ETag's version, so two clinicians changing the facts at
once cannot both win (a compare-and-set on the counter). Existing rows start at 0.

``bp_alert_systolic`` and ``bp_alert_diastolic``: the reading (mmHg) at or above which a
recorded blood pressure raises an alert for the care team; set per patient by the care
team (the clinical reference gives no number), empty for none.

``reminder_preferences.timezone``: a clinician's own time zone for their reminders
(follow-up appointments, escalations); empty means the service's default zone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 14:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(
            sa.Column("facts_version", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("bp_alert_systolic", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("bp_alert_diastolic", sa.Integer(), nullable=True))
    with op.batch_alter_table("reminder_preferences") as batch:
        batch.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reminder_preferences") as batch:
        batch.drop_column("timezone")
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("bp_alert_diastolic")
        batch.drop_column("bp_alert_systolic")
        batch.drop_column("facts_version")
