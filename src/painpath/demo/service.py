"""Loading the demo population into the database (idempotent for a seed)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from painpath.alerts.service import raise_alert
from painpath.auth import repository as auth_repository
from painpath.auth.domain import Role
from painpath.care.models import CareEpisode, Referral
from painpath.care.service import add_to_care_team, create_account
from painpath.demo.generator import (
    Account,
    PatientHistory,
    ResponseKind,
    generate_patients,
    stable_id,
    staff_accounts,
)
from painpath.diary.models import DiaryEntry, TherapySession
from painpath.medication.models import (
    DoseEvent,
    DoseStep,
    Prescription,
    SideEffectReport,
    TaperPlan,
)
from painpath.questionnaires.models import QuestionnaireResponse

# Ten demo patients in proportions close to the pooled trials (reference §4, Alev 2017):
# half substantial, one moderate (60% reach ≥30%), three minimal or none, one worse.
DEMO_KINDS: list[ResponseKind] = [
    "substantial",
    "none",
    "moderate",
    "substantial",
    "minimal",
    "worse",
    "substantial",
    "none",
    "substantial",
    "substantial",
]


def _account_json(account: Account, extra: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "role": account.role,
        "email": account.email,
        "password": account.password,
        "name": account.display_name,
    }
    if account.totp_secret:
        out["totp_secret"] = account.totp_secret
    out.update(extra)
    return out


def demo_accounts(seed: int, today: date, patients: int) -> list[dict[str, Any]]:
    """The accounts the demo creates, as ``painpath demo --json`` prints them."""
    out = [_account_json(a, {}) for a in staff_accounts(seed)]
    for h in generate_patients(seed, today, patients, kinds=DEMO_KINDS):
        out.append(_account_json(h.account, {"patient_id": str(h.patient_id)}))
    return out


def load_demo(db: Session, *, seed: int, today: date, patients: int = 10) -> list[dict[str, Any]]:
    """Create the demo population unless it is already there; return its accounts."""
    staff = staff_accounts(seed)
    if auth_repository.user_by_email(db, staff[0].email) is not None:
        return _existing_accounts(db, seed, today, patients)
    now = datetime.combine(today, time(9, 0), tzinfo=UTC)
    clinician_ids: dict[str, uuid.UUID] = {}
    for account in staff:
        created = create_account(
            db,
            email=account.email,
            password=account.password,
            role=Role(account.role),
            name=account.display_name,
            clinician_kind=account.clinician_kind or "gp",
            totp_secret=account.totp_secret,
        )
        if "clinician_id" in created:
            clinician_ids[account.key] = uuid.UUID(created["clinician_id"])
    for history in generate_patients(seed, today, patients, kinds=DEMO_KINDS):
        _load_patient(db, seed, history, clinician_ids, now)
    return demo_accounts(seed, today, patients)


def _existing_accounts(db: Session, seed: int, today: date, patients: int) -> list[dict[str, Any]]:
    accounts = demo_accounts(seed, today, patients)
    # Patient ids are stable for a seed, but the loaded population may be older than today.
    for entry in accounts:
        if entry["role"] == "patient":
            user = auth_repository.user_by_email(db, entry["email"])
            if user is not None:
                pid = auth_repository.patient_id_for_user(db, user.id)
                entry["patient_id"] = str(pid) if pid else None
    return [a for a in accounts if a["role"] != "patient" or a.get("patient_id")]


def _load_patient(
    db: Session,
    seed: int,
    h: PatientHistory,
    clinicians: dict[str, uuid.UUID],
    now: datetime,
) -> None:
    from painpath.medication.domain.triage import triage as triage_side_effect
    from painpath.questionnaires.domain import load_instruments, score

    created = create_account(
        db,
        email=h.account.email,
        password=h.account.password,
        role=Role.PATIENT,
        name=h.name,
        date_of_birth=h.date_of_birth,
        patient_id=h.patient_id,
    )
    user_id = uuid.UUID(created["user_id"])
    pid = h.patient_id
    gp, specialist = clinicians["gp"], clinicians["specialist"]
    add_to_care_team(db, patient_id=pid, clinician_id=gp, role="gp", now=now)
    prescriber = gp
    if h.referred_to_specialist:
        db.add(
            Referral(
                id=stable_id(seed, "referral", h.index),
                patient_id=pid,
                from_clinician_id=gp,
                to_clinician_id=specialist,
                reason="Persistent pain despite first-line management; please advise.",
                status="accepted",
                decided_at=now - timedelta(days=(now.date() - h.start).days + 7),
            )
        )
        add_to_care_team(
            db, patient_id=pid, clinician_id=specialist, role="pain-specialist", now=now
        )
        prescriber = specialist
    episode_id = stable_id(seed, "episode", h.index)
    db.add(
        CareEpisode(
            id=episode_id,
            patient_id=pid,
            condition=h.condition,
            onset_date=h.onset_date,
            symptoms=h.symptoms,
            pain_sites=["lower back"]
            + (["left leg"] if h.condition != "chronic-low-back-pain" else []),
            created_by=user_id,
        )
    )
    db.flush()
    prescription = Prescription(
        id=h.prescription_id,
        patient_id=pid,
        prescriber_id=prescriber,
        episode_id=episode_id,
        medicine="duloxetine",
        status="tapering" if h.tapering_from else "active",
        off_label=True,
        indication=h.condition,
        dose_times=["08:00"],
    )
    db.add(prescription)
    db.flush()
    for i, step in enumerate(h.steps):
        db.add(
            DoseStep(
                id=stable_id(seed, "dose-step", h.index, i),
                prescription_id=prescription.id,
                start=step.start,
                daily_dose_mg=step.daily_dose_mg,
                reason=step.reason,
            )
        )
    if h.tapering_from:
        steps = [
            {
                "start": s.start.isoformat(),
                "daily_dose_mg": str(s.daily_dose_mg),
                "reason": s.reason,
            }
            for s in h.steps
            if s.start >= h.tapering_from
        ]
        db.add(
            TaperPlan(
                id=stable_id(seed, "taper", h.index),
                patient_id=pid,
                prescription_id=prescription.id,
                start=h.tapering_from,
                weeks=4,
                steps=steps,
                note="No meaningful benefit at the 12-week review; tapering off.",
            )
        )
    _bulk(
        db,
        (
            DiaryEntry(
                id=d.id,
                patient_id=pid,
                date=d.date,
                pain=d.pain,
                worst_pain=d.worst_pain,
                sleep_interference=d.sleep_interference,
                activity_minutes=d.activity_minutes,
                mood=d.mood,
                created_by=user_id,
                created_at=datetime.combine(d.date, time(20, 0), tzinfo=UTC),
            )
            for d in h.diary
        ),
    )
    _bulk(
        db,
        (
            DoseEvent(
                id=e.id,
                patient_id=pid,
                prescription_id=prescription.id,
                status=e.status,
                taken_at=e.taken_at,
                dose_mg=e.dose_mg,
                created_by=user_id,
            )
            for e in h.doses
        ),
    )
    for s in h.side_effects:
        result = triage_side_effect(s.symptom, s.severity)
        db.add(
            SideEffectReport(
                id=s.id,
                patient_id=pid,
                prescription_id=prescription.id,
                symptom=s.symptom,
                severity=s.severity,
                started_on=s.started_on,
                triage_level=result.level,
                triage_advice=result.advice,
                created_by=user_id,
            )
        )
    instruments = load_instruments()
    for q in h.questionnaires:
        scored = score(q.instrument, list(q.answers))
        db.add(
            QuestionnaireResponse(
                id=q.id,
                patient_id=pid,
                instrument=q.instrument,
                instrument_version=instruments[q.instrument].version,
                answers=list(q.answers),
                total=scored.total,
                band=scored.band,
                subscales=dict(scored.subscales),
                flags=list(scored.flags),
                completed_at=q.completed_at,
                created_by=user_id,
            )
        )
        if "self-harm" in scored.flags:
            raise_alert(
                db,
                patient_id=pid,
                rule="phq9-item9",
                cause_key=f"phq9-item9:{q.id}",
                urgency="urgent",
                summary="PHQ-9 item 9 answered above 0 (thoughts of self-harm): contact the "
                "patient today.",
                source="clinical/reference.md §3.2 PHQ-9 item 9 follow-up; §1.7 suicidal thoughts",
                now=now,
            )
    _bulk(
        db,
        (
            TherapySession(
                id=t.id,
                patient_id=pid,
                date=t.date,
                kind=t.kind,
                minutes=t.minutes,
                pain_before=t.pain_before,
                pain_after=t.pain_after,
                created_by=user_id,
            )
            for t in h.therapies
        ),
    )
    db.flush()
    _demo_alerts(db, h, now)


def _bulk(db: Session, rows: Iterable[object]) -> None:
    db.add_all(list(rows))


def _demo_alerts(db: Session, h: PatientHistory, now: datetime) -> None:
    """Open alerts a care team would have: repeated missed doses and a taper in progress."""
    week_ago = now - timedelta(days=7)
    missed = [d for d in h.doses if d.status == "missed" and d.taken_at >= week_ago]
    if len(missed) >= 3:
        raise_alert(
            db,
            patient_id=h.patient_id,
            rule="missed-doses",
            cause_key=f"missed-doses:{now.date().isoformat()}",
            urgency="routine",
            summary=f"{len(missed)} doses missed in the last 7 days.",
            source="NICE NG222 1.4.14: missed doses can cause withdrawal symptoms",
            now=now,
        )
    if h.tapering_from:
        raise_alert(
            db,
            patient_id=h.patient_id,
            rule="taper-in-progress",
            cause_key=f"taper:{h.tapering_from.isoformat()}",
            urgency="routine",
            summary="Taper in progress: check for withdrawal symptoms at each step.",
            source="Duloxetine SmPC 4.2/4.4: reduce gradually over at least 1–2 weeks",
            now=now,
        )
    if h.response_kind == "worse":
        raise_alert(
            db,
            patient_id=h.patient_id,
            rule="non-response",
            cause_key=f"non-response:{h.prescription_id}",
            urgency="routine",
            summary="Pain is higher than at baseline on duloxetine: review whether to continue.",
            source="IMMPACT (Dworkin 2008); duloxetine SmPC: evaluate response after 2 months",
            now=now,
        )
