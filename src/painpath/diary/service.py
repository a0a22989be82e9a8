"""What patients do with their diary and therapy sessions (and what clinicians read)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.orm import Session

from painpath.auth.domain import Actor
from painpath.care.service import authorize_patient, patient_today, record_access
from painpath.diary import repository
from painpath.diary.domain import check_diary_date
from painpath.diary.models import DiaryEntry, TherapySession
from painpath.diary.schemas import (
    DiaryEntryCreate,
    DiaryEntryRead,
    DiaryEntryUpdate,
    TherapySessionCreate,
    TherapySessionRead,
)
from painpath.kit.errors import Conflict, InvalidInput, NotFound
from painpath.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from painpath.kit.records import Ctx, body_hash, hold_id, is_replay

PATIENT_ONLY = frozenset({"patient"})
DIARY = "diary-entry"
THERAPY = "therapy-session"


def create_diary_entry(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, data: DiaryEntryCreate
) -> tuple[DiaryEntryRead, bool]:
    """Store one day's diary; (the entry, whether it was created now)."""
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=DIARY, action="create", writers=PATIENT_ONLY
    )
    digest = body_hash(data.model_dump(mode="json"))
    hold_id(db, data.id)
    existing = repository.diary_entry(db, data.id)
    if is_replay(existing, patient.id, digest):
        return DiaryEntryRead.model_validate(existing), False
    late = check_diary_date(data.date, patient_today(patient, ctx))
    same_day = repository.diary_entry_on(db, patient.id, data.date)
    if same_day is not None:
        raise Conflict(
            f"there is already a diary entry for {data.date.isoformat()} (id {same_day.id}): "
            "change that entry instead of adding a second one"
        )
    entry = DiaryEntry(
        **data.model_dump(),
        patient_id=patient.id,
        late=late,
        body_hash=digest,
        created_by=actor.user_id,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    db.add(entry)
    db.flush()
    record_access(
        db, actor, patient, ctx, resource_type=DIARY, action="create", resource_id=str(entry.id)
    )
    return DiaryEntryRead.model_validate(entry), True


def update_diary_entry(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    entry_id: uuid.UUID,
    data: DiaryEntryUpdate,
) -> DiaryEntryRead:
    """Change today's entry (earlier days are kept as they were written)."""
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=DIARY,
        action="update",
        writers=PATIENT_ONLY,
        resource_id=str(entry_id),
    )
    entry = repository.diary_entry(db, entry_id)
    if entry is None or entry.patient_id != patient.id:
        raise NotFound("no such diary entry")
    if entry.date != patient_today(patient, ctx):
        raise InvalidInput(
            f"only today's entry can be changed; the entry for {entry.date.isoformat()} is kept "
            "as it was written",
            field="date",
        )
    changes = data.model_dump(exclude_unset=True)
    if "pain" in changes and changes["pain"] is None:
        raise InvalidInput("average pain is required (0 to 10)", field="pain")
    for key, value in changes.items():
        setattr(entry, key, value)
    entry.updated_at = ctx.now
    db.flush()
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=DIARY,
        action="update",
        resource_id=str(entry.id),
        reason=",".join(sorted(changes)),
    )
    return DiaryEntryRead.model_validate(entry)


def list_diary_entries(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    *,
    start: date | None,
    end: date | None,
    cursor: str | None,
    limit: int,
) -> Page[DiaryEntryRead]:
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=DIARY, action="list")
    check_limit(limit)
    _check_range(start, end)
    after_text = decode_cursor(cursor)
    after = _parse_date_cursor(after_text)
    rows = repository.diary_entries(
        db, patient.id, start=start, end=end, after=after, limit=limit + 1
    )
    items = [DiaryEntryRead.model_validate(r) for r in rows[:limit]]
    nxt = encode_cursor(rows[limit - 1].date.isoformat()) if len(rows) > limit else None
    record_access(
        db, actor, patient, ctx, resource_type=DIARY, action="list", reason=f"{len(items)} entries"
    )
    return Page(items=items, next_cursor=nxt)


def create_therapy_session(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, data: TherapySessionCreate
) -> tuple[TherapySessionRead, bool]:
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=THERAPY, action="create", writers=PATIENT_ONLY
    )
    digest = body_hash(data.model_dump(mode="json"))
    existing = repository.therapy_session(db, data.id)
    if is_replay(existing, patient.id, digest):
        return TherapySessionRead.model_validate(existing), False
    if data.date > patient_today(patient, ctx):
        raise InvalidInput("the session date is in the future", field="date")
    session = TherapySession(
        **data.model_dump(),
        patient_id=patient.id,
        body_hash=digest,
        created_by=actor.user_id,
        created_at=ctx.now,
    )
    db.add(session)
    db.flush()
    record_access(
        db, actor, patient, ctx, resource_type=THERAPY, action="create", resource_id=str(session.id)
    )
    return TherapySessionRead.model_validate(session), True


def list_therapy_sessions(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    *,
    start: date | None,
    end: date | None,
    cursor: str | None,
    limit: int,
) -> Page[TherapySessionRead]:
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=THERAPY, action="list")
    check_limit(limit)
    _check_range(start, end)
    after = None
    text = decode_cursor(cursor)
    if text:
        day, _, sid = text.partition("|")
        try:
            after = (date.fromisoformat(day), uuid.UUID(sid))
        except ValueError:
            raise InvalidInput("the cursor is not valid", field="cursor") from None
    rows = repository.therapy_sessions(
        db, patient.id, start=start, end=end, after=after, limit=limit + 1
    )
    items = [TherapySessionRead.model_validate(r) for r in rows[:limit]]
    nxt = None
    if len(rows) > limit:
        last = rows[limit - 1]
        nxt = encode_cursor(f"{last.date.isoformat()}|{last.id}")
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=THERAPY,
        action="list",
        reason=f"{len(items)} sessions",
    )
    return Page(items=items, next_cursor=nxt)


def _check_range(start: date | None, end: date | None) -> None:
    if start and end and start > end:
        raise InvalidInput("'from' must be on or before 'to'", field="from")


def _parse_date_cursor(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("the cursor is not valid", field="cursor") from None
