"""Column helpers shared by the models of every area."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from painpath.db import UtcDateTime, utcnow

JsonType = JSON().with_variant(JSONB(), "postgresql")


def patient_fk() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, ForeignKey("patients.id", ondelete="CASCADE"), index=True)


class ClientCreated:
    """A record a client creates: its id is client-made, so a retry is stored once.

    ``body_hash`` is the digest of the request body that created it: the same id
    with another body is refused instead of silently returning the first record.
    """

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    body_hash: Mapped[str | None] = mapped_column(String(64), default=None)

    @declared_attr
    def created_by(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(Uuid, ForeignKey("users.id", ondelete="SET NULL"), default=None)
