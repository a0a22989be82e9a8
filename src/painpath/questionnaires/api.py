"""JSON routes of the questionnaires area: instruments, responses and schedules."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from painpath.kit.pagination import DEFAULT_LIMIT
from painpath.kit.routes import (
    CHANGE_ERRORS,
    ERRORS,
    Cursor,
    FromDate,
    IfMatch,
    Limit,
    ToDate,
    next_link,
)
from painpath.kit.web import transaction
from painpath.questionnaires import service
from painpath.questionnaires.schemas import (
    CompletionRates,
    DueList,
    InstrumentList,
    QuestionnaireResponseCreate,
    QuestionnaireResponsePage,
    QuestionnaireResponseRead,
    ScheduleRead,
    ScheduleUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["questionnaires"])

PATIENT = "/patients/{patient_id}"

InstrumentCode = Annotated[
    str | None, Query(max_length=32, description="only this instrument, e.g. phq9")
]
Days = Annotated[int, Query(ge=1, le=730, description="how many days up to today")]


@router.get("/instruments", response_model=InstrumentList, responses=ERRORS)
def list_instruments(request: Request) -> InstrumentList:
    with transaction(request):
        return service.list_instruments()


@router.get("/instruments/{code}", responses=ERRORS)
def get_instrument(code: str, request: Request) -> dict[str, Any]:
    """The full definition: items, answers, scoring, sources and licence. Item wording
    is given only where its licence allows (restricted items have ``"text": null``)."""
    with transaction(request):
        return service.instrument_definition(code)


@router.post(
    PATIENT + "/questionnaire-responses",
    response_model=QuestionnaireResponseRead,
    status_code=201,
    responses={**ERRORS, 200: {"description": "The same id sent again: the stored response"}},
)
def create_response(
    patient_id: uuid.UUID,
    body: QuestionnaireResponseCreate,
    request: Request,
    response: Response,
) -> QuestionnaireResponseRead:
    """Store the patient's answers with the score PainPath works out (a client-sent
    score is ignored). Answers that need action raise the care team's alert at once
    and come back with the advice to show the patient."""
    with transaction(request) as tx:
        item, created = service.submit_response(tx.db, tx.actor, tx.ctx, patient_id, body)
    response.status_code = 201 if created else 200
    return item


@router.get(
    PATIENT + "/questionnaire-responses",
    response_model=QuestionnaireResponsePage,
    responses=ERRORS,
)
def list_responses(
    patient_id: uuid.UUID,
    request: Request,
    start: FromDate = None,
    end: ToDate = None,
    instrument: InstrumentCode = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> QuestionnaireResponsePage:
    with transaction(request) as tx:
        page = service.list_responses(
            tx.db,
            tx.actor,
            tx.ctx,
            patient_id,
            start=start,
            end=end,
            instrument=instrument,
            cursor=cursor,
            limit=limit,
        )
    return QuestionnaireResponsePage(items=page.items, next=next_link(request, page.next_cursor))


@router.get(
    PATIENT + "/questionnaire-responses/{response_id}",
    response_model=QuestionnaireResponseRead,
    responses=ERRORS,
)
def get_response(
    patient_id: uuid.UUID, response_id: uuid.UUID, request: Request
) -> QuestionnaireResponseRead:
    with transaction(request) as tx:
        return service.get_response(tx.db, tx.actor, tx.ctx, patient_id, response_id)


@router.get(PATIENT + "/questionnaires-due", response_model=DueList, responses=ERRORS)
def questionnaires_due(patient_id: uuid.UUID, request: Request) -> DueList:
    """The questionnaires due today (the patient's own date), with why."""
    with transaction(request) as tx:
        return service.list_due(tx.db, tx.actor, tx.ctx, patient_id)


@router.get(PATIENT + "/questionnaire-completion", response_model=CompletionRates, responses=ERRORS)
def questionnaire_completion(
    patient_id: uuid.UUID, request: Request, days: Days = 84
) -> CompletionRates:
    """How many scheduled questionnaires were done when due, per instrument."""
    with transaction(request) as tx:
        return service.get_completion_rates(tx.db, tx.actor, tx.ctx, patient_id, days)


@router.get(PATIENT + "/questionnaire-schedule", response_model=ScheduleRead, responses=ERRORS)
def get_questionnaire_schedule(
    patient_id: uuid.UUID, request: Request, response: Response
) -> ScheduleRead:
    """Which questionnaire is due when for this patient (the defaults until their care
    team changes it); ETag header."""
    with transaction(request) as tx:
        schedule = service.get_schedule(tx.db, tx.actor, tx.ctx, patient_id)
        response.headers["ETag"] = service.schedule_etag(schedule.patient_id, schedule.version)
    return schedule


@router.put(
    PATIENT + "/questionnaire-schedule",
    response_model=ScheduleRead,
    responses=CHANGE_ERRORS,
)
def put_questionnaire_schedule(
    patient_id: uuid.UUID,
    body: ScheduleUpdate,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> ScheduleRead:
    """Replace the schedule (a clinician in the care team); needs ``If-Match`` with the
    ETag from GET. Instruments not listed follow the defaults."""
    with transaction(request) as tx:
        schedule = service.update_schedule(
            tx.db, tx.actor, tx.ctx, patient_id, body, if_match=if_match
        )
        response.headers["ETag"] = service.schedule_etag(schedule.patient_id, schedule.version)
    return schedule
