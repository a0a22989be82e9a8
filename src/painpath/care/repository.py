"""Queries for patients, care teams, referrals, follow-ups, reviews and notes, and the
read-only views of other areas' records the caseload and the patient record need.

Patient-scoped functions take a patient id the service has already authorised."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    CursorResult,
    Date,
    Select,
    Uuid,
    and_,
    any_,
    bindparam,
    case,
    column,
    func,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session, aliased

from painpath.alerts.models import Alert
from painpath.auth.domain import Actor
from painpath.auth.models import User
from painpath.care.models import (
    CareEpisode,
    CareTeamMember,
    ClinicalNote,
    Clinician,
    Consent,
    FollowUp,
    Patient,
    Referral,
    Review,
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


def _visible_patients(actor: Actor) -> Select[Patient]:
    query = select(Patient)
    if actor.is_patient:
        return query.where(Patient.id == actor.patient_id)
    if actor.is_clinician:
        return query.join(CareTeamMember, CareTeamMember.patient_id == Patient.id).where(
            CareTeamMember.clinician_id == actor.clinician_id,
            CareTeamMember.removed_at.is_(None),
        )
    if actor.break_glass_patients:
        # An administrator reads a record only through a recorded break-glass reason
        # (auth.breakglass); the services still refuse them any change (403).
        return query.where(Patient.id.in_(actor.break_glass_patients))
    return query.where(Patient.id.is_(None))  # admins read no clinical record


def visible_patient(db: Session, actor: Actor, patient_id: uuid.UUID) -> Patient | None:
    return db.scalars(_visible_patients(actor).where(Patient.id == patient_id)).one_or_none()


def list_visible_patients(
    db: Session, actor: Actor, *, after: tuple[str, uuid.UUID] | None, limit: int
) -> Sequence[Patient]:
    query = _visible_patients(actor).order_by(Patient.name, Patient.id)
    if after is not None:
        name, pid = after
        query = query.where((Patient.name > name) | ((Patient.name == name) & (Patient.id > pid)))
    return db.scalars(query.limit(limit)).all()


def all_patients(db: Session) -> Sequence[Patient]:
    return db.scalars(select(Patient).order_by(Patient.name, Patient.id)).all()


def care_team(db: Session, patient_id: uuid.UUID) -> Sequence[tuple[CareTeamMember, Clinician]]:
    rows = db.execute(
        select(CareTeamMember, Clinician)
        .join(Clinician, Clinician.id == CareTeamMember.clinician_id)
        .where(CareTeamMember.patient_id == patient_id, CareTeamMember.removed_at.is_(None))
        .order_by(Clinician.name)
    ).all()
    return [(m, c) for m, c in rows]


# ------------------------------------------------------------------ clinicians, teams


def clinician(db: Session, clinician_id: uuid.UUID) -> Clinician | None:
    return db.get(Clinician, clinician_id)


def clinicians(
    db: Session, *, kind: str | None, after: tuple[str, uuid.UUID] | None, limit: int
) -> Sequence[Clinician]:
    query = select(Clinician)
    if kind:
        query = query.where(Clinician.kind == kind)
    if after is not None:
        name, cid = after
        query = query.where(
            (Clinician.name > name) | ((Clinician.name == name) & (Clinician.id > cid))
        )
    return db.scalars(query.order_by(Clinician.name, Clinician.id).limit(limit)).all()


def patient(db: Session, patient_id: uuid.UUID) -> Patient | None:
    """Any patient by id: for administration (team management) only, never clinical data."""
    return db.get(Patient, patient_id)


def team_membership(
    db: Session, patient_id: uuid.UUID, clinician_id: uuid.UUID
) -> CareTeamMember | None:
    """The membership row, active or removed (one row per patient and clinician)."""
    return db.scalars(
        select(CareTeamMember).where(
            CareTeamMember.patient_id == patient_id, CareTeamMember.clinician_id == clinician_id
        )
    ).one_or_none()


def teams_for_patients(
    db: Session, patient_ids: Sequence[uuid.UUID]
) -> Sequence[tuple[CareTeamMember, Clinician]]:
    if not patient_ids:
        return []
    rows = db.execute(
        select(CareTeamMember, Clinician)
        .join(Clinician, Clinician.id == CareTeamMember.clinician_id)
        .where(CareTeamMember.patient_id.in_(patient_ids), CareTeamMember.removed_at.is_(None))
        .order_by(Clinician.name)
    ).all()
    return [(m, c) for m, c in rows]


def patients_by_name(
    db: Session, *, search: str | None, after: tuple[str, uuid.UUID] | None, limit: int
) -> Sequence[Patient]:
    """Patients by name, for administrators managing care teams."""
    query = select(Patient)
    if search:
        query = query.where(func.lower(Patient.name).contains(search.lower(), autoescape=True))
    if after is not None:
        name, pid = after
        query = query.where((Patient.name > name) | ((Patient.name == name) & (Patient.id > pid)))
    return db.scalars(query.order_by(Patient.name, Patient.id).limit(limit)).all()


# ------------------------------------------------------------------------ referrals

_FROM = aliased(Clinician)
_TO = aliased(Clinician)


def _referral_query() -> Select[Referral, str, str, str]:
    return (
        select(Referral, Patient.name, _FROM.name, _TO.name)
        .join(Patient, Patient.id == Referral.patient_id)
        .join(_FROM, _FROM.id == Referral.from_clinician_id)
        .join(_TO, _TO.id == Referral.to_clinician_id)
    )


ReferralRow = tuple[Referral, str, str, str]


def referral(db: Session, referral_id: uuid.UUID) -> Referral | None:
    return db.get(Referral, referral_id)


def referral_row(db: Session, referral_id: uuid.UUID) -> ReferralRow | None:
    row = db.execute(_referral_query().where(Referral.id == referral_id)).one_or_none()
    if row is None:
        return None
    r, patient_name, from_name, to_name = row
    return r, patient_name, from_name, to_name


def referrals_to(
    db: Session,
    clinician_id: uuid.UUID,
    *,
    status: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[ReferralRow]:
    query = _referral_query().where(Referral.to_clinician_id == clinician_id)
    if status:
        query = query.where(Referral.status == status)
    if after is not None:
        created, rid = after
        query = query.where(
            (Referral.created_at > created)
            | ((Referral.created_at == created) & (Referral.id > rid))
        )
    rows = db.execute(query.order_by(Referral.created_at, Referral.id).limit(limit)).all()
    return [(r, p, f, t) for r, p, f, t in rows]


def referrals_of_patient(db: Session, patient_id: uuid.UUID) -> Sequence[ReferralRow]:
    rows = db.execute(
        _referral_query()
        .where(Referral.patient_id == patient_id)
        .order_by(Referral.created_at, Referral.id)
    ).all()
    return [(r, p, f, t) for r, p, f, t in rows]


def pending_referral(
    db: Session, patient_id: uuid.UUID, to_clinician_id: uuid.UUID
) -> Referral | None:
    return db.scalars(
        select(Referral).where(
            Referral.patient_id == patient_id,
            Referral.to_clinician_id == to_clinician_id,
            Referral.status == "pending",
        )
    ).first()


# --------------------------------------------------- follow-ups, reviews, clinical notes


def follow_up(db: Session, follow_up_id: uuid.UUID) -> FollowUp | None:
    return db.get(FollowUp, follow_up_id)


def follow_ups(
    db: Session,
    patient_id: uuid.UUID,
    *,
    start: date | None,
    end: date | None,
    status: str | None,
    after: tuple[date, uuid.UUID] | None,
    limit: int,
) -> Sequence[FollowUp]:
    query = select(FollowUp).where(FollowUp.patient_id == patient_id)
    if start:
        query = query.where(FollowUp.due >= start)
    if end:
        query = query.where(FollowUp.due <= end)
    if status:
        query = query.where(FollowUp.status == status)
    if after is not None:
        day, fid = after
        query = query.where((FollowUp.due > day) | ((FollowUp.due == day) & (FollowUp.id > fid)))
    return db.scalars(query.order_by(FollowUp.due, FollowUp.id).limit(limit)).all()


def review(db: Session, review_id: uuid.UUID) -> Review | None:
    return db.get(Review, review_id)


def reviews(
    db: Session, patient_id: uuid.UUID, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> Sequence[Review]:
    query = select(Review).where(Review.patient_id == patient_id)
    if after is not None:
        created, rid = after
        query = query.where(
            (Review.created_at > created) | ((Review.created_at == created) & (Review.id > rid))
        )
    return db.scalars(query.order_by(Review.created_at, Review.id).limit(limit)).all()


def note(db: Session, note_id: uuid.UUID) -> ClinicalNote | None:
    return db.get(ClinicalNote, note_id)


def notes(
    db: Session, patient_id: uuid.UUID, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> Sequence[ClinicalNote]:
    query = select(ClinicalNote).where(ClinicalNote.patient_id == patient_id)
    if after is not None:
        created, nid = after
        query = query.where(
            (ClinicalNote.created_at > created)
            | ((ClinicalNote.created_at == created) & (ClinicalNote.id > nid))
        )
    return db.scalars(query.order_by(ClinicalNote.created_at, ClinicalNote.id).limit(limit)).all()


# ------------------------------------------- other areas' records, read-only, per patient


def prescription(
    db: Session, patient_id: uuid.UUID, prescription_id: uuid.UUID
) -> Prescription | None:
    return db.scalars(
        select(Prescription).where(
            Prescription.id == prescription_id, Prescription.patient_id == patient_id
        )
    ).one_or_none()


def prescriptions(db: Session, patient_id: uuid.UUID) -> Sequence[Prescription]:
    return db.scalars(
        select(Prescription)
        .where(Prescription.patient_id == patient_id)
        .order_by(Prescription.created_at, Prescription.id)
    ).all()


def dose_steps(db: Session, prescription_ids: Sequence[uuid.UUID]) -> Sequence[DoseStep]:
    if not prescription_ids:
        return []
    return db.scalars(
        select(DoseStep)
        .where(_one_of(db, DoseStep.prescription_id, prescription_ids))
        .order_by(DoseStep.start, DoseStep.created_at)
    ).all()


def diary(db: Session, patient_id: uuid.UUID, first: date, last: date) -> Sequence[DiaryEntry]:
    return db.scalars(
        select(DiaryEntry)
        .where(DiaryEntry.patient_id == patient_id, DiaryEntry.date.between(first, last))
        .order_by(DiaryEntry.date)
    ).all()


def dose_events(db: Session, patient_id: uuid.UUID, since: datetime) -> Sequence[DoseEvent]:
    return db.scalars(
        select(DoseEvent)
        .where(DoseEvent.patient_id == patient_id, DoseEvent.taken_at >= since)
        .order_by(DoseEvent.taken_at)
    ).all()


def side_effects(db: Session, patient_id: uuid.UUID) -> Sequence[SideEffectReport]:
    return db.scalars(
        select(SideEffectReport)
        .where(SideEffectReport.patient_id == patient_id)
        .order_by(SideEffectReport.started_on.desc(), SideEffectReport.created_at.desc())
    ).all()


def questionnaire_responses(
    db: Session, patient_id: uuid.UUID, limit: int
) -> Sequence[QuestionnaireResponse]:
    return db.scalars(
        select(QuestionnaireResponse)
        .where(QuestionnaireResponse.patient_id == patient_id)
        .order_by(QuestionnaireResponse.completed_at.desc())
        .limit(limit)
    ).all()


def therapy_sessions(db: Session, patient_id: uuid.UUID, limit: int) -> Sequence[TherapySession]:
    return db.scalars(
        select(TherapySession)
        .where(TherapySession.patient_id == patient_id)
        .order_by(TherapySession.date.desc())
        .limit(limit)
    ).all()


def taper_plans(db: Session, patient_id: uuid.UUID) -> Sequence[TaperPlan]:
    return db.scalars(
        select(TaperPlan).where(TaperPlan.patient_id == patient_id).order_by(TaperPlan.start)
    ).all()


def episodes(db: Session, patient_id: uuid.UUID) -> Sequence[CareEpisode]:
    return db.scalars(
        select(CareEpisode)
        .where(CareEpisode.patient_id == patient_id)
        .order_by(CareEpisode.onset_date)
    ).all()


def alerts_of_patient(
    db: Session, patient_id: uuid.UUID, statuses: Sequence[str]
) -> Sequence[Alert]:
    return db.scalars(
        select(Alert)
        .where(Alert.patient_id == patient_id, Alert.status.in_(statuses))
        .order_by(Alert.created_at.desc())
    ).all()


def user_names(db: Session, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = {u for u in user_ids if u is not None}
    if not ids:
        return {}
    rows = db.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()
    return {uid: name for uid, name in rows}


def clinician_names(db: Session, clinician_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = {c for c in clinician_ids if c is not None}
    if not ids:
        return {}
    rows = db.execute(select(Clinician.id, Clinician.name).where(Clinician.id.in_(ids))).all()
    return {cid: name for cid, name in rows}


# ------------------------------------------------------------------------- caseload

_RANK = case({"emergency": 0, "urgent": 1, "routine": 2}, value=Alert.urgency, else_=3)


def _caseload_summaries(clinician_id: uuid.UUID) -> tuple[Any, Any, Any]:
    """The clinician's memberships, and each patient's open-alert and next follow-up
    summaries, computed for this clinician's patients only (never the whole table)."""
    mine = select(CareTeamMember.patient_id).where(
        CareTeamMember.clinician_id == clinician_id, CareTeamMember.removed_at.is_(None)
    )
    alerts = (
        select(
            Alert.patient_id.label("patient_id"),
            func.count().label("n"),
            func.min(_RANK).label("rank"),
            func.min(Alert.created_at).label("oldest"),
        )
        .where(Alert.status == "open", Alert.patient_id.in_(mine))
        .group_by(Alert.patient_id)
        .subquery()
    )
    due = (
        select(FollowUp.patient_id.label("patient_id"), func.min(FollowUp.due).label("next_due"))
        .where(FollowUp.status == "scheduled", FollowUp.patient_id.in_(mine))
        .group_by(FollowUp.patient_id)
        .subquery()
    )
    return mine, alerts, due


def _name_matches(name: str | None) -> Any:
    """Patients whose name contains ``name`` (any case; % and _ taken literally)."""
    return func.lower(Patient.name).contains((name or "").lower(), autoescape=True)


def _caseload_query(
    clinician_id: uuid.UUID, today: date, attention_only: bool, name: str | None = None
) -> Select[Any]:
    _mine, alerts, due = _caseload_summaries(clinician_id)
    query = (
        select(Patient, alerts.c.n, alerts.c.rank, alerts.c.oldest, due.c.next_due)
        .join(
            CareTeamMember,
            and_(
                CareTeamMember.patient_id == Patient.id,
                CareTeamMember.clinician_id == clinician_id,
                CareTeamMember.removed_at.is_(None),
            ),
        )
        .outerjoin(alerts, alerts.c.patient_id == Patient.id)
        .outerjoin(due, due.c.patient_id == Patient.id)
    )
    if attention_only:
        query = query.where(or_(alerts.c.n > 0, due.c.next_due < today))
    if name:
        query = query.where(_name_matches(name))
    return query.order_by(
        case((alerts.c.n.is_(None), 1), else_=0),
        alerts.c.rank,
        alerts.c.oldest,
        Patient.name,
        Patient.id,
    )


def _caseload_count(
    clinician_id: uuid.UUID, today: date, attention_only: bool, name: str | None = None
) -> Select[Any]:
    """How many patients the page counts, from the memberships alone (no patient rows
    unless a name is searched for)."""
    mine, alerts, due = _caseload_summaries(clinician_id)
    members = mine.subquery()
    query = select(func.count()).select_from(members)
    if name:
        query = query.join(Patient, Patient.id == members.c.patient_id).where(_name_matches(name))
    if attention_only:
        query = (
            query.outerjoin(alerts, alerts.c.patient_id == members.c.patient_id)
            .outerjoin(due, due.c.patient_id == members.c.patient_id)
            .where(or_(alerts.c.n > 0, due.c.next_due < today))
        )
    return query


def _no_parallel_plans(db: Session) -> None:
    """The caseload's queries are many small index range scans (a page of patients, a few
    weeks each). PostgreSQL may still plan them in parallel, and starting the worker
    processes costs more than the scans (30 ms against 5–10 ms in docs/benchmarks.md),
    so this request's transaction runs them in one process."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


def _one_of(db: Session, col: Any, values: Sequence[uuid.UUID]) -> Any:
    """``column IN (values)``; on PostgreSQL ``column = ANY(:array)``, one parameter.

    A page of 100 patients as 100 parameters makes each statement several kilobytes that
    differ in their values only: psycopg parses statements over 4 kB again on every
    execution and never prepares them. One array parameter keeps the statement short
    and the same every time, so it is parsed once and prepared on the server."""
    if db.get_bind().dialect.name == "postgresql":
        return col == any_(bindparam(None, list(values), type_=ARRAY(Uuid)))
    return col.in_(values)


@dataclass(frozen=True)
class CaseloadRow:
    patient: Patient
    open_alerts: int
    worst_rank: int | None
    oldest_alert: datetime | None


def caseload(
    db: Session,
    clinician_id: uuid.UUID,
    *,
    today: date,
    attention_only: bool,
    offset: int,
    limit: int,
    name: str | None = None,
) -> tuple[Sequence[CaseloadRow], int]:
    """One page of the clinician's patients, those with open alerts first (most urgent,
    then longest waiting), and how many there are in all. Two queries."""
    _no_parallel_plans(db)
    total = db.scalar(_caseload_count(clinician_id, today, attention_only, name)) or 0
    query = _caseload_query(clinician_id, today, attention_only, name)
    rows = db.execute(query.offset(offset).limit(limit)).all()
    return [
        CaseloadRow(p, int(n or 0), None if rank is None else int(rank), oldest)
        for p, n, rank, oldest, _due in rows
    ], int(total)


def current_prescriptions_for(
    db: Session, patient_ids: Sequence[uuid.UUID]
) -> Sequence[Prescription]:
    if not patient_ids:
        return []
    return db.scalars(
        select(Prescription)
        .where(
            _one_of(db, Prescription.patient_id, patient_ids),
            Prescription.status.in_(("active", "tapering")),
        )
        .order_by(Prescription.created_at, Prescription.id)
    ).all()


def diary_windows(
    db: Session,
    patient_ids: Sequence[uuid.UUID],
    recent_from: date,
    baselines: dict[uuid.UUID, tuple[date, date]],
) -> Sequence[tuple[uuid.UUID, date, int]]:
    """Diary pain from ``recent_from`` on, and in each patient's baseline window.

    The recent days of every patient, then each baseline window as an index range scan on
    (patient_id, date), joined by UNION ALL; a window is cut short where the recent days
    begin, so no row comes twice. On PostgreSQL the windows are three array parameters
    unnested into rows (one short statement); elsewhere one SELECT per window."""
    if not patient_ids:
        return []
    columns = (DiaryEntry.patient_id, DiaryEntry.date, DiaryEntry.pain)
    recent = select(*columns).where(
        _one_of(db, DiaryEntry.patient_id, patient_ids), DiaryEntry.date >= recent_from
    )
    windows = [
        (pid, first, min(last, recent_from - timedelta(days=1)))
        for pid, (first, last) in baselines.items()
        if first < recent_from
    ]
    if db.get_bind().dialect.name == "postgresql":
        statement: Any = recent
        if windows:
            w = (
                func.unnest(
                    bindparam(None, [x[0] for x in windows], type_=ARRAY(Uuid)),
                    bindparam(None, [x[1] for x in windows], type_=ARRAY(Date)),
                    bindparam(None, [x[2] for x in windows], type_=ARRAY(Date)),
                )
                .table_valued(column("pid", Uuid), column("first", Date), column("last", Date))
                .render_derived(name="baseline_window")
            )
            in_window = select(*columns).join(
                w,
                and_(
                    DiaryEntry.patient_id == w.c.pid,
                    DiaryEntry.date >= w.c.first,
                    DiaryEntry.date <= w.c.last,
                ),
            )
            statement = union_all(recent, in_window)
        return [(pid, d, p) for pid, d, p in db.execute(statement).all()]
    branches = [
        select(*columns).where(
            DiaryEntry.patient_id == pid, DiaryEntry.date >= first, DiaryEntry.date <= last
        )
        for pid, first, last in windows
    ]
    out: list[tuple[uuid.UUID, date, int]] = []
    # SQLite allows at most 500 SELECTs in one compound statement.
    for start in range(0, max(len(branches), 1), _WINDOWS_PER_STATEMENT):
        parts = branches[start : start + _WINDOWS_PER_STATEMENT]
        if start == 0:
            parts = [recent, *parts]
        compound = union_all(*parts) if len(parts) > 1 else parts[0]
        out.extend((pid, d, p) for pid, d, p in db.execute(compound).all())
    return out


_WINDOWS_PER_STATEMENT = 400


def dose_events_for(
    db: Session, patient_ids: Sequence[uuid.UUID], since: datetime
) -> Sequence[tuple[uuid.UUID, date | None, datetime, str]]:
    if not patient_ids:
        return []
    rows = db.execute(
        select(
            DoseEvent.patient_id, DoseEvent.scheduled_for, DoseEvent.taken_at, DoseEvent.status
        ).where(_one_of(db, DoseEvent.patient_id, patient_ids), DoseEvent.taken_at >= since)
    ).all()
    return [(pid, day, at, status) for pid, day, at, status in rows]


def scheduled_follow_ups_for(db: Session, patient_ids: Sequence[uuid.UUID]) -> Sequence[FollowUp]:
    if not patient_ids:
        return []
    return db.scalars(
        select(FollowUp)
        .where(_one_of(db, FollowUp.patient_id, patient_ids), FollowUp.status == "scheduled")
        .order_by(FollowUp.due)
    ).all()


def questionnaire_counts(
    db: Session, patient_ids: Sequence[uuid.UUID], since: datetime
) -> dict[uuid.UUID, int]:
    if not patient_ids:
        return {}
    rows = db.execute(
        select(QuestionnaireResponse.patient_id, func.count())
        .where(
            _one_of(db, QuestionnaireResponse.patient_id, patient_ids),
            QuestionnaireResponse.completed_at >= since,
        )
        .group_by(QuestionnaireResponse.patient_id)
    ).all()
    return {pid: int(n) for pid, n in rows}


def resolve_overdue_alert(
    db: Session, patient_id: uuid.UUID, follow_up_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> None:
    """A follow-up marked done or cancelled settles its overdue alert."""
    alert = db.scalars(
        select(Alert)
        .where(
            Alert.patient_id == patient_id,
            Alert.cause_key == f"overdue-follow-up:{follow_up_id}",
            Alert.status != "resolved",
        )
        # Locked and read afresh, so a clinician's change to the alert at the same moment
        # is neither overwritten nor overwrites this one (PostgreSQL; SQLite serialises).
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if alert is not None:
        alert.status, alert.resolved_by, alert.resolved_at = "resolved", user_id, now
        alert.note = (alert.note + "\n" if alert.note else "") + "Follow-up updated."
        alert.version += 1


def claim_follow_up_version(db: Session, follow_up_id: uuid.UUID, expected: int) -> bool:
    """Move the follow-up from ``expected`` to the next version; False if it moved."""
    result = db.execute(
        update(FollowUp)
        .where(FollowUp.id == follow_up_id, FollowUp.version == expected)
        .values(version=expected + 1)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def replace_clinical_facts(
    db: Session, patient_id: uuid.UUID, version: int, new: dict[str, Any]
) -> bool:
    """Set the patient's recorded facts to ``new`` if their version is still
    ``version`` (compare-and-set), so two changes at once cannot both win."""
    result = db.execute(
        update(Patient)
        .where(Patient.id == patient_id, Patient.facts_version == version)
        .values(**new, facts_version=version + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def has_withdrawn_consent(db: Session, patient_id: uuid.UUID) -> bool:
    """True when the patient withdrew their consent and has not given it again (a
    patient with no consent on record, e.g. from an import, has not withdrawn)."""
    rows = db.scalars(select(Consent.withdrawn_at).where(Consent.patient_id == patient_id)).all()
    return bool(rows) and all(at is not None for at in rows)
