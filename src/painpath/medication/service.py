"""What people do with medicines: clinicians prescribe, change doses and plan tapers;
patients log doses, report side effects and ask for changes.

Every function authorises through care.service.authorize_patient and audits through
record_access; none commits (the request's unit of work does). The clinical decisions
are made by the pure core in ``medication.domain``; this module only gathers the
patient's recorded facts for it and keeps the results.

Safety rules kept here, each from the clinical reference:
- a blocking prescribing warning needs an ``override_reason``, which is recorded on the
  prescription and in the audit trail (reference §1.4, §1.5);
- a prescription is never stopped abruptly: stopping goes through a taper plan, or an
  override reason says why it cannot (SmPC 4.2, NICE NG215, reference §1.9);
- only prescribers change a dose; a patient's request never changes it by itself;
- urgent and emergency side effects, and a patient stopping on their own, alert the
  care team in the same transaction, once per report.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from painpath.alerts import domain as alerts_domain
from painpath.alerts.service import (
    check_withdrawal_in_taper,
    raise_alert,
    raise_cause,
    report_stopped_on_own,
)
from painpath.auth.domain import Actor
from painpath.auth.service import require_recent_reauth
from painpath.care.models import BloodPressureReading, Notification, OtherMedicine, Patient
from painpath.care.service import (
    authorize_patient,
    patient_today,
    plan_default_follow_ups,
    record_access,
)
from painpath.kit.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    Problem,
)
from painpath.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from painpath.kit.records import Ctx, body_hash, check_if_match, hold_id, is_replay
from painpath.medication import repository
from painpath.medication.domain.interactions import check_interactions
from painpath.medication.domain.knowledge import KnowledgeBase, MedicineKnowledge, load_knowledge
from painpath.medication.domain.missed_dose import MissedDoseAdvice, missed_dose_advice
from painpath.medication.domain.prescribing import (
    PrescribingWarning,
    check_prescription,
    find_medicine,
    guidance_for,
)
from painpath.medication.domain.schedule import (
    RecordedStep,
    Schedule,
    ScheduleHistory,
    apply_dose_changes,
    build_schedule,
    planned_dose,
    regimen_for,
    todays_dose,
)
from painpath.medication.domain.taper import TaperPlan as DomainTaperPlan
from painpath.medication.domain.taper import (
    TaperStep,
    TaperWarning,
    hold_step,
    plan_taper,
    slow_step,
)
from painpath.medication.domain.triage import LEVEL_RANK, Triage, triage
from painpath.medication.models import (
    DoseChangeRequest,
    DoseEvent,
    DoseStep,
    Prescription,
    SideEffectReport,
    TaperPlan,
    TaperPlanRevision,
)
from painpath.medication.schemas import (
    AdherenceRead,
    AdviceRead,
    BloodPressureCreate,
    BloodPressureRead,
    DoseChangeDecision,
    DoseChangeRead,
    DoseChangeRequestCreate,
    DoseChangeRequestRead,
    DoseEventCreate,
    DoseEventRead,
    MissedDoseAdviceRead,
    OtherMedicineCreate,
    OtherMedicineRead,
    PrescriptionCreate,
    PrescriptionRead,
    PrescriptionUpdate,
    ScheduleStepRead,
    SideEffectReportCreate,
    SideEffectReportRead,
    TaperPlanCreate,
    TaperPlanRead,
    TaperPlanUpdate,
    TaperRevisionRead,
    TaperStepRead,
    TriageRead,
    WarningRead,
)

CLINICIAN_ONLY = frozenset({"clinician"})
PATIENT_ONLY = frozenset({"patient"})
EVERYONE = frozenset({"patient", "clinician"})

PRESCRIPTION = "prescription"
DOSE_EVENT = "dose-event"
SIDE_EFFECT = "side-effect-report"
BLOOD_PRESSURE = "blood-pressure"
BP_ROWS_SHOWN = 20  # the clinician's medicine page: the latest readings
TAPER = "taper-plan"
REQUEST = "dose-change-request"
OTHER = "other-medicine"

DEFAULT_MEDICINE = "duloxetine"
DOSE_LOG_BACKFILL_DAYS = 7
CLOCK_SKEW = timedelta(minutes=5)
MAX_ADHERENCE_DAYS = 366
PATIENT_STOPPED = "patient-stopped"
DECISION_NOTIFICATION = "dose-change-decision"

EPISODE_CONDITIONS = {
    "chronic-low-back-pain": ("chronic low back pain",),
    "sciatica": ("sciatica",),
    "both": ("chronic low back pain", "sciatica"),
}
EPISODE_INDICATIONS = {
    "chronic-low-back-pain": "chronic low back pain",
    "sciatica": "sciatica",
    "both": "chronic low back pain with sciatica",
}

ABRUPT_STOP = (
    "never stop abruptly: stopping suddenly can cause withdrawal symptoms. Plan a taper "
    "(POST .../taper-plans), or, if it must stop at once for a clinical reason, send "
    "override_reason saying why (SmPC 4.2 'abrupt discontinuation should be avoided'; "
    "NICE NG215; reference §1.9)"
)
STOPPED_SOURCE = (
    "Duloxetine SmPC 4.2 (avoid abrupt discontinuation; resuming the previous dose may be "
    "considered) and 4.8 (withdrawal symptoms); NICE NG222 1.4.14-1.4.15 and 1.4.22; NICE "
    "NG215 (do not stop abruptly) (clinical reference §1.9)"
)


def _kb() -> KnowledgeBase:
    return load_knowledge()


# =========================================================== blocking warnings


class PrescribingBlocked(InvalidInput):
    """A prescription or change stopped by blocking warnings (422), each named."""

    def __init__(self, warnings: Sequence[PrescribingWarning], *, overridden: bool) -> None:
        self.warnings = list(warnings)
        final = [w for w in self.warnings if not w.overridable]
        codes = ", ".join(dict.fromkeys(w.code for w in self.warnings))
        problems = [
            Problem(_warning_field(w), f"{w.message} (source: {w.source})") for w in self.warnings
        ]
        if final:
            blocked = ", ".join(dict.fromkeys(w.code for w in final))
            message = (
                f"this cannot be prescribed ({codes}): "
                + " ".join(w.message for w in self.warnings)
                + f" An override reason cannot accept {blocked}: change the prescription."
            )
        else:
            message = (
                f"this needs the prescriber's decision ({codes}): "
                + " ".join(w.message for w in self.warnings)
                + " To go ahead anyway, send the same request again with override_reason "
                "saying why you accept these warnings; it is recorded and audited."
            )
            if not overridden:
                problems.append(
                    Problem(
                        "override_reason",
                        "required to accept these warnings: say why (recorded and audited)",
                    )
                )
        super().__init__(message, problems)


def _warning_field(w: PrescribingWarning) -> str:
    if w.code in ("above-maximum", "dose-not-achievable") or w.code.startswith("above-"):
        return "schedule"
    return "medicine"


def _screen(
    warnings: Sequence[PrescribingWarning], override_reason: str | None
) -> list[PrescribingWarning]:
    """The blocking warnings the override accepts; raises when they cannot be accepted."""
    blocking = [w for w in warnings if w.blocking]
    if any(not w.overridable for w in blocking):
        raise PrescribingBlocked(blocking, overridden=bool(override_reason))
    if blocking and not (override_reason and override_reason.strip()):
        raise PrescribingBlocked(blocking, overridden=False)
    return blocking


# ==================================================== the patient's recorded facts


@dataclass(frozen=True)
class _Facts:
    other_medicines: list[str]
    conditions: list[str]


def _episode_conditions(db: Session, patient: Patient) -> list[str]:
    episode = repository.active_episode(db, patient.id)
    if episode is None:
        return []
    return list(EPISODE_CONDITIONS.get(episode.condition, (episode.condition,)))


def _default_indication(db: Session, patient: Patient) -> str | None:
    episode = repository.active_episode(db, patient.id)
    if episode is None:
        return None
    return EPISODE_INDICATIONS.get(episode.condition, episode.condition)


def _facts(
    db: Session,
    patient: Patient,
    today: date,
    *,
    indication: str | None,
    exclude: uuid.UUID | None = None,
) -> _Facts:
    others = [m.name for m in repository.current_other_medicines(db, patient.id, today)]
    others += [
        rx.medicine for rx in repository.live_prescriptions(db, patient.id) if rx.id != exclude
    ]
    conditions = [
        *patient.conditions,
        *_episode_conditions(db, patient),
        *_indication_conditions(indication),
    ]
    return _Facts(others, list(dict.fromkeys(c for c in conditions if c.strip())))


def _check(
    medicine: str,
    schedule: Schedule,
    patient: Patient,
    facts: _Facts,
    *,
    initiating: bool,
) -> list[PrescribingWarning]:
    return check_prescription(
        medicine,
        schedule,
        facts.other_medicines,
        facts.conditions,
        patient.renal_crcl_ml_min,
        patient.hepatic_impairment,
        patient.bp_uncontrolled,
        initiating=initiating,
    )


def _indication_conditions(indication: str | None) -> list[str]:
    if not indication:
        return []
    for key, terms in EPISODE_CONDITIONS.items():
        if indication in (key, EPISODE_INDICATIONS[key]):
            return list(terms)
    return [indication]


# ================================================================ prescriptions


def _history(steps: Sequence[DoseStep]) -> ScheduleHistory:
    return apply_dose_changes(
        [RecordedStep(s.start, Decimal(s.daily_dose_mg), s.created_at) for s in steps]
    )


def _planned(history: ScheduleHistory, on: date) -> Decimal:
    return planned_dose(history.schedule, on) if history.schedule else Decimal(0)


def _warning_read(raw: dict[str, Any]) -> WarningRead:
    return WarningRead.model_validate(raw)


def _prescription_read(
    rx: Prescription,
    steps: Sequence[DoseStep],
    names: dict[uuid.UUID, str],
    today: date,
) -> PrescriptionRead:
    history = _history(steps)
    notes = guidance_for(rx.medicine, _indication_conditions(rx.indication))
    return PrescriptionRead(
        id=rx.id,
        patient_id=rx.patient_id,
        prescriber_id=rx.prescriber_id,
        medicine=rx.medicine,
        status=rx.status,
        indication=rx.indication,
        off_label=rx.off_label,
        off_label_notes=[WarningRead.model_validate(w.to_dict()) for w in notes],
        override_reason=rx.override_reason,
        warnings_accepted=[_warning_read(w) for w in rx.warnings_accepted or []],
        dose_times=list(rx.dose_times or []),
        stopped_on=rx.stopped_on,
        schedule=[
            ScheduleStepRead(start=s.start, daily_dose_mg=s.daily_dose_mg)
            for s in (history.schedule.steps if history.schedule else ())
        ],
        dose_changes=[
            DoseChangeRead(
                start=s.start,
                daily_dose_mg=s.daily_dose_mg,
                reason=s.reason,
                changed_by=s.changed_by,
                changed_by_name=names.get(s.changed_by) if s.changed_by else None,
                recorded_at=s.created_at,
                superseded=i in history.superseded,
            )
            for i, s in enumerate(steps)
        ],
        current_daily_dose_mg=_planned(history, today),
        version=rx.version,
        created_at=rx.created_at,
        updated_at=rx.updated_at,
    )


def _read_prescriptions(
    db: Session, patient: Patient, ctx: Ctx, rows: Sequence[Prescription]
) -> list[PrescriptionRead]:
    steps = repository.dose_steps(db, [r.id for r in rows])
    names = repository.user_names(db, (s.changed_by for ss in steps.values() for s in ss))
    today = patient_today(patient, ctx)
    return [_prescription_read(r, steps[r.id], names, today) for r in rows]


def _own_prescription(
    db: Session, patient: Patient, prescription_id: uuid.UUID, *, field: str | None = None
) -> Prescription:
    rx = repository.prescription(db, prescription_id)
    if rx is None or rx.patient_id != patient.id:
        if field:
            raise InvalidInput("no such prescription for this patient", field=field)
        raise NotFound("no such prescription")
    return rx


def _steps_of(db: Session, rx: Prescription) -> list[DoseStep]:
    return repository.dose_steps(db, [rx.id])[rx.id]


def preview_prescription(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    medicine: str,
    schedule: Sequence[tuple[date, Decimal]],
    indication: str | None = None,
) -> list[PrescribingWarning]:
    """The warnings prescribing this would give, without storing anything (clinicians)."""
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=PRESCRIPTION, action="read"
    )
    today = patient_today(patient, ctx)
    facts = _facts(db, patient, today, indication=indication)
    med = find_medicine(medicine, _kb())
    return _check(med.name, build_schedule(schedule), patient, facts, initiating=True)


def prescribing_context(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID
) -> dict[str, Any]:
    """What the prescribing form shows: the patient, recorded facts and default titration."""
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=PRESCRIPTION, action="read"
    )
    today = patient_today(patient, ctx)
    kb = _kb()
    indication = _default_indication(db, patient)
    titration: list[tuple[date, Decimal]] = []
    text = ""
    med = kb.medicine(DEFAULT_MEDICINE)
    if med is not None and med.titrations:
        t = med.titrations[0]
        titration = [(today + timedelta(days=s.day), s.daily_dose_mg) for s in t.steps]
        text = f"{t.text} (source: {t.source})"
    record_access(
        db, actor, patient, ctx, resource_type=PRESCRIPTION, action="read", reason="prescribing"
    )
    return {
        "patient": patient,
        "today": today,
        "indication": indication,
        "medicines": [m.name for m in kb.medicines if m.compiled],
        "titration": titration,
        "titration_text": text,
        "other_medicines": [
            m.name for m in repository.current_other_medicines(db, patient.id, today)
        ],
        "conditions": [*patient.conditions, *_episode_conditions(db, patient)],
        "live_prescriptions": [rx.medicine for rx in repository.live_prescriptions(db, patient.id)],
    }


def create_prescription(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, data: PrescriptionCreate
) -> tuple[PrescriptionRead, bool]:
    """Prescribe (clinicians): checked against maximum dose, contraindications,
    interactions, duplicates and recorded renal, liver and blood-pressure facts."""
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=PRESCRIPTION,
        action="create",
        writers=CLINICIAN_ONLY,
    )
    # planning follow-ups is not part of the prescription itself: a retry that differs
    # only there is the same prescription
    digest = body_hash(data.model_dump(mode="json", exclude={"plan_follow_ups"}))
    existing = repository.prescription(db, data.id)
    if existing is not None and is_replay(existing, patient.id, digest):
        return _read_prescriptions(db, patient, ctx, [existing])[0], False
    med = find_medicine(data.medicine, _kb())
    schedule = build_schedule((s.start, s.daily_dose_mg) for s in data.schedule)
    today = patient_today(patient, ctx)
    indication = data.indication or _default_indication(db, patient)
    facts = _facts(db, patient, today, indication=indication)
    warnings = _check(med.name, schedule, patient, facts, initiating=True)
    accepted = _screen(warnings, data.override_reason)
    stops = any(s.daily_dose_mg == 0 for s in schedule.steps)
    if stops and not (data.override_reason and data.override_reason.strip()):
        raise InvalidInput(ABRUPT_STOP, field="schedule")
    if actor.clinician_id is None:
        raise InvalidInput("only a clinician with a clinician record can prescribe", field="id")
    off_label = any(w.code == "off-label" for w in warnings) or indication is None
    rx = Prescription(
        id=data.id,
        patient_id=patient.id,
        prescriber_id=actor.clinician_id,
        episode_id=_episode_id(db, patient),
        medicine=med.name,
        status="active",
        off_label=off_label,
        indication=indication,
        override_reason=data.override_reason,
        warnings_accepted=[w.to_dict() for w in warnings],
        dose_times=list(data.dose_times),
        version=1,
        body_hash=digest,
        created_by=actor.user_id,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    db.add(rx)
    db.flush()
    n = len(schedule.steps)
    for i, step in enumerate(schedule.steps):
        db.add(
            DoseStep(
                prescription_id=rx.id,
                start=step.start,
                daily_dose_mg=step.daily_dose_mg,
                reason="prescribed" if n == 1 else f"prescribed: titration step {i + 1} of {n}",
                changed_by=actor.user_id,
                created_at=ctx.now,
            )
        )
    db.flush()
    planned = ""
    if data.plan_follow_ups:
        first = schedule.steps[0].start
        follow_ups = plan_default_follow_ups(db, actor, ctx, patient, first)
        planned = f"{len(follow_ups)} default follow-ups planned from {first.isoformat()}"
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=PRESCRIPTION,
        action="create",
        resource_id=str(rx.id),
        reason=planned or None,
    )
    if accepted:
        _audit_override(db, actor, patient, ctx, rx.id, accepted, data.override_reason or "")
    if stops:
        record_access(
            db,
            actor,
            patient,
            ctx,
            resource_type=PRESCRIPTION,
            action="override",
            resource_id=str(rx.id),
            reason=f"schedule stops without a taper plan: {data.override_reason}"[:2000],
        )
    return _read_prescriptions(db, patient, ctx, [rx])[0], True


def _episode_id(db: Session, patient: Patient) -> uuid.UUID | None:
    episode = repository.active_episode(db, patient.id)
    return episode.id if episode else None


def _audit_override(
    db: Session,
    actor: Actor,
    patient: Patient,
    ctx: Ctx,
    prescription_id: uuid.UUID,
    accepted: Sequence[PrescribingWarning],
    reason: str,
) -> None:
    codes = ", ".join(dict.fromkeys(w.code for w in accepted))
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=PRESCRIPTION,
        action="override",
        resource_id=str(prescription_id),
        reason=f"accepted {codes}: {reason}"[:2000],
    )


def get_prescription(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, prescription_id: uuid.UUID
) -> PrescriptionRead:
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=PRESCRIPTION,
        action="read",
        resource_id=str(prescription_id),
    )
    rx = _own_prescription(db, patient, prescription_id)
    record_access(
        db, actor, patient, ctx, resource_type=PRESCRIPTION, action="read", resource_id=str(rx.id)
    )
    return _read_prescriptions(db, patient, ctx, [rx])[0]


def list_prescriptions(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    *,
    cursor: str | None,
    limit: int,
) -> Page[PrescriptionRead]:
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=PRESCRIPTION, action="list"
    )
    check_limit(limit)
    rows = repository.prescriptions(db, patient.id, after=_keyset(cursor), limit=limit + 1)
    items = _read_prescriptions(db, patient, ctx, rows[:limit])
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=PRESCRIPTION,
        action="list",
        reason=f"{len(items)} prescriptions",
    )
    return Page(items=items, next_cursor=_next_keyset(rows, limit))


def update_prescription(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    prescription_id: uuid.UUID,
    data: PrescriptionUpdate,
    if_match: str | None,
) -> PrescriptionRead:
    """Change the schedule (from today on), the dose times or the status (clinicians).

    A new schedule adds dose steps with the reason and the prescriber; nothing planned
    for an earlier date is rewritten. Stopping needs a finished taper or an override.
    """
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=PRESCRIPTION,
        action="update",
        writers=CLINICIAN_ONLY,
        resource_id=str(prescription_id),
    )
    rx = _own_prescription(db, patient, prescription_id)
    check_if_match(if_match, rx.id, rx.version)
    changes = data.model_dump(exclude_unset=True)
    if all(changes.get(k) is None for k in ("schedule", "status", "dose_times")):
        raise InvalidInput("send at least one change: schedule, status or dose_times", field="body")
    if changes.get("schedule") is not None or changes.get("status") is not None:
        require_recent_reauth(db, actor, ctx.now)  # a dose change: password and code again
    if not repository.claim_prescription_version(db, rx.id, rx.version, ctx.now):
        raise PreconditionFailed(
            "the prescription was changed by someone else since you read it: reload it, check "
            "the change and try again"
        )
    db.refresh(rx)
    if rx.status == "stopped":
        raise InvalidInput(
            "this prescription has been stopped; write a new prescription to start again",
            field="status",
        )
    today = patient_today(patient, ctx)
    reason = (data.reason or "").strip()
    override = (data.override_reason or "").strip() or None
    notes: list[str] = []
    if data.schedule is not None:
        if not reason:
            raise InvalidInput("say why the dose changes", field="reason")
        new = build_schedule((s.start, s.daily_dose_mg) for s in data.schedule)
        if new.steps[0].start < today:
            raise InvalidInput(
                f"a change takes effect from today ({today.isoformat()}) or later: doses planned "
                "for earlier dates are never rewritten",
                field="schedule[0].start",
            )
        if any(s.daily_dose_mg == 0 for s in new.steps) and not override:
            raise InvalidInput(ABRUPT_STOP, field="schedule")
        facts = _facts(db, patient, today, indication=None, exclude=rx.id)
        warnings = _check(rx.medicine, new, patient, facts, initiating=False)
        accepted = _screen(warnings, override)
        for step in new.steps:
            db.add(
                DoseStep(
                    prescription_id=rx.id,
                    start=step.start,
                    daily_dose_mg=step.daily_dose_mg,
                    reason=reason,
                    changed_by=actor.user_id,
                    created_at=ctx.now,
                )
            )
        if accepted:
            rx.warnings_accepted = [
                *(rx.warnings_accepted or []),
                *({**w.to_dict(), "accepted_on": today.isoformat()} for w in accepted),
            ]
            rx.override_reason = override
            _audit_override(db, actor, patient, ctx, rx.id, accepted, override or "")
        plan = repository.active_taper_plan(db, rx.id)
        if plan is not None:
            _end_plan(db, actor, ctx, plan, "replaced", f"dose changed instead: {reason}")
            notes.append("taper plan replaced")
        if rx.status == "tapering":
            rx.status = "active"
    if data.status == "active" and rx.status == "tapering":
        raise InvalidInput(
            "to stop tapering and carry on, send the new schedule (from today) with a reason",
            field="schedule",
        )
    if data.status == "stopped":
        _stop(db, actor, ctx, patient, rx, today, override, reason)
    if data.dose_times is not None:
        rx.dose_times = list(data.dose_times)
    rx.updated_at = ctx.now
    db.flush()
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=PRESCRIPTION,
        action="update",
        resource_id=str(rx.id),
        reason=", ".join([*sorted(changes), *notes])[:2000],
    )
    return _read_prescriptions(db, patient, ctx, [rx])[0]


def _stop(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient: Patient,
    rx: Prescription,
    today: date,
    override: str | None,
    reason: str,
) -> None:
    db.flush()
    history = _history(_steps_of(db, rx))
    later = [s for s in (history.schedule.steps if history.schedule else ()) if s.start > today]
    finished = _planned(history, today) == 0 and all(s.daily_dose_mg == 0 for s in later)
    if not finished:
        if not override:
            raise InvalidInput(ABRUPT_STOP, field="status")
        db.add(
            DoseStep(
                prescription_id=rx.id,
                start=today,
                daily_dose_mg=Decimal(0),
                reason=f"stopped without a taper: {override}",
                changed_by=actor.user_id,
                created_at=ctx.now,
            )
        )
        rx.override_reason = override
        record_access(
            db,
            actor,
            patient,
            ctx,
            resource_type=PRESCRIPTION,
            action="override",
            resource_id=str(rx.id),
            reason=f"stopped without a taper: {override}"[:2000],
        )
    plan = repository.active_taper_plan(db, rx.id)
    if plan is not None:
        _end_plan(
            db,
            actor,
            ctx,
            plan,
            "completed" if finished else "stopped",
            reason or ("taper finished" if finished else f"stopped: {override}"),
        )
    rx.status = "stopped"
    rx.stopped_on = today


# ================================================================== dose events


def _tz(patient: Patient) -> ZoneInfo:
    return ZoneInfo(patient.timezone)


def _pick_prescription(
    db: Session, patient: Patient, day: date, prescription_id: uuid.UUID | None
) -> tuple[Prescription, Decimal]:
    if prescription_id is not None:
        rx = _own_prescription(db, patient, prescription_id, field="prescription_id")
        return rx, _planned(_history(_steps_of(db, rx)), day)
    live = repository.live_prescriptions(db, patient.id)
    steps = repository.dose_steps(db, [r.id for r in live])
    for rx in live:
        dose = _planned(_history(steps[rx.id]), day)
        if dose > 0:
            return rx, dose
    if live:
        return live[0], Decimal(0)
    raise InvalidInput(
        "there is no prescription to log this dose against: ask your care team",
        field="prescription_id",
    )


def _missed_advice(
    med: MedicineKnowledge | None,
    rx: Prescription | None,
    dose: Decimal | None,
    scheduled_for: date | None,
    at: datetime,
    tz: ZoneInfo,
) -> MissedDoseAdvice | None:
    if med is None or rx is None:
        return None
    regimen = regimen_for(med, dose) if dose else None
    per_day = regimen.times_per_day if regimen else 1
    hours: Decimal | None = None
    local = at.astimezone(tz)
    times = list(rx.dose_times or [])
    if per_day == 1 and len(times) == 1 and scheduled_for == local.date():
        hh, mm = (int(p) for p in times[0].split(":"))
        due = datetime.combine(local.date(), time(hh, mm), tzinfo=tz)
        if due <= local:
            due = datetime.combine(local.date() + timedelta(days=1), time(hh, mm), tzinfo=tz)
        minutes = int((due - local).total_seconds() // 60)
        hours = (Decimal(minutes) / 60).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    try:
        return missed_dose_advice(med, per_day, hours)
    except InvalidInput:
        return None


def _dose_event_read(
    event: DoseEvent, patient: Patient, rx: Prescription | None, *, with_advice: bool
) -> DoseEventRead:
    advice = None
    if with_advice and event.status == "missed" and rx is not None:
        med = _kb().medicine(rx.medicine)
        found = _missed_advice(
            med, rx, event.dose_mg, event.scheduled_for, event.created_at, _tz(patient)
        )
        if found is not None:
            advice = MissedDoseAdviceRead(**found.to_dict())
    return DoseEventRead(
        id=event.id,
        patient_id=event.patient_id,
        prescription_id=event.prescription_id,
        status=event.status,
        taken_at=event.taken_at,
        dose_mg=event.dose_mg,
        scheduled_for=event.scheduled_for,
        created_at=event.created_at,
        missed_dose_advice=advice,
    )


def create_dose_event(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, data: DoseEventCreate
) -> tuple[DoseEventRead, bool]:
    """Log a dose as taken, missed or late (patients); a missed dose gets the advice."""
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=DOSE_EVENT,
        action="create",
        writers=PATIENT_ONLY,
    )
    digest = body_hash(data.model_dump(mode="json"))
    hold_id(db, data.id)
    existing = repository.dose_event(db, data.id)
    if existing is not None and is_replay(existing, patient.id, digest):
        rx_old = (
            repository.prescription(db, existing.prescription_id)
            if existing.prescription_id
            else None
        )
        return _dose_event_read(existing, patient, rx_old, with_advice=True), False
    if data.taken_at > ctx.now + CLOCK_SKEW:
        raise InvalidInput(
            "the time is in the future: log a dose when it happens", field="taken_at"
        )
    if data.taken_at < ctx.now - timedelta(days=DOSE_LOG_BACKFILL_DAYS):
        raise InvalidInput(
            f"doses can be logged for the last {DOSE_LOG_BACKFILL_DAYS} days only",
            field="taken_at",
        )
    day = data.taken_at.astimezone(_tz(patient)).date()
    rx, dose = _pick_prescription(db, patient, day, data.prescription_id)
    event = DoseEvent(
        id=data.id,
        patient_id=patient.id,
        prescription_id=rx.id,
        status=data.status,
        taken_at=data.taken_at,
        dose_mg=dose if dose > 0 else None,
        scheduled_for=day,
        body_hash=digest,
        created_by=actor.user_id,
        created_at=ctx.now,
    )
    db.add(event)
    db.flush()
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=DOSE_EVENT,
        action="create",
        resource_id=str(event.id),
        reason=data.status,
    )
    return _dose_event_read(event, patient, rx, with_advice=True), True


def get_dose_event(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, event_id: uuid.UUID
) -> DoseEventRead:
    """One logged dose, with the missed-dose advice when it was missed."""
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=DOSE_EVENT,
        action="read",
        resource_id=str(event_id),
    )
    event = repository.dose_event(db, event_id)
    if event is None or event.patient_id != patient.id:
        raise NotFound("no such dose event")
    rx = repository.prescription(db, event.prescription_id) if event.prescription_id else None
    record_access(
        db, actor, patient, ctx, resource_type=DOSE_EVENT, action="read", resource_id=str(event.id)
    )
    return _dose_event_read(event, patient, rx, with_advice=True)


def list_dose_events(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    *,
    start: date | None,
    end: date | None,
    cursor: str | None,
    limit: int,
) -> Page[DoseEventRead]:
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=DOSE_EVENT, action="list")
    check_limit(limit)
    _check_range(start, end)
    tz = _tz(patient)
    rows = repository.dose_events(
        db,
        patient.id,
        start=_local_midnight(start, tz) if start else None,
        end=_local_midnight(end + timedelta(days=1), tz) if end else None,
        after=_time_keyset(cursor),
        limit=limit + 1,
    )
    items = [_dose_event_read(r, patient, None, with_advice=False) for r in rows[:limit]]
    nxt = None
    if len(rows) > limit:
        last = rows[limit - 1]
        nxt = encode_cursor(f"{last.taken_at.isoformat()}|{last.id}")
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=DOSE_EVENT,
        action="list",
        reason=f"{len(items)} dose events",
    )
    return Page(items=items, next_cursor=nxt)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def _event_day(event: DoseEvent, tz: ZoneInfo) -> date:
    return event.scheduled_for or event.taken_at.astimezone(tz).date()


ADHERENCE_METHOD = (
    "proportion of days covered: days with a dose logged as taken or late, divided by the "
    "days on which a dose was planned"
)


def adherence(db: Session, patient_id: uuid.UUID, start: date, end: date) -> dict[str, Any]:
    """Proportion of days covered (PDC) from ``start`` to ``end`` (both included).

    For other services: no authorisation here, the caller has done it. A day counts
    when any prescription plans a dose above 0 mg; it is covered when a dose was logged
    as taken or late for that day. ``proportion`` is None when no dose was planned.
    """
    if end < start:
        raise InvalidInput("'from' must be on or before 'to'", field="from")
    if (end - start).days >= MAX_ADHERENCE_DAYS:
        raise InvalidInput(f"ask for at most {MAX_ADHERENCE_DAYS} days", field="from")
    patient = repository.patient(db, patient_id)
    if patient is None:
        raise NotFound("no such patient")
    tz = _tz(patient)
    rxs = repository.all_prescriptions(db, patient.id)
    steps = repository.dose_steps(db, [r.id for r in rxs])
    histories = [_history(steps[r.id]) for r in rxs]
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    planned = {d for d in days if any(_planned(h, d) > 0 for h in histories)}
    events = repository.dose_events_between(
        db,
        patient.id,
        _local_midnight(start - timedelta(days=1), tz),
        _local_midnight(end + timedelta(days=2), tz),
    )
    covered = {_event_day(e, tz) for e in events if e.status in ("taken", "late")} & planned
    missed = ({_event_day(e, tz) for e in events if e.status == "missed"} & planned) - covered
    proportion = round(len(covered) / len(planned), 3) if planned else None
    return {
        "start": start,
        "end": end,
        "days_planned": len(planned),
        "days_covered": len(covered),
        "days_missed": len(missed),
        "proportion": proportion,
        "percent": round(100 * len(covered) / len(planned)) if planned else None,
        "method": ADHERENCE_METHOD,
    }


def get_adherence(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    *,
    start: date | None,
    end: date | None,
) -> AdherenceRead:
    """Adherence for the patient or their care team; default the 28 days to yesterday."""
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=DOSE_EVENT, action="read")
    today = patient_today(patient, ctx)
    end = end or today - timedelta(days=1)
    start = start or end - timedelta(days=27)
    result = adherence(db, patient.id, start, end)
    record_access(
        db, actor, patient, ctx, resource_type=DOSE_EVENT, action="read", reason="adherence"
    )
    return AdherenceRead(**result)


def todays_doses(db: Session, patient_id: uuid.UUID, on: date) -> list[dict[str, Any]]:
    """What the patient should take on ``on`` (their local date), for the Today page and
    reminders: one dict per prescription being taken or tapered. No authorisation here.

    Keys: prescription_id, medicine, display_name, status, daily_dose_mg (Decimal),
    instructions (plain words), times_per_day, dose_times, logged (bool), events
    ([{id, status, taken_at}]), taper_step (None or {start, end, daily_dose_mg,
    instructions}), taper_plan_id.
    """
    patient = repository.patient(db, patient_id)
    if patient is None:
        raise NotFound("no such patient")
    tz = _tz(patient)
    live = repository.live_prescriptions(db, patient.id)
    steps = repository.dose_steps(db, [r.id for r in live])
    events = repository.dose_events_between(
        db,
        patient.id,
        _local_midnight(on - timedelta(days=1), tz),
        _local_midnight(on + timedelta(days=2), tz),
    )
    plans = repository.active_taper_plans(db, [r.id for r in live])
    kb = _kb()
    out: list[dict[str, Any]] = []
    for rx in live:
        history = _history(steps[rx.id])
        med = kb.medicine(rx.medicine)
        plan = plans.get(rx.id)
        step = _current_taper_step(plan, on) if plan else None
        dose = _planned(history, on)
        if dose == 0 and step is None:
            continue
        day = (
            todays_dose(history.schedule, on, med) if med is not None and history.schedule else None
        )
        mine = [e for e in events if e.prescription_id == rx.id and _event_day(e, tz) == on]
        out.append(
            {
                "prescription_id": rx.id,
                "medicine": rx.medicine,
                "display_name": med.display_name if med else rx.medicine,
                "status": rx.status,
                "daily_dose_mg": dose,
                "instructions": day.instructions if day else "",
                "times_per_day": day.regimen.times_per_day if day and day.regimen else 0,
                "dose_times": list(rx.dose_times or []),
                "logged": bool(mine),
                "events": [{"id": e.id, "status": e.status, "taken_at": e.taken_at} for e in mine],
                "taper_step": step.model_dump() if step else None,
                "taper_plan_id": plan.id if plan else None,
            }
        )
    return out


# ========================================================== side-effect reports


def _medicine_for(db: Session, patient: Patient, rx: Prescription | None) -> str:
    if rx is not None:
        return rx.medicine
    live = repository.live_prescriptions(db, patient.id)
    return live[0].medicine if live else DEFAULT_MEDICINE


def _triage(symptom: str, description: str | None, severity: str, medicine: str) -> Triage:
    result = triage(symptom, severity, medicine)
    if description and description.strip():
        other = triage(description, severity, medicine)
        matched = other.pathway != "unrecognised"
        if matched and LEVEL_RANK[other.level] > LEVEL_RANK[result.level]:
            result = other
    return result


def _report_read(report: SideEffectReport, medicine: str) -> SideEffectReportRead:
    source = None
    try:
        again = _triage(report.symptom, report.description, report.severity, medicine)
        if again.level == report.triage_level and again.advice == report.triage_advice:
            source = again.source
    except InvalidInput:
        source = None
    return SideEffectReportRead(
        id=report.id,
        patient_id=report.patient_id,
        prescription_id=report.prescription_id,
        symptom=report.symptom,
        description=report.description,
        severity=report.severity,
        started_on=report.started_on,
        triage=TriageRead(
            level=report.triage_level,
            advice=report.triage_advice,
            pathway=report.pathway,
            source=source,
        ),
        care_team_alerted=LEVEL_RANK.get(report.triage_level, 0) >= LEVEL_RANK["urgent"],
        created_at=report.created_at,
    )


def side_effect_symptoms(medicine: str = DEFAULT_MEDICINE) -> list[str]:
    """The side effects a patient can pick from (the medicine's list), by name."""
    med = _kb().medicine(medicine)
    if med is None:
        return []
    return sorted({e.name for e in med.adverse_effects})


def create_side_effect_report(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, data: SideEffectReportCreate
) -> tuple[SideEffectReportRead, bool]:
    """Report a side effect (patients): triaged at once; urgent and emergency reports
    alert the care team in the same transaction (once per report)."""
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=SIDE_EFFECT,
        action="create",
        writers=PATIENT_ONLY,
    )
    digest = body_hash(data.model_dump(mode="json"))
    existing = repository.side_effect_report(db, data.id)
    if existing is not None and is_replay(existing, patient.id, digest):
        rx_old = (
            repository.prescription(db, existing.prescription_id)
            if existing.prescription_id
            else None
        )
        return _report_read(existing, _medicine_for(db, patient, rx_old)), False
    if data.started_on > patient_today(patient, ctx):
        raise InvalidInput("the start date is in the future", field="started_on")
    rx = (
        _own_prescription(db, patient, data.prescription_id, field="prescription_id")
        if data.prescription_id
        else None
    )
    if rx is None:
        live = repository.live_prescriptions(db, patient.id)
        rx = live[0] if live else None
    medicine = _medicine_for(db, patient, rx)
    result = _triage(data.symptom, data.description, data.severity, medicine)
    report = SideEffectReport(
        id=data.id,
        patient_id=patient.id,
        prescription_id=rx.id if rx else None,
        symptom=data.symptom,
        description=data.description,
        severity=data.severity,
        started_on=data.started_on,
        triage_level=result.level,
        triage_advice=result.advice,
        pathway=result.pathway,
        body_hash=digest,
        created_by=actor.user_id,
        created_at=ctx.now,
    )
    db.add(report)
    db.flush()
    cause = alerts_domain.side_effect_cause(str(report.id), data.symptom, result.level)
    if cause is not None:
        raise_cause(db, patient.id, cause, ctx.now)
    check_withdrawal_in_taper(
        db,
        patient.id,
        alerts_domain.SymptomReport(str(report.id), data.symptom, data.severity, data.started_on),
        ctx.now,
    )
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=SIDE_EFFECT,
        action="create",
        resource_id=str(report.id),
        reason=f"triage {result.level}",
    )
    return _report_read(report, medicine), True


def list_side_effect_reports(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    *,
    start: date | None,
    end: date | None,
    cursor: str | None,
    limit: int,
) -> Page[SideEffectReportRead]:
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=SIDE_EFFECT, action="list"
    )
    check_limit(limit)
    _check_range(start, end)
    rows = repository.side_effect_reports(
        db, patient.id, start=start, end=end, after=_keyset(cursor), limit=limit + 1
    )
    medicines = repository.medicines_of(db, (r.prescription_id for r in rows))
    items = [
        _report_read(
            r,
            medicines.get(r.prescription_id, DEFAULT_MEDICINE)
            if r.prescription_id
            else DEFAULT_MEDICINE,
        )
        for r in rows[:limit]
    ]
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=SIDE_EFFECT,
        action="list",
        reason=f"{len(items)} reports",
    )
    return Page(items=items, next_cursor=_next_keyset(rows, limit))


# ================================================================== taper plans


def _stored_steps(plan: TaperPlan) -> list[TaperStepRead]:
    return _steps_from(plan.steps or [])


def _steps_from(stored: Sequence[dict[str, Any]]) -> list[TaperStepRead]:
    """Stored taper steps; older plans may lack ``end`` or ``instructions``."""
    raw = sorted(stored, key=lambda s: str(s.get("start")))
    out: list[TaperStepRead] = []
    for i, step in enumerate(raw):
        start = date.fromisoformat(str(step["start"]))
        end = step.get("end")
        if end is None and i + 1 < len(raw):
            end = date.fromisoformat(str(raw[i + 1]["start"])) - timedelta(days=1)
        out.append(
            TaperStepRead(
                start=start,
                end=date.fromisoformat(str(end)) if isinstance(end, str) else end,
                daily_dose_mg=Decimal(str(step["daily_dose_mg"])),
                instructions=step.get("instructions") or step.get("reason"),
            )
        )
    return out


def _current_taper_step(plan: TaperPlan, on: date) -> TaperStepRead | None:
    steps = _stored_steps(plan)
    for step in steps:
        if step.start <= on and (step.end is None or on <= step.end):
            return step
    return None


def _taper_read(
    plan: TaperPlan, medicine: str, revisions: Sequence[TaperPlanRevision] = ()
) -> TaperPlanRead:
    med = _kb().medicine(medicine)
    symptoms = list(med.withdrawal.symptoms) if med and med.withdrawal else []
    return TaperPlanRead(
        id=plan.id,
        patient_id=plan.patient_id,
        prescription_id=plan.prescription_id,
        medicine=medicine,
        start=plan.start,
        weeks=plan.weeks,
        status=plan.status,
        steps=_stored_steps(plan),
        warnings=list(plan.warnings or []),
        withdrawal_symptoms=symptoms,
        note=plan.note,
        version=plan.version,
        created_at=plan.created_at,
        updated_at=plan.updated_at,
        revisions=[
            TaperRevisionRead(
                version=r.version,
                status=r.status,
                reason=r.reason,
                changed_by=r.changed_by,
                changed_at=r.changed_at,
                steps=_steps_from(r.steps or []),
            )
            for r in revisions
        ],
    )


def _revision(
    db: Session, plan: TaperPlan, actor: Actor, ctx: Ctx, reason: str | None
) -> TaperPlanRevision:
    revision = TaperPlanRevision(
        taper_plan_id=plan.id,
        version=plan.version,
        status=plan.status,
        steps=list(plan.steps or []),
        reason=reason,
        changed_by=actor.user_id,
        changed_at=ctx.now,
    )
    db.add(revision)
    return revision


def _end_plan(
    db: Session, actor: Actor, ctx: Ctx, plan: TaperPlan, status: str, reason: str
) -> None:
    if not repository.claim_taper_version(db, plan.id, plan.version, ctx.now):
        raise PreconditionFailed(
            "the taper plan was changed by someone else at the same moment: reload and try again"
        )
    db.refresh(plan)
    plan.status = status
    _revision(db, plan, actor, ctx, reason)


def _claim_prescription(db: Session, rx: Prescription, ctx: Ctx) -> None:
    if not repository.claim_prescription_version(db, rx.id, rx.version, ctx.now):
        raise Conflict(
            "the prescription was changed by someone else at the same moment: reload it and "
            "try again"
        )
    db.refresh(rx)


def _add_taper_steps(
    db: Session,
    rx: Prescription,
    steps: Sequence[TaperStep],
    *,
    from_date: date,
    reason: str,
    actor: Actor,
    ctx: Ctx,
) -> None:
    """Extend the prescription's dose steps with the plan from ``from_date`` on."""
    for step in steps:
        if step.end < from_date:
            continue
        db.add(
            DoseStep(
                prescription_id=rx.id,
                start=max(step.start, from_date),
                daily_dose_mg=step.daily_dose_mg,
                reason=reason,
                changed_by=actor.user_id,
                created_at=ctx.now,
            )
        )


def _base_dose(history: ScheduleHistory, start: date) -> Decimal:
    """The dose taken the day before the taper starts (else the one planned for that day)."""
    before = _planned(history, start - timedelta(days=1))
    return before if before > 0 else _planned(history, start)


def create_taper_plan(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, data: TaperPlanCreate
) -> tuple[TaperPlanRead, bool]:
    """Plan a taper from the current planned dose to 0 mg (clinicians); the
    prescription's dose steps are extended with the plan and it becomes 'tapering'."""
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=TAPER, action="create", writers=CLINICIAN_ONLY
    )
    digest = body_hash(data.model_dump(mode="json"))
    existing = repository.taper_plan(db, data.id)
    if existing is not None and is_replay(existing, patient.id, digest):
        rx_old = repository.prescription(db, existing.prescription_id)
        medicine = rx_old.medicine if rx_old else DEFAULT_MEDICINE
        return _taper_read(existing, medicine, repository.taper_revisions(db, existing.id)), False
    require_recent_reauth(db, actor, ctx.now)  # a taper: password and code again
    rx = _own_prescription(db, patient, data.prescription_id, field="prescription_id")
    if rx.status == "stopped":
        raise InvalidInput("this prescription has already been stopped", field="prescription_id")
    current = repository.active_taper_plan(db, rx.id)
    if current is not None:
        raise Conflict(
            f"this prescription already has an active taper plan (id {current.id}): hold or slow "
            "that plan instead of making a second one"
        )
    today = patient_today(patient, ctx)
    if data.start < today:
        raise InvalidInput(
            f"a taper starts today ({today.isoformat()}) or later: past doses are never rewritten",
            field="start",
        )
    history = _history(_steps_of(db, rx))
    base = _base_dose(history, data.start)
    if base <= 0:
        raise InvalidInput(
            f"no dose of {rx.medicine} is planned around {data.start.isoformat()}, so there is "
            "nothing to taper",
            field="start",
        )
    plan = plan_taper(rx.medicine, base, data.weeks, data.start)
    _claim_prescription(db, rx, ctx)
    tp = TaperPlan(
        id=data.id,
        patient_id=patient.id,
        prescription_id=rx.id,
        start=data.start,
        weeks=data.weeks,
        status="active",
        steps=[s.to_dict() for s in plan.steps],
        warnings=[w.to_dict() for w in plan.warnings],
        note=data.reason,
        version=1,
        body_hash=digest,
        created_by=actor.user_id,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    db.add(tp)
    db.flush()
    revision = _revision(db, tp, actor, ctx, data.reason or "taper planned")
    _add_taper_steps(
        db,
        rx,
        plan.steps,
        from_date=data.start,
        actor=actor,
        ctx=ctx,
        reason=f"taper plan v1: {data.reason or 'planned taper'}",
    )
    rx.status = "tapering"
    rx.updated_at = ctx.now
    db.flush()
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=TAPER,
        action="create",
        resource_id=str(tp.id),
        reason=f"from {plan.from_dose_mg} mg over {data.weeks} weeks",
    )
    return _taper_read(tp, rx.medicine, [revision]), True


def _domain_plan(tp: TaperPlan, rx: Prescription, history: ScheduleHistory) -> DomainTaperPlan:
    med = find_medicine(rx.medicine, _kb())
    watch = med.taper.watch_days if med.taper else 14
    steps = []
    for s in _stored_steps(tp):
        end = s.end or s.start + timedelta(days=watch - 1)
        steps.append(TaperStep(s.start, end, s.daily_dose_mg, s.instructions or ""))
    warnings = tuple(
        TaperWarning(str(w.get("code", "")), str(w.get("message", "")), str(w.get("source", "")))
        for w in tp.warnings or []
    )
    return DomainTaperPlan(
        medicine=med.name,
        from_dose_mg=_base_dose(history, tp.start),
        steps=tuple(steps),
        warnings=warnings,
        withdrawal_symptoms=med.withdrawal.symptoms if med.withdrawal else (),
        source="",
    )


def update_taper_plan(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    plan_id: uuid.UUID,
    data: TaperPlanUpdate,
    if_match: str | None,
) -> TaperPlanRead:
    """Hold or slow a step (clinicians) with If-Match: each accepted change is a new
    version with its revision; a change made on an older version is refused (412)."""
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=TAPER,
        action="update",
        writers=CLINICIAN_ONLY,
        resource_id=str(plan_id),
    )
    tp = repository.taper_plan(db, plan_id)
    if tp is None or tp.patient_id != patient.id:
        raise NotFound("no such taper plan")
    check_if_match(if_match, tp.id, tp.version)
    require_recent_reauth(db, actor, ctx.now)  # a taper change: password and code again
    if not repository.claim_taper_version(db, tp.id, tp.version, ctx.now):
        raise PreconditionFailed(
            "the taper plan was changed by someone else since you read it: reload it, check "
            "the change and try again"
        )
    db.refresh(tp)
    if tp.status != "active":
        raise Conflict(f"this taper plan is {tp.status}; only an active plan can be changed")
    today = patient_today(patient, ctx)
    if data.on < today:
        raise InvalidInput(
            f"a change takes effect from today ({today.isoformat()}) or later", field="on"
        )
    rx = _own_prescription(db, patient, tp.prescription_id)
    history = _history(_steps_of(db, rx))
    plan = _domain_plan(tp, rx, history)
    changed = (
        hold_step(plan, data.on, data.days) if data.action == "hold" else slow_step(plan, data.on)
    )
    tp.steps = [s.to_dict() for s in changed.steps]
    tp.warnings = [w.to_dict() for w in changed.warnings]
    tp.updated_at = ctx.now
    reason = f"{data.action} from {data.on.isoformat()}: {data.reason}"
    _revision(db, tp, actor, ctx, reason)
    _claim_prescription(db, rx, ctx)
    _add_taper_steps(
        db,
        rx,
        changed.steps,
        from_date=data.on,
        actor=actor,
        ctx=ctx,
        reason=f"taper plan v{tp.version}: {reason}",
    )
    rx.updated_at = ctx.now
    db.flush()
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=TAPER,
        action="update",
        resource_id=str(tp.id),
        reason=reason[:2000],
    )
    return _taper_read(tp, rx.medicine, repository.taper_revisions(db, tp.id))


def get_taper_plan(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, plan_id: uuid.UUID
) -> TaperPlanRead:
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=TAPER, action="read", resource_id=str(plan_id)
    )
    tp = repository.taper_plan(db, plan_id)
    if tp is None or tp.patient_id != patient.id:
        raise NotFound("no such taper plan")
    rx = repository.prescription(db, tp.prescription_id)
    record_access(
        db, actor, patient, ctx, resource_type=TAPER, action="read", resource_id=str(tp.id)
    )
    return _taper_read(
        tp, rx.medicine if rx else DEFAULT_MEDICINE, repository.taper_revisions(db, tp.id)
    )


def list_taper_plans(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    *,
    cursor: str | None,
    limit: int,
) -> Page[TaperPlanRead]:
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=TAPER, action="list")
    check_limit(limit)
    rows = repository.taper_plans(db, patient.id, after=_keyset(cursor), limit=limit + 1)
    medicines = repository.medicines_of(db, (r.prescription_id for r in rows))
    items = [
        _taper_read(r, medicines.get(r.prescription_id, DEFAULT_MEDICINE)) for r in rows[:limit]
    ]
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=TAPER,
        action="list",
        reason=f"{len(items)} taper plans",
    )
    return Page(items=items, next_cursor=_next_keyset(rows, limit))


# ========================================================= dose-change requests


def stopping_advice(medicine: str) -> AdviceRead:
    """Why stopping suddenly is risky, for a patient who has stopped on their own."""
    med = _kb().medicine(medicine)
    symptoms = list(med.withdrawal.symptoms) if med and med.withdrawal else []
    name = med.name if med else medicine
    text = (
        f"Stopping {name} suddenly can cause withdrawal symptoms. They often start within a few "
        "days, are usually mild and settle within 1 to 2 weeks, but for some people they are "
        "severe or last longer. Missing doses can cause them too. Your care team has been told "
        "and will contact you to agree what to do next. Going back to your previous dose and "
        "then reducing it slowly may be suggested, but do not restart or change the dose on "
        "your own before you have talked to them. If you feel very unwell, call NHS 111; if you "
        "have thoughts of harming yourself, call 999 or Samaritans on 116 123."
    )
    return AdviceRead(text=text, withdrawal_symptoms=symptoms, source=STOPPED_SOURCE)


def _request_read(
    req: DoseChangeRequest, medicine: str, *, for_clinician: bool
) -> DoseChangeRequestRead:
    stopped = req.status == PATIENT_STOPPED
    next_step = None
    if stopped:
        next_step = (
            "The care team has been alerted: contact the patient and agree a plan (restarting "
            "and tapering, or monitoring withdrawal)."
            if for_clinician
            else "Your care team has been told and will contact you."
        )
    elif req.status == "pending":
        next_step = (
            "Approve or decline it (PATCH with status and a note). Approving does not change the "
            "dose by itself: change the prescription to put a new dose into effect."
            if for_clinician
            else "Keep taking your medicine as prescribed until your care team replies."
        )
    elif req.status == "approved" and for_clinician:
        next_step = (
            "Approving does not change the dose by itself: change the prescription (PATCH "
            f".../prescriptions/{req.prescription_id} with the new schedule from today or later) "
            "to put the new dose into effect."
        )
    return DoseChangeRequestRead(
        id=req.id,
        patient_id=req.patient_id,
        prescription_id=req.prescription_id,
        kind="stopped-on-my-own" if stopped else "change",
        requested_dose_mg=None if stopped else req.requested_dose_mg,
        reason=req.reason,
        status=req.status,
        decided_by=req.decided_by,
        decided_at=req.decided_at,
        decision_note=req.decision_note,
        created_at=req.created_at,
        advice=stopping_advice(medicine) if stopped else None,
        next_step=next_step,
    )


def create_dose_change_request(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, data: DoseChangeRequestCreate
) -> tuple[DoseChangeRequestRead, bool]:
    """A patient asks for a dose change, or says they stopped on their own (then they get
    the withdrawal-risk explanation and the care team is alerted)."""
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=REQUEST, action="create", writers=PATIENT_ONLY
    )
    digest = body_hash(data.model_dump(mode="json"))
    existing = repository.dose_change_request(db, data.id)
    if existing is not None and is_replay(existing, patient.id, digest):
        rx_old = repository.prescription(db, existing.prescription_id)
        medicine = rx_old.medicine if rx_old else DEFAULT_MEDICINE
        return _request_read(existing, medicine, for_clinician=False), False
    rx = _own_prescription(db, patient, data.prescription_id, field="prescription_id")
    if rx.status == "stopped":
        raise InvalidInput(
            "this prescription has been stopped: talk to your care team", field="prescription_id"
        )
    stopped = data.kind == "stopped-on-my-own"
    req = DoseChangeRequest(
        id=data.id,
        patient_id=patient.id,
        prescription_id=rx.id,
        requested_dose_mg=Decimal(0) if stopped else data.requested_dose_mg,
        reason=data.reason,
        status=PATIENT_STOPPED if stopped else "pending",
        body_hash=digest,
        created_by=actor.user_id,
        created_at=ctx.now,
    )
    db.add(req)
    db.flush()
    if stopped:
        report_stopped_on_own(db, patient.id, req.id, patient_today(patient, ctx), ctx.now)
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=REQUEST,
        action="create",
        resource_id=str(req.id),
        reason=data.kind,
    )
    return _request_read(req, rx.medicine, for_clinician=False), True


def decide_dose_change_request(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    request_id: uuid.UUID,
    data: DoseChangeDecision,
) -> DoseChangeRequestRead:
    """Approve or decline a patient's request (clinicians); the patient is told.

    Only a pending request can be decided, once: a second decision is a 409, so two
    clinicians never overwrite each other. Approving does not change the dose by itself.
    """
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=REQUEST,
        action="update",
        writers=CLINICIAN_ONLY,
        resource_id=str(request_id),
    )
    req = repository.dose_change_request(db, request_id)
    if req is None or req.patient_id != patient.id:
        raise NotFound("no such dose-change request")
    if req.status == PATIENT_STOPPED:
        raise Conflict(
            "this is the patient telling you they stopped, not a request to decide: contact "
            "them and agree a plan"
        )
    if req.status != "pending" or not repository.decide_request(
        db,
        req.id,
        status=data.status,
        decided_by=actor.user_id,
        decided_at=ctx.now,
        note=data.note,
    ):
        db.refresh(req)
        raise Conflict(f"this request has already been {req.status}")
    db.refresh(req)
    rx = repository.prescription(db, req.prescription_id)
    medicine = rx.medicine if rx else DEFAULT_MEDICINE
    if patient.user_id is not None:
        if data.status == "approved":
            body = (
                f"Your care team agreed to your request to change your {medicine} dose. Their "
                f"note: {data.note} Keep taking your current dose until your medicine page shows "
                "the new one."
            )
        else:
            body = (
                f"Your care team did not agree to change your {medicine} dose. Their note: "
                f"{data.note} Keep taking your medicine as prescribed, and talk to them if you "
                "have questions."
            )
        db.add(
            Notification(
                user_id=patient.user_id,
                patient_id=patient.id,
                kind=DECISION_NOTIFICATION,
                title=f"Your dose change request was {data.status}",
                body=body,
                link="/medicine",
                created_at=ctx.now,
            )
        )
    db.flush()
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=REQUEST,
        action="update",
        resource_id=str(req.id),
        reason=data.status,
    )
    return _request_read(req, medicine, for_clinician=True)


def list_dose_change_requests(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    *,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> Page[DoseChangeRequestRead]:
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=REQUEST, action="list")
    check_limit(limit)
    rows = repository.dose_change_requests(
        db, patient.id, status=status, after=_keyset(cursor), limit=limit + 1
    )
    medicines = repository.medicines_of(db, (r.prescription_id for r in rows))
    items = [
        _request_read(
            r,
            medicines.get(r.prescription_id, DEFAULT_MEDICINE),
            for_clinician=actor.is_clinician,
        )
        for r in rows[:limit]
    ]
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=REQUEST,
        action="list",
        reason=f"{len(items)} requests",
    )
    return Page(items=items, next_cursor=_next_keyset(rows, limit))


# ============================================================== other medicines


def _other_read(item: OtherMedicine, live: Sequence[Prescription], kb: Any) -> OtherMedicineRead:
    warnings: list[WarningRead] = []
    for rx in live:
        result = check_interactions([rx.medicine, item.name], kb)
        for found in result.interactions:
            warnings.append(
                WarningRead(
                    code="contraindicated-combination"
                    if found.severity == "contraindicated"
                    else "interaction",
                    message=f"{' + '.join(found.drugs)} ({found.severity}): {found.effect} "
                    f"{found.action}",
                    source=found.source,
                    blocking=found.severity == "contraindicated",
                    severity=found.severity,
                    verification=found.verification,
                )
            )
    return OtherMedicineRead(
        id=item.id,
        patient_id=item.patient_id,
        name=item.name,
        recognised_as=kb.resolve_drug(item.name),
        started_on=item.started_on,
        stopped_on=item.stopped_on,
        is_pain_medicine=item.is_pain_medicine,
        created_at=item.created_at,
        interactions=warnings,
    )


def create_other_medicine(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, data: OtherMedicineCreate
) -> tuple[OtherMedicineRead, bool]:
    """Record another medicine the patient takes (patient or clinician); it is checked
    against the current prescriptions, and a contraindicated combination a patient
    records alerts the care team."""
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=OTHER, action="create", writers=EVERYONE
    )
    digest = body_hash(data.model_dump(mode="json"))
    existing = repository.other_medicine(db, data.id)
    kb = _kb()
    live = repository.live_prescriptions(db, patient.id)
    if existing is not None and is_replay(existing, patient.id, digest):
        return _other_read(existing, live, kb), False
    if data.started_on and data.stopped_on and data.stopped_on < data.started_on:
        raise InvalidInput("the stop date is before the start date", field="stopped_on")
    item = OtherMedicine(
        id=data.id,
        patient_id=patient.id,
        name=data.name.strip(),
        started_on=data.started_on,
        stopped_on=data.stopped_on,
        is_pain_medicine=data.is_pain_medicine,
        body_hash=digest,
        created_by=actor.user_id,
        created_at=ctx.now,
    )
    db.add(item)
    db.flush()
    read = _other_read(item, live, kb)
    severe = [w for w in read.interactions if w.severity == "contraindicated"]
    if severe and actor.is_patient and data.stopped_on is None:
        raise_alert(
            db,
            patient_id=patient.id,
            rule="contraindicated-other-medicine",
            cause_key=f"other-medicine:{item.id}",
            urgency="urgent",
            summary=f"The patient recorded {item.name}: {severe[0].message}"[:1000],
            source=severe[0].source,
            now=ctx.now,
        )
    record_access(
        db, actor, patient, ctx, resource_type=OTHER, action="create", resource_id=str(item.id)
    )
    return read, True


def list_other_medicines(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    *,
    cursor: str | None,
    limit: int,
) -> Page[OtherMedicineRead]:
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=OTHER, action="list")
    check_limit(limit)
    rows = repository.other_medicines(db, patient.id, after=_keyset(cursor), limit=limit + 1)
    kb = _kb()
    live = repository.live_prescriptions(db, patient.id)
    items = [_other_read(r, live, kb) for r in rows[:limit]]
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=OTHER,
        action="list",
        reason=f"{len(items)} other medicines",
    )
    return Page(items=items, next_cursor=_next_keyset(rows, limit))


# =================================================================== blood pressure
#
# Readings the patient takes at home or the care team takes in clinic. A reading at or
# above the level the care team set for this patient alerts them at once (the rule and
# its sources: alerts.domain.BLOOD_PRESSURE); PainPath has no level of its own.


def _bp_read(item: BloodPressureReading, patient: Patient) -> BloodPressureRead:
    above = bool(
        alerts_domain.blood_pressure_levels_reached(
            item.systolic, item.diastolic, patient.bp_alert_systolic, patient.bp_alert_diastolic
        )
    )
    return BloodPressureRead.model_validate(item).model_copy(update={"above_alert_level": above})


def create_blood_pressure(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, data: BloodPressureCreate
) -> tuple[BloodPressureRead, bool]:
    """Record a blood pressure reading (the patient or their care team); a retry is
    stored once. At or above the care team's level for this patient, the care team is
    alerted in the same transaction."""
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=BLOOD_PRESSURE,
        action="create",
        writers=EVERYONE,
    )
    digest = body_hash(data.model_dump(mode="json"))
    existing = repository.blood_pressure(db, data.id)
    if existing is not None and is_replay(existing, patient.id, digest):
        return _bp_read(existing, patient), False
    if data.systolic <= data.diastolic:
        raise InvalidInput(
            "the systolic (upper) number must be higher than the diastolic (lower) one: "
            "check the two numbers are the right way round",
            field="systolic",
        )
    if data.measured_at.tzinfo is None:
        raise InvalidInput(
            "give the time with its time zone, e.g. 2026-12-04T08:30:00Z", field="measured_at"
        )
    if data.measured_at > ctx.now + timedelta(minutes=5):
        raise InvalidInput(
            "the reading is in the future: check the date and time", field="measured_at"
        )
    item = BloodPressureReading(
        id=data.id,
        patient_id=patient.id,
        measured_at=data.measured_at,
        systolic=data.systolic,
        diastolic=data.diastolic,
        pulse=data.pulse,
        body_hash=digest,
        created_by=actor.user_id,
        created_at=ctx.now,
    )
    db.add(item)
    db.flush()
    cause = alerts_domain.blood_pressure_cause(
        str(item.id),
        item.systolic,
        item.diastolic,
        item.measured_at.astimezone(ZoneInfo(patient.timezone)).date(),
        patient.bp_alert_systolic,
        patient.bp_alert_diastolic,
    )
    if cause is not None:
        raise_cause(db, patient.id, cause, ctx.now)
    read = _bp_read(item, patient)
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=BLOOD_PRESSURE,
        action="create",
        resource_id=str(item.id),
    )
    return read, True


def list_blood_pressures(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    *,
    cursor: str | None,
    limit: int,
) -> Page[BloodPressureRead]:
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=BLOOD_PRESSURE, action="list"
    )
    check_limit(limit)
    rows = repository.blood_pressures(db, patient.id, after=_keyset(cursor), limit=limit + 1)
    items = [_bp_read(r, patient) for r in rows[:limit]]
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=BLOOD_PRESSURE,
        action="list",
        reason=f"{len(items)} readings",
    )
    return Page(items=items, next_cursor=_next_keyset(rows, limit))


# =================================================================== page data


def patient_medicine_page(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID
) -> dict[str, Any]:
    """Everything the patient's "My medicine" page shows."""
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=PRESCRIPTION, action="read"
    )
    today = patient_today(patient, ctx)
    doses = todays_doses(db, patient.id, today)
    live = list(repository.live_prescriptions(db, patient.id))
    reads = _read_prescriptions(db, patient, ctx, live)
    plans = []
    for rx in live:
        plan = repository.active_taper_plan(db, rx.id)
        if plan is not None:
            plans.append(_taper_read(plan, rx.medicine))
    window_end = today - timedelta(days=1)
    requests = repository.dose_change_requests(db, patient.id, status=None, after=None, limit=100)
    record_access(
        db, actor, patient, ctx, resource_type=PRESCRIPTION, action="read", reason="medicine page"
    )
    return {
        "patient": patient,
        "today": today,
        "doses": doses,
        "prescriptions": reads,
        "taper_plans": plans,
        "adherence": adherence(db, patient.id, window_end - timedelta(days=27), window_end),
        "requests": [
            _request_read(r, DEFAULT_MEDICINE, for_clinician=False) for r in requests[-5:]
        ],
        "notifications": list(
            repository.notifications(db, actor.user_id, patient.id, [DECISION_NOTIFICATION], 5)
        ),
        "symptoms": side_effect_symptoms(live[0].medicine if live else DEFAULT_MEDICINE),
        "withdrawal": stopping_advice(live[0].medicine if live else DEFAULT_MEDICINE),
    }


def clinician_medicine_page(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID
) -> dict[str, Any]:
    """Everything the clinician's medicine page for one patient shows."""
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=PRESCRIPTION, action="read"
    )
    today = patient_today(patient, ctx)
    rows = repository.all_prescriptions(db, patient.id)
    reads = _read_prescriptions(db, patient, ctx, rows)
    plans = [
        _taper_read(
            p,
            next((r.medicine for r in rows if r.id == p.prescription_id), DEFAULT_MEDICINE),
            repository.taper_revisions(db, p.id),
        )
        for p in repository.taper_plans(db, patient.id, after=None, limit=100)
    ]
    medicines = {r.id: r.medicine for r in rows}
    requests = [
        _request_read(r, medicines.get(r.prescription_id, DEFAULT_MEDICINE), for_clinician=True)
        for r in repository.dose_change_requests(db, patient.id, status=None, after=None, limit=100)
    ]
    reports = repository.side_effect_reports(
        db, patient.id, start=None, end=None, after=None, limit=100
    )
    kb = _kb()
    live = repository.live_prescriptions(db, patient.id)
    others = [
        _other_read(o, live, kb)
        for o in repository.other_medicines(db, patient.id, after=None, limit=100)
    ]
    window_end = today - timedelta(days=1)
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=PRESCRIPTION,
        action="read",
        reason="clinician medicine page",
    )
    return {
        "patient": patient,
        "today": today,
        "prescriptions": reads,
        "taper_plans": plans,
        "requests": requests,
        "side_effects": [
            _report_read(
                r,
                medicines.get(r.prescription_id, DEFAULT_MEDICINE)
                if r.prescription_id
                else DEFAULT_MEDICINE,
            )
            for r in reports[-20:]
        ],
        "other_medicines": others,
        "adherence": adherence(db, patient.id, window_end - timedelta(days=27), window_end),
        "blood_pressures": [
            _bp_read(r, patient)
            for r in repository.latest_blood_pressures(db, patient.id, BP_ROWS_SHOWN)
        ],
    }


# ==================================================================== helpers


def _check_range(start: date | None, end: date | None) -> None:
    if start and end and start > end:
        raise InvalidInput("'from' must be on or before 'to'", field="from")


def _keyset(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    return _time_keyset(cursor)


def _time_keyset(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    text = decode_cursor(cursor)
    if not text:
        return None
    when, _, rid = text.partition("|")
    try:
        return datetime.fromisoformat(when), uuid.UUID(rid)
    except ValueError:
        raise InvalidInput("the cursor is not valid", field="cursor") from None


def _next_keyset(rows: Sequence[Any], limit: int) -> str | None:
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor(f"{last.created_at.isoformat()}|{last.id}")
