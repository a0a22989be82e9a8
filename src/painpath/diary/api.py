"""JSON routes for diary entries and therapy sessions."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from painpath.diary import service
from painpath.diary.schemas import (
    DiaryEntryCreate,
    DiaryEntryPage,
    DiaryEntryRead,
    DiaryEntryUpdate,
    TherapySessionCreate,
    TherapySessionPage,
    TherapySessionRead,
)
from painpath.kit.pagination import DEFAULT_LIMIT
from painpath.kit.routes import ERRORS, Cursor, FromDate, Limit, ToDate, next_link
from painpath.kit.web import transaction

router = APIRouter(prefix="/api/v1/patients/{patient_id}", tags=["diary"])


@router.post(
    "/diary-entries",
    response_model=DiaryEntryRead,
    status_code=201,
    responses={**ERRORS, 200: {"description": "The same id sent again: the stored entry"}},
)
def create_diary_entry(
    patient_id: uuid.UUID, body: DiaryEntryCreate, request: Request, response: Response
) -> DiaryEntryRead:
    with transaction(request) as tx:
        entry, created = service.create_diary_entry(tx.db, tx.actor, tx.ctx, patient_id, body)
    response.status_code = 201 if created else 200
    return entry


@router.patch("/diary-entries/{entry_id}", response_model=DiaryEntryRead, responses=ERRORS)
def update_diary_entry(
    patient_id: uuid.UUID, entry_id: uuid.UUID, body: DiaryEntryUpdate, request: Request
) -> DiaryEntryRead:
    with transaction(request) as tx:
        return service.update_diary_entry(tx.db, tx.actor, tx.ctx, patient_id, entry_id, body)


@router.get("/diary-entries", response_model=DiaryEntryPage, responses=ERRORS)
def list_diary_entries(
    patient_id: uuid.UUID,
    request: Request,
    start: FromDate = None,
    end: ToDate = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> DiaryEntryPage:
    with transaction(request) as tx:
        page = service.list_diary_entries(
            tx.db,
            tx.actor,
            tx.ctx,
            patient_id,
            start=start,
            end=end,
            cursor=cursor,
            limit=limit,
        )
    return DiaryEntryPage(items=page.items, next=next_link(request, page.next_cursor))


@router.post(
    "/therapy-sessions",
    response_model=TherapySessionRead,
    status_code=201,
    responses={**ERRORS, 200: {"description": "The same id sent again: the stored session"}},
)
def create_therapy_session(
    patient_id: uuid.UUID, body: TherapySessionCreate, request: Request, response: Response
) -> TherapySessionRead:
    with transaction(request) as tx:
        item, created = service.create_therapy_session(tx.db, tx.actor, tx.ctx, patient_id, body)
    response.status_code = 201 if created else 200
    return item


@router.get("/therapy-sessions", response_model=TherapySessionPage, responses=ERRORS)
def list_therapy_sessions(
    patient_id: uuid.UUID,
    request: Request,
    start: FromDate = None,
    end: ToDate = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> TherapySessionPage:
    with transaction(request) as tx:
        page = service.list_therapy_sessions(
            tx.db,
            tx.actor,
            tx.ctx,
            patient_id,
            start=start,
            end=end,
            cursor=cursor,
            limit=limit,
        )
    return TherapySessionPage(items=page.items, next=next_link(request, page.next_cursor))
