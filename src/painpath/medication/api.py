"""JSON routes for prescriptions, dose events, side-effect reports, taper plans,
dose-change requests and other medicines."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from painpath.kit.pagination import DEFAULT_LIMIT
from painpath.kit.records import etag
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
from painpath.medication import service
from painpath.medication.schemas import (
    AdherenceRead,
    BloodPressureCreate,
    BloodPressurePage,
    BloodPressureRead,
    DoseChangeDecision,
    DoseChangeRequestCreate,
    DoseChangeRequestPage,
    DoseChangeRequestRead,
    DoseEventCreate,
    DoseEventPage,
    DoseEventRead,
    OtherMedicineCreate,
    OtherMedicinePage,
    OtherMedicineRead,
    PrescriptionCreate,
    PrescriptionPage,
    PrescriptionRead,
    PrescriptionUpdate,
    SideEffectReportCreate,
    SideEffectReportPage,
    SideEffectReportRead,
    TaperPlanCreate,
    TaperPlanPage,
    TaperPlanRead,
    TaperPlanUpdate,
)

router = APIRouter(prefix="/api/v1/patients/{patient_id}", tags=["medication"])

REPLAY: dict[int | str, dict[str, Any]] = {
    200: {"description": "The same id sent again: the stored record"}
}


# ------------------------------------------------------------------ prescriptions


@router.post(
    "/prescriptions",
    response_model=PrescriptionRead,
    status_code=201,
    responses={**ERRORS, **REPLAY},
    summary="Prescribe (clinicians)",
    description=(
        "Checked against the maximum dose, whole-capsule doses, contraindications, "
        "interactions with the recorded other medicines, duplicates of an active treatment "
        "and the recorded renal, liver and blood-pressure facts. A blocking warning is a 422 "
        "naming each warning; send the request again with `override_reason` to accept them "
        "(recorded in `warnings_accepted` and audited). Some blocks (a dose that cannot be "
        "made from whole capsules, a medicine PainPath cannot check) cannot be overridden. "
        "Duloxetine for back pain or sciatica is off-label in the UK: see `off_label_notes`."
    ),
)
def create_prescription(
    patient_id: uuid.UUID, body: PrescriptionCreate, request: Request, response: Response
) -> PrescriptionRead:
    with transaction(request) as tx:
        item, created = service.create_prescription(tx.db, tx.actor, tx.ctx, patient_id, body)
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag(item.id, item.version)
    return item


@router.get("/prescriptions", response_model=PrescriptionPage, responses=ERRORS)
def list_prescriptions(
    patient_id: uuid.UUID,
    request: Request,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> PrescriptionPage:
    with transaction(request) as tx:
        page = service.list_prescriptions(
            tx.db, tx.actor, tx.ctx, patient_id, cursor=cursor, limit=limit
        )
    return PrescriptionPage(items=page.items, next=next_link(request, page.next_cursor))


@router.get(
    "/prescriptions/{prescription_id}",
    response_model=PrescriptionRead,
    responses=ERRORS,
    description="With an ETag header: send it in If-Match to change the prescription.",
)
def get_prescription(
    patient_id: uuid.UUID, prescription_id: uuid.UUID, request: Request, response: Response
) -> PrescriptionRead:
    with transaction(request) as tx:
        item = service.get_prescription(tx.db, tx.actor, tx.ctx, patient_id, prescription_id)
    response.headers["ETag"] = etag(item.id, item.version)
    return item


@router.patch(
    "/prescriptions/{prescription_id}",
    response_model=PrescriptionRead,
    responses=CHANGE_ERRORS,
    summary="Change a prescription (clinicians)",
    description=(
        "A new `schedule` (with a `reason`) takes effect from its first step, today or later; "
        "earlier doses are never rewritten and every change is kept with who made it and why. "
        '`status: "stopped"` is refused unless a taper has reached 0 mg or `override_reason` '
        "says why it must stop at once (never stop abruptly). Blocking warnings need "
        "`override_reason` as when prescribing."
    ),
)
def update_prescription(
    patient_id: uuid.UUID,
    prescription_id: uuid.UUID,
    body: PrescriptionUpdate,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> PrescriptionRead:
    with transaction(request) as tx:
        item = service.update_prescription(
            tx.db, tx.actor, tx.ctx, patient_id, prescription_id, body, if_match
        )
    response.headers["ETag"] = etag(item.id, item.version)
    return item


# -------------------------------------------------------------------- dose events


@router.post(
    "/dose-events",
    response_model=DoseEventRead,
    status_code=201,
    responses={**ERRORS, **REPLAY},
    summary="Log a dose as taken, missed or late (patients)",
    description=(
        "The dose is taken from the prescription's schedule for the patient's local date "
        "(`scheduled_for`). A missed dose comes back with `missed_dose_advice` from the "
        "medicines knowledge."
    ),
)
def create_dose_event(
    patient_id: uuid.UUID, body: DoseEventCreate, request: Request, response: Response
) -> DoseEventRead:
    with transaction(request) as tx:
        item, created = service.create_dose_event(tx.db, tx.actor, tx.ctx, patient_id, body)
    response.status_code = 201 if created else 200
    return item


@router.get("/dose-events", response_model=DoseEventPage, responses=ERRORS)
def list_dose_events(
    patient_id: uuid.UUID,
    request: Request,
    start: FromDate = None,
    end: ToDate = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> DoseEventPage:
    with transaction(request) as tx:
        page = service.list_dose_events(
            tx.db, tx.actor, tx.ctx, patient_id, start=start, end=end, cursor=cursor, limit=limit
        )
    return DoseEventPage(items=page.items, next=next_link(request, page.next_cursor))


@router.get(
    "/adherence",
    response_model=AdherenceRead,
    responses=ERRORS,
    summary="Proportion of days covered",
    description="Default window: the 28 days up to yesterday (the patient's local dates).",
)
def get_adherence(
    patient_id: uuid.UUID, request: Request, start: FromDate = None, end: ToDate = None
) -> AdherenceRead:
    with transaction(request) as tx:
        return service.get_adherence(tx.db, tx.actor, tx.ctx, patient_id, start=start, end=end)


# ------------------------------------------------------------ side-effect reports


@router.post(
    "/side-effect-reports",
    response_model=SideEffectReportRead,
    status_code=201,
    responses={**ERRORS, **REPLAY},
    summary="Report a side effect (patients)",
    description=(
        "Triaged at once (`triage.level`: self-care, routine, urgent or emergency, with advice "
        "and its source). New urinary, bowel or sexual symptoms go down the cauda equina "
        "pathway. Urgent and emergency reports alert the care team in the same transaction, "
        "once per report."
    ),
)
def create_side_effect_report(
    patient_id: uuid.UUID, body: SideEffectReportCreate, request: Request, response: Response
) -> SideEffectReportRead:
    with transaction(request) as tx:
        item, created = service.create_side_effect_report(tx.db, tx.actor, tx.ctx, patient_id, body)
    response.status_code = 201 if created else 200
    return item


@router.get("/side-effect-reports", response_model=SideEffectReportPage, responses=ERRORS)
def list_side_effect_reports(
    patient_id: uuid.UUID,
    request: Request,
    start: FromDate = None,
    end: ToDate = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> SideEffectReportPage:
    with transaction(request) as tx:
        page = service.list_side_effect_reports(
            tx.db, tx.actor, tx.ctx, patient_id, start=start, end=end, cursor=cursor, limit=limit
        )
    return SideEffectReportPage(items=page.items, next=next_link(request, page.next_cursor))


# ------------------------------------------------------------------- taper plans


@router.post(
    "/taper-plans",
    response_model=TaperPlanRead,
    status_code=201,
    responses={**ERRORS, **REPLAY},
    summary="Plan a taper (clinicians)",
    description=(
        "From the dose planned the day before `start` down to 0 mg over `weeks` weeks, using "
        "whole capsules only and never shorter than the medicine's minimum (a shorter request "
        "is stretched and carries a warning). The prescription's schedule is extended with the "
        "steps and its status becomes `tapering`."
    ),
)
def create_taper_plan(
    patient_id: uuid.UUID, body: TaperPlanCreate, request: Request, response: Response
) -> TaperPlanRead:
    with transaction(request) as tx:
        item, created = service.create_taper_plan(tx.db, tx.actor, tx.ctx, patient_id, body)
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag(item.id, item.version)
    return item


@router.get("/taper-plans", response_model=TaperPlanPage, responses=ERRORS)
def list_taper_plans(
    patient_id: uuid.UUID,
    request: Request,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> TaperPlanPage:
    with transaction(request) as tx:
        page = service.list_taper_plans(
            tx.db, tx.actor, tx.ctx, patient_id, cursor=cursor, limit=limit
        )
    return TaperPlanPage(items=page.items, next=next_link(request, page.next_cursor))


@router.get(
    "/taper-plans/{plan_id}",
    response_model=TaperPlanRead,
    responses=ERRORS,
    description="With every revision, and an ETag header for If-Match.",
)
def get_taper_plan(
    patient_id: uuid.UUID, plan_id: uuid.UUID, request: Request, response: Response
) -> TaperPlanRead:
    with transaction(request) as tx:
        item = service.get_taper_plan(tx.db, tx.actor, tx.ctx, patient_id, plan_id)
    response.headers["ETag"] = etag(item.id, item.version)
    return item


@router.patch(
    "/taper-plans/{plan_id}",
    response_model=TaperPlanRead,
    responses={**CHANGE_ERRORS, 409: {"description": "The plan is no longer active"}},
    summary="Hold or slow a taper step (clinicians)",
    description=(
        "`hold` extends the step in effect on `on` by `days` (NICE NG222 1.4.17); `slow` goes "
        "back to the previous dose from `on` and continues in smaller, longer steps (NG222 "
        "1.4.22). Each accepted change is a new version kept as a revision; a change sent with "
        "an older ETag is a 412, so no change is ever lost."
    ),
)
def update_taper_plan(
    patient_id: uuid.UUID,
    plan_id: uuid.UUID,
    body: TaperPlanUpdate,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> TaperPlanRead:
    with transaction(request) as tx:
        item = service.update_taper_plan(
            tx.db, tx.actor, tx.ctx, patient_id, plan_id, body, if_match
        )
    response.headers["ETag"] = etag(item.id, item.version)
    return item


# ---------------------------------------------------------- dose-change requests


@router.post(
    "/dose-change-requests",
    response_model=DoseChangeRequestRead,
    status_code=201,
    responses={**ERRORS, **REPLAY},
    summary="Ask for a dose change, or say you stopped on your own (patients)",
    description=(
        '`kind: "change"` (default) asks the care team; only a prescriber changes the dose. '
        '`kind: "stopped-on-my-own"` tells the care team the medicine was stopped without a '
        "taper: the answer carries `advice` on why that is risky (withdrawal symptoms) and the "
        "care team is alerted."
    ),
)
def create_dose_change_request(
    patient_id: uuid.UUID, body: DoseChangeRequestCreate, request: Request, response: Response
) -> DoseChangeRequestRead:
    with transaction(request) as tx:
        item, created = service.create_dose_change_request(
            tx.db, tx.actor, tx.ctx, patient_id, body
        )
    response.status_code = 201 if created else 200
    return item


@router.get("/dose-change-requests", response_model=DoseChangeRequestPage, responses=ERRORS)
def list_dose_change_requests(
    patient_id: uuid.UUID,
    request: Request,
    status: Annotated[
        Literal["pending", "approved", "declined", "patient-stopped"] | None, Query()
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> DoseChangeRequestPage:
    with transaction(request) as tx:
        page = service.list_dose_change_requests(
            tx.db, tx.actor, tx.ctx, patient_id, status=status, cursor=cursor, limit=limit
        )
    return DoseChangeRequestPage(items=page.items, next=next_link(request, page.next_cursor))


@router.patch(
    "/dose-change-requests/{request_id}",
    response_model=DoseChangeRequestRead,
    responses={**ERRORS, 409: {"description": "Already decided"}},
    summary="Approve or decline a request (clinicians)",
    description=(
        "A pending request is decided once (a second decision is a 409, so no If-Match is "
        "needed). The patient is told the outcome. Approving does not change the dose by "
        "itself: change the prescription to put a new dose into effect."
    ),
)
def decide_dose_change_request(
    patient_id: uuid.UUID, request_id: uuid.UUID, body: DoseChangeDecision, request: Request
) -> DoseChangeRequestRead:
    with transaction(request) as tx:
        return service.decide_dose_change_request(
            tx.db, tx.actor, tx.ctx, patient_id, request_id, body
        )


# --------------------------------------------------------------- other medicines


@router.post(
    "/other-medicines",
    response_model=OtherMedicineRead,
    status_code=201,
    responses={**ERRORS, **REPLAY},
    summary="Record another medicine the patient takes",
    description="Used by the interaction checks when prescribing; the answer lists "
    "interactions with the current prescriptions.",
)
def create_other_medicine(
    patient_id: uuid.UUID, body: OtherMedicineCreate, request: Request, response: Response
) -> OtherMedicineRead:
    with transaction(request) as tx:
        item, created = service.create_other_medicine(tx.db, tx.actor, tx.ctx, patient_id, body)
    response.status_code = 201 if created else 200
    return item


@router.get("/other-medicines", response_model=OtherMedicinePage, responses=ERRORS)
def list_other_medicines(
    patient_id: uuid.UUID,
    request: Request,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> OtherMedicinePage:
    with transaction(request) as tx:
        page = service.list_other_medicines(
            tx.db, tx.actor, tx.ctx, patient_id, cursor=cursor, limit=limit
        )
    return OtherMedicinePage(items=page.items, next=next_link(request, page.next_cursor))


@router.post(
    "/blood-pressure-readings",
    response_model=BloodPressureRead,
    status_code=201,
    responses={**ERRORS, **REPLAY},
    summary="Record a blood pressure reading",
    description="By the patient (at home) or the care team (in clinic). A reading at or "
    "above the level the care team set for this patient (clinical facts) alerts them.",
)
def create_blood_pressure(
    patient_id: uuid.UUID, body: BloodPressureCreate, request: Request, response: Response
) -> BloodPressureRead:
    with transaction(request) as tx:
        item, created = service.create_blood_pressure(tx.db, tx.actor, tx.ctx, patient_id, body)
    response.status_code = 201 if created else 200
    return item


@router.get("/blood-pressure-readings", response_model=BloodPressurePage, responses=ERRORS)
def list_blood_pressures(
    patient_id: uuid.UUID,
    request: Request,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> BloodPressurePage:
    with transaction(request) as tx:
        page = service.list_blood_pressures(
            tx.db, tx.actor, tx.ctx, patient_id, cursor=cursor, limit=limit
        )
    return BloodPressurePage(items=page.items, next=next_link(request, page.next_cursor))
