"""Raising alerts for the care team (once per cause, in the writer's transaction), the
rules run when data arrives and on a schedule, and the clinician's alert inbox."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from painpath.alerts import domain, repository
from painpath.alerts.models import Alert
from painpath.alerts.schemas import AlertRead, AlertUpdate
from painpath.audit import service as audit
from painpath.auth.domain import Actor
from painpath.care.models import Patient
from painpath.care.service import authorize_patient, record_access
from painpath.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from painpath.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from painpath.kit.records import Ctx, check_if_match

ALERT = "alert"
NO_ALERT = "no such alert"
STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "open": ("open",),
    "acknowledged": ("acknowledged",),
    "resolved": ("resolved",),
    "active": domain.ACTIVE_STATUSES,
    "all": domain.ALERT_STATUSES,
}
# The rules read recent data when something arrives; older data was evaluated when it came.
LOOKBACK_DAYS = 30
# Non-response is judged from 8 weeks after the first dose: the SmPC's "evaluate response
# after 2 months" (clinical/reference.md §1.3) and the 8-12 week decision point (§4).
REVIEW_POINT_WEEKS = 8


def alert_for_cause(db: Session, patient_id: uuid.UUID, cause_key: str) -> Alert | None:
    """The alert already raised for this cause, if any (one alert per cause)."""
    return repository.by_cause(db, patient_id, cause_key)


def raise_alert(
    db: Session,
    *,
    patient_id: uuid.UUID,
    rule: str,
    cause_key: str,
    urgency: str,
    summary: str,
    source: str,
    now: datetime,
) -> Alert:
    """Raise an alert unless one for the same cause exists; return the alert either way.

    The (patient, cause) pair is unique in the database too, so two writers racing
    on the same cause cannot both insert: the loser's transaction fails and retries.
    """
    existing = repository.by_cause(db, patient_id, cause_key)
    if existing is not None:
        return existing
    alert = Alert(
        id=uuid.uuid4(),
        patient_id=patient_id,
        rule=rule,
        cause_key=cause_key,
        urgency=urgency,
        summary=summary,
        source=source,
        created_at=now,
    )
    db.add(alert)
    db.flush()
    return alert


def raise_cause(
    db: Session, patient_id: uuid.UUID, cause: domain.Cause, now: datetime
) -> Alert | None:
    """Raise the alert for ``cause``; the new alert, or None when it was already raised.

    Missed doses and overdue follow-ups are also held back while an alert of the same
    rule is still open or acknowledged, so a run of missed doses is one alert.
    """
    if repository.by_cause(db, patient_id, cause.key) is not None:
        return None
    if cause.rule == domain.MISSED_DOSES.id and repository.active_for_rule(
        db, patient_id, cause.rule
    ):
        return None
    return raise_alert(
        db,
        patient_id=patient_id,
        rule=cause.rule,
        cause_key=cause.key,
        urgency=cause.urgency,
        summary=cause.summary,
        source=cause.source,
        now=now,
    )


def raise_causes(
    db: Session, patient_id: uuid.UUID, causes: Iterable[domain.Cause], now: datetime
) -> list[Alert]:
    raised = [raise_cause(db, patient_id, c, now) for c in causes]
    return [a for a in raised if a is not None]


def report_stopped_on_own(
    db: Session, patient_id: uuid.UUID, report_id: uuid.UUID, reported_on: date, now: datetime
) -> Alert | None:
    """For the medication area: the patient says they stopped the medicine themself."""
    return raise_cause(
        db, patient_id, domain.stopped_on_own_cause(str(report_id), reported_on), now
    )


# ---------------------------------------------------------------- evaluating the rules


def _local_today(timezone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def _dose_day(event_day: date | None, taken_at: datetime, timezone: str) -> date:
    return event_day or taken_at.astimezone(ZoneInfo(timezone)).date()


@cache
def _withdrawal_terms() -> tuple[str, ...]:
    from painpath.medication.domain.knowledge import load_knowledge

    med = load_knowledge().medicine("duloxetine")
    if med is None or med.withdrawal is None:
        return ()
    extra = next((r.terms for r in med.symptom_rules if r.id == "withdrawal"), ())
    return tuple(domain.withdrawal_terms(med.withdrawal.symptoms, extra))


def evaluate_patient_rules(db: Session, patient_id: uuid.UUID, now: datetime) -> list[Alert]:
    """Run every rule on one patient's recent data (call it when data arrives); the
    alerts raised now. Running it twice on the same data raises nothing new."""
    patient = repository.patient(db, patient_id)
    if patient is None:
        return []
    today = _local_today(patient.timezone, now)
    causes: list[domain.Cause] = []
    for response in repository.responses_since(db, patient.id, now - timedelta(LOOKBACK_DAYS)):
        causes += domain.questionnaire_causes(
            str(response.id), response.instrument, response.flags or []
        )
    reports = repository.side_effects_since(db, patient.id, today - timedelta(LOOKBACK_DAYS))
    for report in reports:
        cause = domain.side_effect_cause(str(report.id), report.symptom, report.triage_level)
        if cause:
            causes.append(cause)
    tapers = _taper_windows(db, patient.id)
    if tapers:
        causes += domain.withdrawal_during_taper(
            (domain.SymptomReport(str(r.id), r.symptom, r.severity, r.started_on) for r in reports),
            tapers,
            _withdrawal_terms(),
        )
    events = repository.dose_events_since(db, patient.id, now - timedelta(days=9))
    missed = domain.missed_doses(
        (
            domain.DoseObservation(
                _dose_day(e.scheduled_for, e.taken_at, patient.timezone), e.status
            )
            for e in events
        ),
        today,
    )
    if missed:
        causes.append(missed)
    causes += domain.overdue_follow_ups(
        (
            domain.FollowUpObservation(str(f.id), f.due, f.kind, f.status)
            for f in repository.follow_ups_scheduled(db, patient.id)
        ),
        today,
    )
    return raise_causes(db, patient.id, causes, now) + _non_response(db, patient, today, now)


def _taper_windows(db: Session, patient_id: uuid.UUID) -> list[domain.TaperWindow]:
    return [
        domain.TaperWindow(str(t.id), t.start, _last_step(t.steps, t.start))
        for t in repository.taper_plans(db, patient_id)
    ]


def check_withdrawal_in_taper(
    db: Session,
    patient_id: uuid.UUID,
    report: domain.SymptomReport,
    now: datetime,
) -> Alert | None:
    """For the medication area, when a side effect is reported: a withdrawal symptom that
    started during a taper (or its watch period) alerts the care team at once."""
    tapers = _taper_windows(db, patient_id)
    if not tapers:
        return None
    causes = domain.withdrawal_during_taper([report], tapers, _withdrawal_terms())
    raised = raise_causes(db, patient_id, causes, now)
    return raised[0] if raised else None


def _last_step(steps: list[dict[str, object]], default: date) -> date:
    starts: list[date] = []
    for step in steps or []:
        try:
            starts.append(date.fromisoformat(str(step.get("start"))))
        except ValueError:
            continue
    return max(starts, default=default)


def _non_response(db: Session, patient: Patient, today: date, now: datetime) -> list[Alert]:
    """Non-response at the planned review points, judged by the response area (one rule,
    one cause key per prescription and review point); the alerts raised just now."""
    from painpath.response.service import check_review_point

    raised: list[Alert] = []
    for prescription in repository.current_prescriptions(db, patient.id):
        if prescription.status != "active":
            continue
        before = {a.id for a in repository.for_rule(db, patient.id, "non-response")}
        alert = check_review_point(db, patient.id, prescription.id, today, now=now)
        if alert is not None and alert.id not in before:
            raised.append(alert)
    return raised


# The worker looks for non-response in courses started 8 to 26 weeks ago: the first review
# point is 8 weeks after the target dose is reached, the last 12 weeks after it (response
# service, reference §1.3 and §4); 26 weeks leaves 14 weeks for titration and for a worker
# that was down. A later course is judged at the clinician's review.
REVIEW_EARLIEST = timedelta(weeks=8)
REVIEW_LOOKBACK = timedelta(weeks=26)


def evaluate_scheduled_rules(db: Session, now: datetime) -> int:
    """Missed doses, overdue follow-ups and non-response at the review points for every
    patient (the reminders worker runs this); how many alerts were raised. Raised once
    per cause, however often it runs."""
    raised = 0
    by_patient: dict[uuid.UUID, list[domain.DoseObservation]] = defaultdict(list)
    zones: dict[uuid.UUID, str] = {}
    since = now - timedelta(days=domain.MISSED_DOSE_WINDOW_DAYS + 2)
    for pid, tz, event in repository.missed_dose_events_since(db, since):
        zones[pid] = tz
        by_patient[pid].append(
            domain.DoseObservation(_dose_day(event.scheduled_for, event.taken_at, tz), event.status)
        )
    for pid, observations in by_patient.items():
        cause = domain.missed_doses(observations, _local_today(zones[pid], now))
        if cause and raise_cause(db, pid, cause, now):
            raised += 1
    # Follow-ups due before the latest "today - grace" anywhere (+1 day for time zones).
    before = now.date() - timedelta(days=domain.FOLLOW_UP_GRACE_DAYS - 1)
    for tz, follow_up in repository.follow_ups_due_before(db, before):
        today = _local_today(tz, now)
        for cause in domain.overdue_follow_ups(
            [
                domain.FollowUpObservation(
                    str(follow_up.id), follow_up.due, follow_up.kind, follow_up.status
                )
            ],
            today,
        ):
            if raise_cause(db, follow_up.patient_id, cause, now):
                raised += 1
    # Non-response at the 8- and 12-week review points of the courses old enough to have one.
    first, last = now.date() - REVIEW_LOOKBACK, now.date() - REVIEW_EARLIEST
    for patient in repository.patients_with_active_courses_started_between(db, first, last):
        raised += len(_non_response(db, patient, _local_today(patient.timezone, now), now))
    return raised


# ---------------------------------------------------------------------- the inbox


def _read(alert: Alert, patient_name: str) -> AlertRead:
    return AlertRead(
        id=alert.id,
        patient_id=alert.patient_id,
        patient_name=patient_name,
        rule=alert.rule,
        urgency=alert.urgency,
        status=alert.status,
        summary=alert.summary,
        source=alert.source,
        created_at=alert.created_at,
        acknowledged_by=alert.acknowledged_by,
        acknowledged_at=alert.acknowledged_at,
        resolved_by=alert.resolved_by,
        resolved_at=alert.resolved_at,
        note=alert.note,
        version=alert.version,
    )


def _statuses(status: str) -> tuple[str, ...]:
    try:
        return STATUS_FILTERS[status]
    except KeyError:
        raise InvalidInput(
            f"status must be one of {', '.join(STATUS_FILTERS)}", field="status"
        ) from None


def _cursor(alert: Alert) -> str:
    return encode_cursor(
        f"{domain.urgency_rank(alert.urgency)}|{alert.created_at.isoformat()}|{alert.id}"
    )


def _after(cursor: str | None) -> tuple[int, datetime, uuid.UUID] | None:
    text = decode_cursor(cursor)
    if not text:
        return None
    try:
        rank, created, aid = text.split("|")
        return int(rank), datetime.fromisoformat(created), uuid.UUID(aid)
    except ValueError:
        raise InvalidInput("the cursor is not valid", field="cursor") from None


def list_alerts(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    *,
    status: str = "open",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[AlertRead]:
    """The alerts of the clinician's caseload: most urgent first, then the oldest."""
    if not actor.is_clinician or actor.clinician_id is None:
        audit.record(
            db,
            actor,
            action="list",
            resource_type=ALERT,
            outcome="denied",
            request_id=ctx.request_id,
            now=ctx.now,
            reason="only clinicians have an alert inbox",
        )
        raise Forbidden("only clinicians have an alert inbox")
    check_limit(limit)
    rows = repository.caseload_alerts(
        db, actor.clinician_id, _statuses(status), after=_after(cursor), limit=limit + 1
    )
    items = [_read(a, name) for a, name in rows[:limit]]
    nxt = _cursor(rows[limit - 1][0]) if len(rows) > limit else None
    for pid in dict.fromkeys(a.patient_id for a in items):
        audit.record(
            db,
            actor,
            action="list",
            resource_type=ALERT,
            patient_id=pid,
            request_id=ctx.request_id,
            now=ctx.now,
            reason=f"alert inbox ({status})",
        )
    if not items:
        audit.record(
            db,
            actor,
            action="list",
            resource_type=ALERT,
            request_id=ctx.request_id,
            now=ctx.now,
            reason=f"alert inbox ({status}): empty",
        )
    return Page(items=items, next_cursor=nxt)


def _clinician_only(db: Session, actor: Actor, patient: Patient, ctx: Ctx, action: str) -> None:
    if not actor.is_clinician:
        audit.record(
            db,
            actor,
            action=action,
            resource_type=ALERT,
            patient_id=patient.id,
            outcome="denied",
            request_id=ctx.request_id,
            now=ctx.now,
            reason="alerts are for the care team",
        )
        raise Forbidden("alerts are for the care team's clinicians")


def list_patient_alerts(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    *,
    status: str = "all",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[AlertRead]:
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=ALERT, action="list")
    _clinician_only(db, actor, patient, ctx, "list")
    check_limit(limit)
    rows = repository.patient_alerts(
        db, patient.id, _statuses(status), after=_after(cursor), limit=limit + 1
    )
    items = [_read(a, patient.name) for a in rows[:limit]]
    nxt = _cursor(rows[limit - 1]) if len(rows) > limit else None
    record_access(
        db, actor, patient, ctx, resource_type=ALERT, action="list", reason=f"{len(items)} alerts"
    )
    return Page(items=items, next_cursor=nxt)


def _visible_alert(db: Session, actor: Actor, ctx: Ctx, alert_id: uuid.UUID, action: str) -> Alert:
    alert = repository.alert(db, alert_id)
    allowed = (
        alert is not None
        and actor.is_clinician
        and actor.clinician_id is not None
        and repository.in_active_care_team(db, alert.patient_id, actor.clinician_id)
    )
    if alert is None or not allowed:
        audit.record(
            db,
            actor,
            action=action,
            resource_type=ALERT,
            resource_id=str(alert_id),
            outcome="denied",
            request_id=ctx.request_id,
            now=ctx.now,
            reason="not an alert of the actor's care teams",
        )
        raise NotFound(NO_ALERT)
    return alert


def get_alert(db: Session, actor: Actor, ctx: Ctx, alert_id: uuid.UUID) -> AlertRead:
    alert = _visible_alert(db, actor, ctx, alert_id, "read")
    patient = repository.patient(db, alert.patient_id)
    assert patient is not None  # noqa: S101 - the foreign key guarantees it
    record_access(
        db, actor, patient, ctx, resource_type=ALERT, action="read", resource_id=str(alert.id)
    )
    return _read(alert, patient.name)


def update_alert(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    alert_id: uuid.UUID,
    data: AlertUpdate,
    *,
    if_match: str | None = None,
) -> AlertRead:
    """Acknowledge or resolve an alert, with a note; If-Match is optional (stale → 412)."""
    alert = _visible_alert(db, actor, ctx, alert_id, "update")
    if if_match:
        check_if_match(if_match, alert.id, alert.version)
    problem = domain.check_transition(alert.status, data.status)
    if problem:
        raise Conflict(problem)
    # Compare-and-set: of two changes made from the same version, only one is applied.
    if not repository.claim_alert_version(db, alert.id, alert.version):
        if if_match:
            raise PreconditionFailed(
                "the alert was changed by someone else since you read it: reload it, check "
                "the change and try again"
            )
        raise Conflict("someone else changed this alert at the same moment: reload it and check")
    db.refresh(alert)
    if data.status == "acknowledged":
        alert.acknowledged_by, alert.acknowledged_at = actor.user_id, ctx.now
    else:
        alert.resolved_by, alert.resolved_at = actor.user_id, ctx.now
        if alert.acknowledged_at is None:
            alert.acknowledged_by, alert.acknowledged_at = actor.user_id, ctx.now
    note = (data.note or "").strip()
    if note:
        line = f"{data.status.capitalize()} by {actor.display_name}: {note}"
        alert.note = f"{alert.note}\n{line}" if alert.note else line
    alert.status = data.status
    db.flush()
    patient = repository.patient(db, alert.patient_id)
    assert patient is not None  # noqa: S101 - the foreign key guarantees it
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=ALERT,
        action="update",
        resource_id=str(alert.id),
        reason=f"status {data.status}",
    )
    return _read(alert, patient.name)


def rules() -> list[domain.Rule]:
    return list(domain.RULES.values())
