"""Rules shared by every record a client creates or edits.

- Idempotent creation: the client makes the id; the digest of the request body is kept
  with the record. The same id and body again returns the stored record; the same id
  with another body is refused (422), never silently merged. Requests creating the same
  id at the same moment go one after another (:func:`hold_id`).
- Optimistic concurrency: records edited after creation carry a version; GET returns it
  as an ETag and a change must send it back in If-Match (428 without, 412 when stale).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session

from painpath.kit.errors import InvalidInput, NotFound, PreconditionFailed, PreconditionRequired


@dataclass(frozen=True)
class Ctx:
    """What every service call needs to know about the request."""

    now: datetime
    request_id: str | None = None


def body_hash(payload: Mapping[str, Any]) -> str:
    """A stable digest of a request body (keys sorted, values as JSON)."""
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


ID_LOCKS = 7301  # the advisory-lock key space of client-made record ids


def hold_id(db: Session, record_id: uuid.UUID) -> None:
    """Before looking for a client-made id: make concurrent requests creating the same id
    go one after another (PostgreSQL; SQLite runs writing transactions one at a time),
    so the second finds the first's record and answers as a replay.

    On a partitioned table (diary entries, dose events, questionnaire responses: migration
    0008) the primary key also holds the partition key, so the database refuses the same
    id twice only when that key is the same too; a questionnaire's completion time is the
    server's clock, which differs between two processes answering the same request."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"),
            {"space": ID_LOCKS, "key": int.from_bytes(record_id.bytes[:4], "big", signed=True)},
        )


class ClientRecord(Protocol):
    id: uuid.UUID
    patient_id: uuid.UUID
    body_hash: str | None


def is_replay(existing: ClientRecord | None, patient_id: uuid.UUID, digest: str) -> bool:
    """True when ``existing`` is this very request sent again.

    An id that belongs to another patient's record is reported as "already used"
    without revealing anything about that record.
    """
    if existing is None:
        return False
    if existing.patient_id != patient_id or existing.body_hash != digest:
        raise InvalidInput(
            "this id was already used for a different record: make a new id for a new record",
            field="id",
        )
    return True


def etag(record_id: uuid.UUID, version: int) -> str:
    return f'"{record_id}.{version}"'


def check_if_match(if_match: str | None, record_id: uuid.UUID, version: int) -> None:
    if not if_match:
        raise PreconditionRequired(
            "send the record's ETag in an If-Match header (GET it first), so a newer change "
            "is never overwritten"
        )
    sent = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in sent and etag(record_id, version) not in sent:
        raise stale_record()


def stale_record() -> PreconditionFailed:
    """The error for a change that lost to a newer one (a stale ETag or a lost
    compare-and-set)."""
    return PreconditionFailed(
        "the record was changed by someone else since you read it: reload it, check the "
        "change and try again"
    )


def require(record: Any, message: str) -> Any:
    if record is None:
        raise NotFound(message)
    return record
