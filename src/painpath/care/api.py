"""JSON routes for patients, care teams, referrals, follow-ups, reviews and clinical notes."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from painpath.care import service
from painpath.care.schemas import (
    CareTeamAdd,
    CareTeamPage,
    CareTeamRead,
    ClinicalFactsRead,
    ClinicalFactsWrite,
    ClinicianPage,
    FollowUpCreate,
    FollowUpPage,
    FollowUpRead,
    FollowUpUpdate,
    NoteCreate,
    NotePage,
    NoteRead,
    PatientDetail,
    PatientPage,
    ReferralCreate,
    ReferralDecision,
    ReferralPage,
    ReferralRead,
    ReviewCreate,
    ReviewPage,
    ReviewRead,
)
from painpath.kit.pagination import DEFAULT_LIMIT
from painpath.kit.records import etag
from painpath.kit.routes import CHANGE_ERRORS, Cursor, FromDate, IfMatch, Limit, ToDate, next_link
from painpath.kit.routes import ERRORS as ROUTE_ERRORS
from painpath.kit.web import transaction

router = APIRouter(prefix="/api/v1", tags=["patients"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    404: {"description": "No such patient"},
}


@router.get("/patients", response_model=PatientPage, responses=ERRORS)
def list_patients(
    request: Request,
    cursor: str | None = Query(default=None, max_length=400),
    limit: int = Query(default=DEFAULT_LIMIT, ge=1, le=100),
) -> PatientPage:
    with transaction(request) as tx:
        page = service.list_patients(
            tx.db, tx.actor, cursor=cursor, limit=limit, request_id=tx.request_id, now=tx.now
        )
    next_url = None
    if page.next_cursor:
        next_url = str(request.url.include_query_params(cursor=page.next_cursor, limit=limit))
    return PatientPage(items=page.items, next=next_url)


@router.get("/patients/{patient_id}", response_model=PatientDetail, responses=ERRORS)
def get_patient(patient_id: uuid.UUID, request: Request) -> PatientDetail:
    with transaction(request) as tx:
        return service.get_patient(
            tx.db, tx.actor, patient_id, request_id=tx.request_id, now=tx.now
        )


# =============================================================== the clinician workspace

StatusHeader = Annotated[str | None, Header(alias="If-Match")]


@router.get(
    "/clinicians", response_model=ClinicianPage, tags=["care teams"], responses=ROUTE_ERRORS
)
def list_clinicians(
    request: Request,
    kind: Annotated[str | None, Query(description="gp, pain-specialist or other")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> ClinicianPage:
    """Clinicians to refer to or add to a care team (clinicians and administrators)."""
    with transaction(request) as tx:
        page = service.list_clinicians(
            tx.db, tx.actor, tx.ctx, kind=kind, cursor=cursor, limit=limit
        )
    return ClinicianPage(items=page.items, next=next_link(request, page.next_cursor))


@router.get("/care-teams", response_model=CareTeamPage, tags=["care teams"], responses=ROUTE_ERRORS)
def list_care_teams(
    request: Request,
    q: Annotated[str | None, Query(max_length=200, description="part of a name")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> CareTeamPage:
    """Patients' names and care teams, for administrators (no clinical data)."""
    with transaction(request) as tx:
        page = service.list_care_teams(
            tx.db, tx.actor, tx.ctx, search=q, cursor=cursor, limit=limit
        )
    return CareTeamPage(items=page.items, next=next_link(request, page.next_cursor))


@router.get(
    "/patients/{patient_id}/care-team",
    response_model=CareTeamRead,
    tags=["care teams"],
    responses=ROUTE_ERRORS,
)
def get_care_team(patient_id: uuid.UUID, request: Request) -> CareTeamRead:
    with transaction(request) as tx:
        return service.get_care_team(tx.db, tx.actor, tx.ctx, patient_id)


@router.post(
    "/patients/{patient_id}/care-team",
    response_model=CareTeamRead,
    status_code=201,
    tags=["care teams"],
    responses=ROUTE_ERRORS,
)
def add_care_team_member(
    patient_id: uuid.UUID, body: CareTeamAdd, request: Request
) -> CareTeamRead:
    """Administrators add a clinician to a patient's care team."""
    with transaction(request) as tx:
        return service.add_care_team_member(tx.db, tx.actor, tx.ctx, patient_id, body)


@router.delete(
    "/patients/{patient_id}/care-team/{clinician_id}",
    status_code=204,
    tags=["care teams"],
    responses=ROUTE_ERRORS,
)
def remove_care_team_member(
    patient_id: uuid.UUID, clinician_id: uuid.UUID, request: Request
) -> Response:
    """Administrators take a clinician out of a care team (from their next request on)."""
    with transaction(request) as tx:
        service.remove_care_team_member(tx.db, tx.actor, tx.ctx, patient_id, clinician_id)
    return Response(status_code=204)


@router.post(
    "/patients/{patient_id}/referrals",
    response_model=ReferralRead,
    status_code=201,
    tags=["referrals"],
    responses={**ROUTE_ERRORS, 200: {"description": "The same id sent again: the stored one"}},
)
def create_referral(
    patient_id: uuid.UUID, body: ReferralCreate, request: Request, response: Response
) -> ReferralRead:
    """A clinician in the care team refers the patient to a pain specialist."""
    with transaction(request) as tx:
        item, created = service.create_referral(tx.db, tx.actor, tx.ctx, patient_id, body)
    response.status_code = 201 if created else 200
    return item


@router.get(
    "/patients/{patient_id}/referrals",
    response_model=ReferralPage,
    tags=["referrals"],
    responses=ROUTE_ERRORS,
)
def list_patient_referrals(patient_id: uuid.UUID, request: Request) -> ReferralPage:
    with transaction(request) as tx:
        items = service.list_patient_referrals(tx.db, tx.actor, tx.ctx, patient_id)
    return ReferralPage(items=items, next=None)


@router.get("/referrals", response_model=ReferralPage, tags=["referrals"], responses=ROUTE_ERRORS)
def list_referrals(
    request: Request,
    status: Annotated[
        str, Query(pattern="^(pending|accepted|declined|all)$", description="default pending")
    ] = "pending",
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> ReferralPage:
    """Referrals sent to the signed-in clinician."""
    with transaction(request) as tx:
        page = service.list_referrals(
            tx.db,
            tx.actor,
            tx.ctx,
            status=None if status == "all" else status,
            cursor=cursor,
            limit=limit,
        )
    return ReferralPage(items=page.items, next=next_link(request, page.next_cursor))


@router.patch(
    "/referrals/{referral_id}",
    response_model=ReferralRead,
    tags=["referrals"],
    responses=ROUTE_ERRORS,
)
def decide_referral(
    referral_id: uuid.UUID, body: ReferralDecision, request: Request
) -> ReferralRead:
    """The receiving clinician accepts (and joins the care team) or declines."""
    with transaction(request) as tx:
        return service.decide_referral(tx.db, tx.actor, tx.ctx, referral_id, body)


@router.post(
    "/patients/{patient_id}/follow-ups",
    response_model=FollowUpRead,
    status_code=201,
    tags=["follow-ups"],
    responses={**ROUTE_ERRORS, 200: {"description": "The same id sent again: the stored one"}},
)
def create_follow_up(
    patient_id: uuid.UUID, body: FollowUpCreate, request: Request, response: Response
) -> FollowUpRead:
    with transaction(request) as tx:
        item, created = service.create_follow_up(tx.db, tx.actor, tx.ctx, patient_id, body)
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag(item.id, item.version)
    return item


@router.get(
    "/patients/{patient_id}/follow-ups",
    response_model=FollowUpPage,
    tags=["follow-ups"],
    responses=ROUTE_ERRORS,
)
def list_follow_ups(
    patient_id: uuid.UUID,
    request: Request,
    start: FromDate = None,
    end: ToDate = None,
    status: Annotated[str | None, Query(pattern="^(scheduled|done|cancelled)$")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> FollowUpPage:
    with transaction(request) as tx:
        page = service.list_follow_ups(
            tx.db,
            tx.actor,
            tx.ctx,
            patient_id,
            start=start,
            end=end,
            status=status,
            cursor=cursor,
            limit=limit,
        )
    return FollowUpPage(items=page.items, next=next_link(request, page.next_cursor))


@router.get(
    "/patients/{patient_id}/follow-ups/{follow_up_id}",
    response_model=FollowUpRead,
    tags=["follow-ups"],
    responses=ROUTE_ERRORS,
)
def get_follow_up(
    patient_id: uuid.UUID, follow_up_id: uuid.UUID, request: Request, response: Response
) -> FollowUpRead:
    with transaction(request) as tx:
        item = service.get_follow_up(tx.db, tx.actor, tx.ctx, patient_id, follow_up_id)
    response.headers["ETag"] = etag(item.id, item.version)
    return item


@router.patch(
    "/patients/{patient_id}/follow-ups/{follow_up_id}",
    response_model=FollowUpRead,
    tags=["follow-ups"],
    responses={
        **ROUTE_ERRORS,
        412: {"description": "If-Match is stale: reload and try again"},
        428: {"description": "If-Match is missing"},
    },
)
def update_follow_up(
    patient_id: uuid.UUID,
    follow_up_id: uuid.UUID,
    body: FollowUpUpdate,
    request: Request,
    response: Response,
    if_match: StatusHeader = None,
) -> FollowUpRead:
    """Mark a follow-up done or cancelled, or move its date (send If-Match)."""
    with transaction(request) as tx:
        item = service.update_follow_up(
            tx.db, tx.actor, tx.ctx, patient_id, follow_up_id, body, if_match=if_match
        )
    response.headers["ETag"] = etag(item.id, item.version)
    return item


@router.post(
    "/patients/{patient_id}/reviews",
    response_model=ReviewRead,
    status_code=201,
    tags=["reviews"],
    responses={**ROUTE_ERRORS, 200: {"description": "The same id sent again: the stored one"}},
)
def create_review(
    patient_id: uuid.UUID, body: ReviewCreate, request: Request, response: Response
) -> ReviewRead:
    """A review decision with its reason; the server keeps a snapshot of the data."""
    with transaction(request) as tx:
        item, created = service.create_review(tx.db, tx.actor, tx.ctx, patient_id, body)
    response.status_code = 201 if created else 200
    return item


@router.get(
    "/patients/{patient_id}/reviews",
    response_model=ReviewPage,
    tags=["reviews"],
    responses=ROUTE_ERRORS,
)
def list_reviews(
    patient_id: uuid.UUID, request: Request, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> ReviewPage:
    with transaction(request) as tx:
        page = service.list_reviews(tx.db, tx.actor, tx.ctx, patient_id, cursor=cursor, limit=limit)
    return ReviewPage(items=page.items, next=next_link(request, page.next_cursor))


@router.post(
    "/patients/{patient_id}/notes",
    response_model=NoteRead,
    status_code=201,
    tags=["clinical notes"],
    responses={**ROUTE_ERRORS, 200: {"description": "The same id sent again: the stored one"}},
)
def create_note(
    patient_id: uuid.UUID, body: NoteCreate, request: Request, response: Response
) -> NoteRead:
    with transaction(request) as tx:
        item, created = service.create_note(tx.db, tx.actor, tx.ctx, patient_id, body)
    response.status_code = 201 if created else 200
    return item


@router.get(
    "/patients/{patient_id}/notes",
    response_model=NotePage,
    tags=["clinical notes"],
    responses=ROUTE_ERRORS,
)
def list_notes(
    patient_id: uuid.UUID, request: Request, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> NotePage:
    with transaction(request) as tx:
        page = service.list_notes(tx.db, tx.actor, tx.ctx, patient_id, cursor=cursor, limit=limit)
    return NotePage(items=page.items, next=next_link(request, page.next_cursor))


@router.get(
    "/patients/{patient_id}/clinical-facts",
    response_model=ClinicalFactsRead,
    tags=["patients"],
    responses=ROUTE_ERRORS,
)
def get_clinical_facts(
    patient_id: uuid.UUID, request: Request, response: Response
) -> ClinicalFactsRead:
    """What the prescribing checks read: creatinine clearance, liver impairment,
    uncontrolled hypertension and other conditions (null: not recorded); ETag header."""
    with transaction(request) as tx:
        facts = service.get_clinical_facts(tx.db, tx.actor, tx.ctx, patient_id)
    response.headers["ETag"] = service.facts_etag(facts)
    return facts


@router.put(
    "/patients/{patient_id}/clinical-facts",
    response_model=ClinicalFactsRead,
    tags=["patients"],
    responses=CHANGE_ERRORS,
)
def put_clinical_facts(
    patient_id: uuid.UUID,
    body: ClinicalFactsWrite,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> ClinicalFactsRead:
    """Replace the recorded facts (a clinician in the care team); needs ``If-Match``
    with the ETag from GET. Prescribing checks use them from the next prescription or
    dose change."""
    with transaction(request) as tx:
        facts = service.update_clinical_facts(
            tx.db, tx.actor, tx.ctx, patient_id, body, if_match=if_match
        )
    response.headers["ETag"] = service.facts_etag(facts)
    return facts
