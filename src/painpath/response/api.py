"""JSON routes of the response area: the "does it help?" result, "My data", the
evidence view, and their charts as SVG images (for ``<img>`` and reports)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from painpath.kit.routes import ERRORS
from painpath.kit.web import transaction
from painpath.response import service
from painpath.response.schemas import EvidenceRead, ResponseRead

router = APIRouter(prefix="/api/v1", tags=["response"])

SVG = "image/svg+xml"
SVG_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {"content": {SVG: {}}, "description": "The chart as an SVG image"},
}
AssessFrom = Annotated[
    date | None,
    Query(description="first day of the assessment window (YYYY-MM-DD), with assess_to"),
]
AssessTo = Annotated[
    date | None,
    Query(description="last day of the assessment window (YYYY-MM-DD), with assess_from"),
]
Method = Annotated[str, Query(max_length=8, description="REML (default) or DL")]


def _svg(svg: str) -> Response:
    return Response(content=svg, media_type=SVG)


@router.get(
    "/patients/{patient_id}/prescriptions/{prescription_id}/response",
    response_model=ResponseRead,
    responses=ERRORS,
)
def course_response(
    patient_id: uuid.UUID,
    prescription_id: uuid.UUID,
    request: Request,
    assess_from: AssessFrom = None,
    assess_to: AssessTo = None,
) -> dict[str, Any]:
    """ "Does it help?" for one treatment course: the fields of `painpath response analyze`
    (CONTRACT.md) plus the course, the inputs, other measures and the chart's address."""
    with transaction(request) as tx:
        return service.analyze_course(
            tx.db, tx.actor, tx.ctx, patient_id, prescription_id, assess_from, assess_to
        )


@router.get(
    "/patients/{patient_id}/prescriptions/{prescription_id}/response/chart.svg",
    response_class=Response,
    responses=SVG_RESPONSES,
)
def course_response_chart(
    patient_id: uuid.UUID,
    prescription_id: uuid.UUID,
    request: Request,
    assess_from: AssessFrom = None,
    assess_to: AssessTo = None,
) -> Response:
    """The response chart: daily pain with the baseline and assessment windows."""
    with transaction(request) as tx:
        svg = service.response_chart(
            tx.db, tx.actor, tx.ctx, patient_id, prescription_id, assess_from, assess_to
        )
    return _svg(svg)


@router.get("/patients/{patient_id}/my-data", response_model=dict[str, Any], responses=ERRORS)
def my_data(patient_id: uuid.UUID, request: Request) -> dict[str, Any]:
    """Pain, function and mood over time, with dose steps, taper steps and therapies."""
    with transaction(request) as tx:
        return service.my_data(tx.db, tx.actor, tx.ctx, patient_id)


@router.get(
    "/patients/{patient_id}/my-data/chart.svg",
    response_class=Response,
    responses=SVG_RESPONSES,
)
def my_data_chart(patient_id: uuid.UUID, request: Request) -> Response:
    """The "My data" chart: every measure on one time axis with the medicine."""
    with transaction(request) as tx:
        svg = service.my_data_chart(tx.db, tx.actor, tx.ctx, patient_id)
    return _svg(svg)


@router.get("/evidence", response_model=EvidenceRead, responses=ERRORS)
def evidence(request: Request, method: Method = "REML") -> dict[str, Any]:
    """The duloxetine trials and pooled results with citations, and PainPath's
    random-effects pooling of stopping for adverse events (forest plot rows)."""
    with transaction(request):
        return service.evidence(method)


@router.get("/evidence/forest.svg", response_class=Response, responses=SVG_RESPONSES)
def evidence_forest_plot(request: Request, method: Method = "REML") -> Response:
    """The forest plot of stopping for adverse events."""
    with transaction(request):
        svg = service.evidence_chart(method)
    return _svg(svg)
