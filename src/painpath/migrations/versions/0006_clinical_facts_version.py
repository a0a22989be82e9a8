"""a version for the patient's recorded clinical facts

The care team records creatinine clearance, liver impairment, uncontrolled
hypertension and other conditions on a page and through
``PUT /api/v1/patients/{id}/clinical-facts``. A change needs the ETag read last; this
counter is that ETag's version, so two clinicians changing the facts at once cannot both
win (a compare-and-set on the counter). Existing rows start at 0.

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


def downgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("facts_version")
