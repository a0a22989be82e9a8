"""What patients do with questionnaires (and what clinicians and other areas read).

A submitted response is scored here, never by the client, and kept as it was sent:
responses are not changed after submission. Answers that need action (PHQ-9 item 9
above 0, any red flag) raise the care team's alert in the same transaction as the
response, so the alert can never be missing for a stored answer, and the patient is
shown the signposting in the reply.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from painpath.alerts.domain import questionnaire_causes
from painpath.alerts.service import raise_causes
from painpath.auth.domain import Actor
from painpath.care.models import CarePlan, Patient
from painpath.care.service import (
    authorize_patient,
    patient_today,
    record_access,
    record_denied,
)
from painpath.kit.errors import InvalidInput, NotFound
from painpath.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from painpath.kit.records import (
    Ctx,
    body_hash,
    check_if_match,
    etag,
    hold_id,
    is_replay,
    stale_record,
)
from painpath.questionnaires import repository
from painpath.questionnaires.domain import (
    DEFAULT_SCHEDULE,
    Instrument,
    ScheduleFacts,
    ScheduleRule,
    Score,
    advice_for,
    band_label,
    completion,
    describe_rule,
    due_now,
    get_instrument,
    load_instruments,
    parse_schedule,
    plain,
    result_meaning,
    result_sentence,
    schedule_rule_json,
    score_instrument,
)
from painpath.questionnaires.models import QuestionnaireResponse
from painpath.questionnaires.schemas import (
    AdviceRead,
    CompletionRates,
    CompletionRead,
    DueList,
    DueRead,
    InstrumentList,
    InstrumentSummary,
    QuestionnaireResponseCreate,
    QuestionnaireResponseRead,
    ScheduleRead,
    ScheduleRuleRead,
    ScheduleUpdate,
)

log = logging.getLogger("painpath.questionnaires")

RESPONSE = "questionnaire-response"
SCHEDULE = "questionnaire-schedule"
PATIENT_ONLY = frozenset({"patient"})
MAX_RATE_DAYS = 730


# --------------------------------------------------------------------------- instruments


def list_instruments() -> InstrumentList:
    """Every instrument PainPath can ask and score (definitions are public)."""
    return InstrumentList(
        items=[
            InstrumentSummary(
                code=i.code,
                name=i.name,
                version=i.version,
                items=len(i.items),
                source=i.source.citation,
                licence=i.licence.note,
                wording_restricted=any(item.wording_restricted for item in i.items),
            )
            for i in load_instruments().values()
        ]
    )


def instrument_definition(code: str) -> dict[str, Any]:
    """An instrument's full definition. Item wording appears only where its licence
    allows; restricted items carry their short label only."""
    instrument = form_instrument(code)
    definition = instrument.definition()
    for raw, item in zip(definition.get("items", []), instrument.items, strict=True):
        if item.wording_restricted:
            raw["text"] = None
    return definition


def form_instrument(code: str) -> Instrument:
    """The instrument with this code; an unknown code is a 404 (a page or record)."""
    instruments = load_instruments()
    if code not in instruments:
        raise NotFound(f"no questionnaire called {code!r}")
    return instruments[code]


# --------------------------------------------------------------------------- responses


def submit_response(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    data: QuestionnaireResponseCreate,
) -> tuple[QuestionnaireResponseRead, bool]:
    """Score and store a patient's answers; (the response, whether it was created now).

    The same id and body again returns the stored response and raises nothing new.
    """
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=RESPONSE, action="create", writers=PATIENT_ONLY
    )
    digest = body_hash(data.model_dump(mode="json"))
    hold_id(db, data.id)
    existing = repository.response(db, data.id)
    if existing is not None and is_replay(existing, patient.id, digest):
        return to_read(existing), False
    instrument = get_instrument(data.instrument)
    result = score_instrument(instrument, data.answers)
    row = QuestionnaireResponse(
        id=data.id,
        patient_id=patient.id,
        instrument=instrument.code,
        instrument_version=instrument.version,
        answers=[int(a) for a in data.answers],
        total=Decimal(str(result.total)),
        band=result.band,
        subscales=dict(result.subscales),
        flags=list(result.flags),
        completed_at=ctx.now,
        body_hash=digest,
        created_by=actor.user_id,
        created_at=ctx.now,
    )
    db.add(row)
    db.flush()
    # The alert rules (ids, urgency, once per response) belong to the alerts area; they
    # run here, in this transaction, so a stored answer never lacks its alert.
    causes = questionnaire_causes(str(row.id), instrument.code, result.flags)
    raise_causes(db, patient.id, causes, ctx.now)
    record_access(
        db, actor, patient, ctx, resource_type=RESPONSE, action="create", resource_id=str(row.id)
    )
    return to_read(row), True


def get_response(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, response_id: uuid.UUID
) -> QuestionnaireResponseRead:
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=RESPONSE,
        action="read",
        resource_id=str(response_id),
    )
    row = repository.patient_response(db, patient.id, response_id)
    if row is None:
        record_denied(
            db,
            actor,
            ctx,
            action="read",
            resource_type=RESPONSE,
            resource_id=str(response_id),
            patient_id=patient.id,
            reason="no such questionnaire response",
        )
        raise NotFound("no such questionnaire response")
    record_access(
        db, actor, patient, ctx, resource_type=RESPONSE, action="read", resource_id=str(row.id)
    )
    return to_read(row)


def list_responses(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    *,
    start: date | None,
    end: date | None,
    instrument: str | None,
    cursor: str | None,
    limit: int,
) -> Page[QuestionnaireResponseRead]:
    """Responses completed on ``start`` to ``end`` (the patient's own dates, both
    included), oldest first; ``instrument`` picks one instrument."""
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=RESPONSE, action="list")
    check_limit(limit)
    if start and end and start > end:
        raise InvalidInput("'from' must be on or before 'to'", field="from")
    if instrument is not None:
        get_instrument(instrument)
    after = _parse_cursor(decode_cursor(cursor))
    lower, upper = _utc_bounds(patient, start, end)
    rows = repository.responses(
        db,
        patient.id,
        start=lower,
        end=upper,
        instrument=instrument,
        after=after,
        limit=limit + 1,
    )
    items = [to_read(r) for r in rows[:limit]]
    nxt = None
    if len(rows) > limit:
        last = rows[limit - 1]
        nxt = encode_cursor(f"{last.completed_at.isoformat()}|{last.id}")
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=RESPONSE,
        action="list",
        reason=f"{len(items)} responses",
    )
    return Page(items=items, next_cursor=nxt)


def to_read(row: QuestionnaireResponse) -> QuestionnaireResponseRead:
    """A stored response as clients read it, with the advice its flags need."""
    score = stored_score(row)
    return QuestionnaireResponseRead(
        id=row.id,
        patient_id=row.patient_id,
        instrument=row.instrument,
        instrument_version=row.instrument_version,
        answers=list(row.answers),
        total=score.total,
        band=score.band,
        subscales=score.subscales,
        flags=score.flags,
        advice=[AdviceRead(**a.to_dict()) for a in advice_for(score)],
        completed_at=row.completed_at,
        created_at=row.created_at,
    )


def stored_score(row: QuestionnaireResponse) -> Score:
    """The stored score, with the total typed as the scorer gives it (a mean is a
    decimal number, a sum or a single item a whole number)."""
    instrument = load_instruments().get(row.instrument)
    value = Decimal(row.total)
    total: int | float
    if instrument is not None:
        total = float(value) if instrument.scoring.method == "mean" else int(value)
    else:
        total = int(value) if value == value.to_integral_value() else float(value)
    return Score(
        instrument=row.instrument,
        total=total,
        band=row.band,
        subscales=dict(row.subscales or {}),
        flags=list(row.flags or []),
    )


def _utc_bounds(
    patient: Patient, start: date | None, end: date | None
) -> tuple[datetime | None, datetime | None]:
    zone = ZoneInfo(patient.timezone)
    lower = datetime.combine(start, time.min, tzinfo=zone).astimezone(UTC) if start else None
    upper = (
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
        if end
        else None
    )
    return lower, upper


def _parse_cursor(text: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not text:
        return None
    at, _, rid = text.partition("|")
    try:
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError(at)
        return when, uuid.UUID(rid)
    except ValueError:
        raise InvalidInput("the cursor is not valid", field="cursor") from None


# --------------------------------------------------------------------------- schedules


def _local_date(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def schedule_rules(db: Session, patient_id: uuid.UUID) -> tuple[ScheduleRule, ...]:
    """The patient's questionnaire schedule: their care plan's, or the defaults.

    A care plan whose schedule cannot be read falls back to the defaults (and is
    logged), so a bad setting never hides a due questionnaire.
    """
    settings = repository.care_plan_settings(db, patient_id)
    try:
        return parse_schedule(settings)
    except InvalidInput as error:
        log.warning("care plan schedule ignored for a patient: %s", error.problems[0].field)
        return parse_schedule(None)


DIARY_INSTRUMENTS = frozenset({"nrs"})
"""Scheduled by the diary area (every day), not by the questionnaire schedule."""

CLINICIANS_ONLY = frozenset({"clinician"})


def schedule_etag(patient_id: uuid.UUID, version: int) -> str:
    return etag(patient_id, version)


def _schedule_read(patient: Patient, plan: CarePlan | None) -> ScheduleRead:
    try:
        rules = {r.instrument: r for r in parse_schedule(None if plan is None else plan.settings)}
    except InvalidInput:
        rules = {r.instrument: r for r in DEFAULT_SCHEDULE}
    defaults = {r.instrument: r for r in DEFAULT_SCHEDULE}
    items = []
    for code, instrument in load_instruments().items():
        if code in DIARY_INSTRUMENTS:
            continue
        rule, default = rules.get(code), defaults.get(code)
        items.append(
            ScheduleRuleRead(
                code=code,
                name=instrument.name,
                **schedule_rule_json(rule),
                words=describe_rule(rule),
                is_default=schedule_rule_json(rule) == schedule_rule_json(default),
                default_words=describe_rule(default),
                source=rule.source if rule is not None else "not scheduled",
            )
        )
    return ScheduleRead(
        patient_id=patient.id, version=0 if plan is None else plan.version, instruments=items
    )


def get_schedule(db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID) -> ScheduleRead:
    """The patient's questionnaire schedule, instrument by instrument (the patient or
    their care team asking); audited."""
    return schedule_page(db, actor, ctx, patient_id)[0]


def schedule_page(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID
) -> tuple[ScheduleRead, str]:
    """The schedule and the patient's name, for the clinician's page; audited."""
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=SCHEDULE, action="read")
    out = _schedule_read(patient, repository.care_plan(db, patient.id))
    record_access(db, actor, patient, ctx, resource_type=SCHEDULE, action="read", reason="schedule")
    return out, patient.name


def update_schedule(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    data: ScheduleUpdate,
    *,
    if_match: str | None,
) -> ScheduleRead:
    """Replace the patient's questionnaire schedule (If-Match: the ETag read last).

    Only a clinician in the care team; instruments not listed follow the defaults. The
    care plan's other settings are kept; audited with what changed."""
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=SCHEDULE,
        action="update",
        writers=CLINICIANS_ONLY,
    )
    plan = repository.care_plan(db, patient.id)
    check_if_match(if_match, patient.id, 0 if plan is None else plan.version)
    raw: dict[str, Any] = {}
    for code, rule in data.instruments.items():
        if code in DIARY_INSTRUMENTS:
            raise InvalidInput(
                "the daily pain diary is scheduled every day by the diary, not here",
                field=f"instruments.{code}",
            )
        raw[code] = False if not rule.scheduled else rule.model_dump(exclude={"scheduled"})
    parse_schedule({"questionnaires": raw}, base="instruments")
    if plan is None:
        plan = CarePlan(
            id=uuid.uuid4(),
            patient_id=patient.id,
            settings={"questionnaires": raw},
            version=1,
            updated_at=ctx.now,
        )
        try:
            with db.begin_nested():
                db.add(plan)
                db.flush()
        except IntegrityError as exc:
            raise stale_record() from exc
    else:
        if not repository.claim_care_plan_version(db, plan.id, plan.version):
            raise stale_record()
        db.refresh(plan)
        plan.settings = {**(plan.settings or {}), "questionnaires": raw}
        plan.updated_at = ctx.now
        db.flush()
    changed = sorted(raw) or ["defaults"]
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=SCHEDULE,
        action="update",
        resource_id=str(patient.id),
        reason=f"version {plan.version}: {', '.join(changed)}",
    )
    return _schedule_read(patient, plan)


def schedule_facts(db: Session, patient: Patient, today: date) -> ScheduleFacts:
    zone = ZoneInfo(patient.timezone)
    completions: dict[str, list[date]] = {}
    for code, at in repository.completion_times(db, patient.id):
        completions.setdefault(code, []).append(_local_date(at, zone))
    start = _local_date(patient.created_at, zone)
    first = repository.first_response_at(db, patient.id)
    if first is not None:
        start = min(start, _local_date(first, zone))
    episode = repository.current_episode(db, patient.id)
    return ScheduleFacts(
        today=today,
        start=start,
        episode_start=episode.onset_date if episode is not None else None,
        reviews=tuple(repository.review_dates(db, patient.id, until=today + timedelta(days=7))),
        completions={code: tuple(sorted(days)) for code, days in completions.items()},
    )


def _patient(db: Session, patient_id: uuid.UUID) -> Patient:
    patient = repository.patient(db, patient_id)
    if patient is None:
        raise NotFound("no such patient")
    return patient


def due_questionnaires(db: Session, patient_id: uuid.UUID, today: date) -> list[dict[str, Any]]:
    """The questionnaires due for a patient on ``today`` (their own calendar date):
    ``[{"code", "name", "reason", "kind", "due", "review"}]``, earliest due first.

    For other areas (the Today page, reminders); it does not authorise or audit, so
    call it only for a patient the actor may see.
    """
    patient = _patient(db, patient_id)
    instruments = load_instruments()
    facts = schedule_facts(db, patient, today)
    return [
        {
            "code": due.instrument,
            "name": instruments[due.instrument].name,
            "title": plain(instruments[due.instrument]).title,
            "reason": due.reason,
            "kind": due.kind,
            "due": due.due,
            "review": due.review,
        }
        for due in due_now(schedule_rules(db, patient.id), facts)
    ]


def completion_rates(
    db: Session, patient_id: uuid.UUID, today: date, days: int = 84
) -> dict[str, dict[str, Any]]:
    """Per scheduled instrument, over the ``days`` up to and including ``today``:
    ``{code: {"name", "due", "completed", "rate"}}`` (rate 0-1, None when nothing was
    due). An occasion counts once it is done or has been open for 7 days.

    For other areas (the clinician's views, reports); it does not authorise or audit.
    """
    if not 1 <= days <= MAX_RATE_DAYS:
        raise InvalidInput(f"days must be from 1 to {MAX_RATE_DAYS}", field="days")
    patient = _patient(db, patient_id)
    instruments = load_instruments()
    facts = schedule_facts(db, patient, today)
    return {
        c.instrument: {
            "name": instruments[c.instrument].name,
            "due": c.due,
            "completed": c.completed,
            "rate": c.rate,
        }
        for c in completion(schedule_rules(db, patient.id), facts, days=days)
    }


def list_due(db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID) -> DueList:
    """What is due today for the patient (the patient or their care team asking)."""
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=SCHEDULE, action="read")
    today = patient_today(patient, ctx)
    items = [DueRead(**d) for d in due_questionnaires(db, patient.id, today)]
    record_access(db, actor, patient, ctx, resource_type=SCHEDULE, action="read")
    return DueList(today=today, items=items)


def get_completion_rates(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, days: int
) -> CompletionRates:
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=SCHEDULE, action="read")
    today = patient_today(patient, ctx)
    rates = completion_rates(db, patient.id, today, days)
    record_access(
        db, actor, patient, ctx, resource_type=SCHEDULE, action="read", reason="completion rates"
    )
    return CompletionRates(
        days=days,
        start=today - timedelta(days=days - 1),
        to=today,
        instruments={code: CompletionRead(**r) for code, r in rates.items()},
    )


# --------------------------------------------------------------------------- the patient's pages


@dataclass(frozen=True)
class HistoryPoint:
    day: date
    total: int | float
    band_label: str | None
    response_id: uuid.UUID


@dataclass(frozen=True)
class InstrumentResults:
    """One instrument's results for the patient's page: the latest in words, and the
    trend (oldest first)."""

    code: str
    title: str
    score_name: str
    sentence: str
    meaning: str
    minimum: int | float
    maximum: int | float
    history: list[HistoryPoint]


@dataclass(frozen=True)
class Overview:
    today: date
    due: list[dict[str, Any]]
    results: list[InstrumentResults]
    instruments: list[tuple[str, str]]


@dataclass(frozen=True)
class ResultView:
    response: QuestionnaireResponseRead
    title: str
    sentence: str
    meaning: str
    completed_on: date


HISTORY_LIMIT = 500
# The order instruments are shown to patients: pain and function first, then mood.
PAGE_ORDER = ("peg", "nrs", "rmdq", "phq9", "gad7", "sleep", "pgic", "startback", "redflags")


def _page_order(instruments: Mapping[str, Instrument]) -> list[Instrument]:
    rank = {code: i for i, code in enumerate(PAGE_ORDER)}
    return sorted(instruments.values(), key=lambda i: (rank.get(i.code, len(rank)), i.code))


def overview(db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID) -> Overview:
    """The patient's questionnaires page: what is due today and past results."""
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=RESPONSE, action="list")
    zone = ZoneInfo(patient.timezone)
    today = patient_today(patient, ctx)
    instruments = load_instruments()
    rows = repository.recent_responses(db, patient.id, limit=HISTORY_LIMIT)
    by_code: dict[str, list[QuestionnaireResponse]] = {}
    for row in rows:
        by_code.setdefault(row.instrument, []).append(row)
    results: list[InstrumentResults] = []
    for instrument in _page_order(instruments):
        code = instrument.code
        done = by_code.get(code)
        if not done:
            continue
        scores = [stored_score(r) for r in done]
        latest = scores[-1]
        previous = scores[-2].total if len(scores) > 1 else None
        results.append(
            InstrumentResults(
                code=code,
                title=plain(instrument).title,
                score_name=plain(instrument).score_name,
                sentence=result_sentence(instrument, latest.total, latest.band, previous),
                meaning=result_meaning(instrument, latest.band),
                minimum=instrument.scoring.minimum,
                maximum=instrument.scoring.maximum,
                history=[
                    HistoryPoint(
                        day=_local_date(r.completed_at, zone),
                        total=s.total,
                        band_label=band_label(instrument, s.band),
                        response_id=r.id,
                    )
                    for r, s in zip(done, scores, strict=True)
                ],
            )
        )
    record_access(
        db, actor, patient, ctx, resource_type=RESPONSE, action="list", reason="results page"
    )
    return Overview(
        today=today,
        due=due_questionnaires(db, patient.id, today),
        results=results,
        instruments=[(i.code, plain(i).title) for i in _page_order(instruments)],
    )


def result_view(
    db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID, response_id: uuid.UUID
) -> ResultView:
    """One response in plain words, compared with the one before it."""
    response = get_response(db, actor, ctx, patient_id, response_id)
    instrument = form_instrument(response.instrument)
    before = repository.previous_response(
        db, response.patient_id, response.instrument, before=response.completed_at
    )
    previous = stored_score(before).total if before is not None else None
    zone = ZoneInfo(_patient(db, response.patient_id).timezone)
    return ResultView(
        response=response,
        title=plain(instrument).title,
        sentence=result_sentence(instrument, response.total, response.band, previous),
        meaning=result_meaning(instrument, response.band),
        completed_on=_local_date(response.completed_at, zone),
    )
