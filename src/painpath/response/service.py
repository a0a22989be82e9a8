""" "Does it help?": the response analysis of a treatment course from the stored data,
its charts, the "My data" overview, the evidence view and the review-point check.

What the analysis is given, from the database
---------------------------------------------
* **Diary**: the average pain of each diary entry (``DiaryEntry.pain``), from the 14
  days before the start up to today, or up to the end of the course when it has
  ended (a ``stopped_on`` date, or the day before a 0 mg step).
* **Start**: the first dose step's start date.
* **Target dose reached**: the date the planned daily dose first reached its highest
  step (30 mg then 60 mg → the day the 60 mg step starts).
* **Doses taken**: the patient's local dates of dose events recorded as ``taken`` or
  ``late`` for this prescription (or for no particular prescription).
* **Co-interventions**: therapy sessions of every kind (exercise, physiotherapy,
  mindfulness, relaxation, yoga, acupuncture, massage, chiropractic, TENS, vibration
  device, other; DESIGN.md counts them all as co-interventions), each run of sessions
  of one kind starting afresh after a gap of more than 28 days; and other medicines
  marked as pain medicines, from their start date. The domain reports those that
  started in or within 14 days before the assessment window, or after the baseline
  began.
* **Dose changes**: every dose step after the first that changes the daily dose
  (titration, increases, reductions, taper steps); the domain reports those inside the
  assessment window, which then mixes two doses. A titration step only falls inside a
  window assessed in the first weeks.
* **Today**: the patient's local date.

The other measures (PEG, RMDQ, PHQ-9, GAD-7) compare the latest response up to the
end of the assessment window with the baseline response: the latest one on or before
the start date and no more than 90 days before it. The minimal important change is
the one in the clinical reference (RMDQ 5 points or 30%, Ostelo 2008; PEG 30%);
PHQ-9 and GAD-7 have none there, so only the change is given. PGIC is the latest
answer after the start.

Many courses at a time
----------------------
:func:`course_results` gives the result of a whole caseload's courses (the outcomes
export): it reads the same rows for a few hundred patients per statement, as columns,
and builds each course's inputs and result with the same functions as
:func:`course_result`, so the two cannot differ.

Non-response at a review point
------------------------------
:func:`check_review_point` looks at the latest planned review point (8 or 12 weeks
after reaching the target dose, reference §1.3 design row and §4) that has passed,
for an active course. It assesses the 14 days ending on the review date and raises a
routine "non-response" alert when the category is ``minimal`` or ``worse``, i.e. the
observed reduction in average pain is below 30% (IMMPACT moderately important,
Dworkin 2008, reference §3.1; the product's responder definition). The probability of
a true reduction of 30% or more is put in the alert's summary but is not the trigger:
an observed reduction below 30% already means it is below one half, and a trigger on a
low probability alone would stay silent for noisy diaries that clearly did not
respond. ``insufficient-data`` raises nothing here (the diary area's reminders deal
with a missing diary). The alert is raised once per prescription and review point; a
point that already has its alert is not analysed again, and the worker judges a point
only in the 14 days after it (design choice: later, the clinician's review decides, with
the result at each review point in front of them).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, NamedTuple, Protocol, cast
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from painpath.alerts.models import Alert
from painpath.alerts.service import alert_for_cause, raise_alert
from painpath.auth.domain import Actor
from painpath.care.models import Patient
from painpath.care.service import (
    authorize_patient,
    patient_today,
    record_access,
    register_snapshot_extra,
)
from painpath.db import utcnow
from painpath.kit.errors import InvalidInput, NotFound
from painpath.kit.records import Ctx
from painpath.medication.models import Prescription
from painpath.response import charts, repository
from painpath.response.domain import (
    MINIMAL_IMPORTANT_CHANGES,
    Category,
    CoIntervention,
    DiaryPoint,
    PoolMethod,
    ResponseResult,
    analyze_response,
    compare_scores,
    parse_method,
)
from painpath.response.domain.analysis import BASELINE_DAYS, DEFAULT_WINDOW_DAYS
from painpath.response.evidence import evidence_view

RESPONSE = "response"
RESPONSE_CHART = "response-chart"
MY_DATA = "my-data"
MY_DATA_CHART = "my-data-chart"

CO_INTERVENTION_GAP_DAYS = 28  # a new run of sessions of one kind after a longer gap
BASELINE_SCORE_LOOKBACK_DAYS = 90  # a baseline questionnaire at most 90 days before start
REVIEW_ALERT_WEEKS = (8, 12)  # review points that can raise the non-response alert
REVIEW_JUDGE_DAYS = 14  # the worker judges a review point in the 14 days after it
NON_RESPONSE = frozenset({Category.MINIMAL, Category.WORSE})
NON_RESPONSE_SOURCE = (
    "IMMPACT (Dworkin 2008, J Pain 9:105-121; clinical/reference.md §3.1): a reduction "
    "below 30% is less than moderately important; duloxetine PIL/SmPC: evaluate the "
    'response "after 2 months" (reference §1.3); stop/continue decision by about 8-12 '
    "weeks (reference §4)"
)
ENDED_TAPER_STATUSES = frozenset({"cancelled", "withdrawn", "superseded"})


@dataclass(frozen=True)
class Measure:
    code: str
    name: str
    what: str
    maximum: float
    mic_key: str | None


MEASURES: tuple[Measure, ...] = (
    Measure("peg", "PEG", "pain and how much it gets in the way of life (0 to 10)", 10, "peg"),
    Measure("rmdq", "RMDQ", "what your back stops you doing (0 to 24)", 24, "rmdq"),
    Measure("phq9", "PHQ-9", "low mood (0 to 27)", 27, None),
    Measure("gad7", "GAD-7", "worry and anxiety (0 to 21)", 21, None),
)
FUNCTION_CODES = ("peg", "rmdq")
MOOD_CODES = ("phq9", "gad7")

# Plain words (reading age about 9-11) for each caveat code of the domain.
PATIENT_CAVEATS: dict[str, str] = {
    "not-started": "Your treatment has not started yet.",
    "insufficient-baseline": (
        "We don't have enough pain scores from the 2 weeks before you started. We need at least 4."
    ),
    "insufficient-window": (
        "We don't have enough pain scores from the days we looked at. We need at least 4."
    ),
    "baseline-zero": (
        "Your pain scores before you started were all 0, so we can't work out a change."
    ),
    "few-diary-days": (
        "Some days are missing from your pain diary, so the averages are less certain."
    ),
    "adherence-unknown": (
        "There is no record of your doses, so we can't tell if you took the medicine every day."
    ),
    "low-adherence": (
        "Your dose record shows the medicine was taken on fewer than 8 in every 10 days. "
        "The result may not show what it can do when taken every day."
    ),
    "co-intervention": (
        "You started something else for your pain around this time. Some of the change "
        "may be due to that."
    ),
    "co-intervention-earlier": (
        "You started something else for your pain after your 'before' days began. Some of "
        "the change may be due to that."
    ),
    "dose-change": ("Your dose changed during the days we looked at, so those days mix two doses."),
    "early-assessment": (
        "It is still early. In the studies, the effect was judged after about 3 months."
    ),
    "placebo": (
        "In the studies, many people taking a dummy pill (a placebo) also felt better. "
        "Pain often gets better by itself, and a bad spell is often followed by a better "
        "one. So a change in your diary does not prove that the medicine caused it."
    ),
}


# A short headline of the result for patients, by the domain's change label.
HEADLINES: dict[str, str] = {
    "substantial-improvement": "A big improvement",
    "moderate-improvement": "A moderate improvement",
    "small-improvement": "A small improvement",
    "no-meaningful-change": "About the same",
    "worse": "Worse than before",
    "cannot-tell": "We can't tell yet",
}


# --- gathering the inputs --------------------------------------------------------------


@dataclass(frozen=True)
class CourseInputs:
    """What the analysis of one course is given (see the module docstring)."""

    start: date
    target_dose_reached: date
    target_dose_mg: Decimal
    end: date | None
    upto: date
    diary: tuple[DiaryPoint, ...]
    doses_taken_on: frozenset[date]
    co_interventions: tuple[CoIntervention, ...]
    dose_changes: tuple[date, ...]


class _Step(Protocol):
    """A dose step as the analysis reads it (a ``DoseStep`` or a row of its columns)."""

    @property
    def start(self) -> date: ...

    @property
    def daily_dose_mg(self) -> Decimal: ...


class _Course(Protocol):
    """A prescription as the result shows it (a ``Prescription`` or a row of its columns)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def medicine(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def off_label(self) -> bool: ...

    @property
    def stopped_on(self) -> date | None: ...


class _StepRow(NamedTuple):
    start: date
    daily_dose_mg: Decimal


class _CourseRow(NamedTuple):
    id: uuid.UUID
    patient_id: uuid.UUID
    medicine: str
    status: str
    off_label: bool
    stopped_on: date | None


class _Answer(NamedTuple):
    """A questionnaire response as the other measures read it."""

    instrument: str
    day: date  # the patient's local date
    total: Any
    band: str | None
    subscales: dict[str, Any] | None


def _target(steps: Sequence[_Step]) -> tuple[date, Decimal]:
    """When the planned daily dose first reached its highest step, and that dose."""
    top = max(step.daily_dose_mg for step in steps)
    reached = min(step.start for step in steps if step.daily_dose_mg == top)
    return reached, top


def _dose_changes(steps: Sequence[_Step]) -> list[date]:
    """Every date the planned daily dose changed after the start (titration steps,
    increases, reductions and taper steps); the domain reports those inside the
    assessment window, where the window mixes two doses."""
    changes: list[date] = []
    previous: Decimal | None = None
    for step in steps:
        if previous is not None and step.daily_dose_mg != previous:
            changes.append(step.start)
        previous = step.daily_dose_mg
    return changes


def _course_end(stopped_on: date | None, steps: Sequence[_Step]) -> date | None:
    """The last day on the medicine, when the course has an end."""
    ends: list[date] = []
    if stopped_on is not None:
        ends.append(stopped_on)
    start = steps[0].start
    zero = [s.start for s in steps if s.daily_dose_mg == 0 and s.start > start]
    if zero:
        ends.append(min(zero) - timedelta(days=1))
    return min(ends) if ends else None


def _local_date(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _runs(days: Sequence[date]) -> list[date]:
    """The first day of each run of sessions (a new run after a long gap)."""
    starts: list[date] = []
    previous: date | None = None
    for day in sorted(set(days)):
        if previous is None or (day - previous).days > CO_INTERVENTION_GAP_DAYS:
            starts.append(day)
        previous = day
    return starts


def _co_interventions(
    sessions: Iterable[tuple[str, date]],
    medicines: Iterable[tuple[str, date, date | None]],
    baseline_first: date,
    upto: date,
) -> list[CoIntervention]:
    """From the therapy sessions (kind, date) up to ``upto`` and the other pain
    medicines (name, started on, stopped on), in the order of their start."""
    by_kind: dict[str, list[date]] = {}
    for kind, day in sessions:
        by_kind.setdefault(kind, []).append(day)
    items = [
        CoIntervention(started=day, kind=kind)
        for kind, days in sorted(by_kind.items())
        for day in _runs(days)
    ]
    for name, started, stopped in medicines:
        if started > upto:
            continue
        if stopped is not None and stopped < baseline_first:
            continue
        items.append(CoIntervention(started=started, kind=f"another pain medicine ({name})"))
    return items


@dataclass(frozen=True)
class _Span:
    """What a course's dose steps say: its start, target, end and the days to read."""

    start: date
    target_dose_reached: date
    target_dose_mg: Decimal
    end: date | None
    upto: date
    baseline_first: date
    doses_since: datetime
    dose_changes: tuple[date, ...]


def _span(stopped_on: date | None, steps: Sequence[_Step], today: date) -> _Span:
    start = steps[0].start
    target, target_mg = _target(steps)
    end = _course_end(stopped_on, steps)
    return _Span(
        start=start,
        target_dose_reached=target,
        target_dose_mg=target_mg,
        end=end,
        upto=min(today, end) if end is not None else today,
        baseline_first=start - timedelta(days=BASELINE_DAYS),
        doses_since=datetime.combine(start - timedelta(days=1), time(0), tzinfo=UTC),
        dose_changes=tuple(_dose_changes(steps)),
    )


def _dose_days(doses: Iterable[tuple[date | None, datetime]], zone: ZoneInfo) -> frozenset[date]:
    """The days of doses (scheduled for, taken at): the scheduled date, else the
    patient's local date of taking it."""
    return frozenset(scheduled or _local_date(taken_at, zone) for scheduled, taken_at in doses)


def _course_inputs(
    span: _Span,
    diary: Iterable[tuple[date, int]],
    doses_taken_on: frozenset[date],
    co_interventions: Sequence[CoIntervention],
) -> CourseInputs:
    """The inputs from the rows of the course's days: the diary from the baseline's
    first day to ``span.upto``, the days of the doses taken since the day before the
    start."""
    return CourseInputs(
        start=span.start,
        target_dose_reached=span.target_dose_reached,
        target_dose_mg=span.target_dose_mg,
        end=span.end,
        upto=span.upto,
        diary=tuple(DiaryPoint(day, pain) for day, pain in diary),
        doses_taken_on=doses_taken_on,
        co_interventions=tuple(co_interventions),
        dose_changes=span.dose_changes,
    )


def _inputs(
    db: Session, patient: Patient, prescription: Prescription, today: date
) -> CourseInputs | None:
    steps = list(repository.dose_steps(db, patient.id, prescription.id))
    if not steps:
        return None
    span = _span(prescription.stopped_on, steps, today)
    diary = repository.diary_pain(db, patient.id, start=span.baseline_first, end=span.upto)
    doses = repository.taken_doses(db, patient.id, prescription.id, since=span.doses_since)
    sessions = [
        (s.kind, s.date) for s in repository.therapy_sessions(db, patient.id, end=span.upto)
    ]
    medicines = [
        (m.name, m.started_on, m.stopped_on)
        for m in repository.pain_medicines(db, patient.id)
        if m.started_on is not None
    ]
    co = _co_interventions(sessions, medicines, span.baseline_first, span.upto)
    return _course_inputs(span, diary, _dose_days(doses, ZoneInfo(patient.timezone)), co)


def _analyse(
    inputs: CourseInputs, today: date, assess_from: date | None, assess_to: date | None
) -> ResponseResult:
    return analyze_response(
        inputs.diary,
        start=inputs.start,
        today=today,
        assess_from=assess_from,
        assess_to=assess_to,
        doses_taken_on=inputs.doses_taken_on,
        co_interventions=inputs.co_interventions,
        dose_changes=inputs.dose_changes,
        target_dose_reached=inputs.target_dose_reached,
    )


# --- the other measures ----------------------------------------------------------------


def _mg(dose: Decimal) -> int | str:
    number = Decimal(dose)
    if number == number.to_integral_value():
        return int(number)
    return format(number.normalize(), "f")


def _score_value(total: Any) -> float | None:
    try:
        value = float(Decimal(str(total)))
    except (InvalidOperation, ValueError):
        return None
    return value if math.isfinite(value) else None


def _measure_words(measure: Measure, item: dict[str, Any]) -> str:
    baseline = item["baseline"]
    latest = item["latest"]
    if baseline is None and latest is None:
        return f"No {measure.name} answers yet."
    if baseline is None:
        return f"No {measure.name} answer from before you started, so we can't compare."
    if latest is None:
        return f"No {measure.name} answer since you started yet."
    comparison = item["comparison"]
    b, c = baseline["score"], latest["score"]
    if comparison["direction"] == "same":
        return f"{measure.name}: {b:g} before you started and {c:g} now: no change."
    way = "lower (better)" if comparison["direction"] == "better" else "higher (worse)"
    text = f"{measure.name}: {b:g} before you started and {c:g} now, {way}."
    if comparison["crosses_mic"] is None:
        return text + " There is no agreed size of change that matters for this score."
    if comparison["improved_beyond_mic"]:
        return text + " That is big enough to matter."
    if comparison["worsened_beyond_mic"]:
        return text + " That is a change big enough to matter."
    return text + " That is smaller than the change that usually matters."


def _answers(
    rows: Iterable[tuple[str, datetime, Any, str | None, dict[str, Any] | None]], zone: ZoneInfo
) -> list[_Answer]:
    """(instrument, completed at, total, band, subscales) rows on the patient's calendar."""
    return [
        _Answer(code, _local_date(at, zone), total, band, subscales)
        for code, at, total, band, subscales in rows
    ]


def _other_measures(
    answers: Sequence[_Answer], start: date, upto: date
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """PEG, RMDQ, PHQ-9 and GAD-7 against their baseline, and PGIC, from the patient's
    answers in the order they were completed."""
    by_code: dict[str, list[tuple[date, _Answer]]] = {}
    for answer in answers:
        by_code.setdefault(answer.instrument, []).append((answer.day, answer))
    earliest = start - timedelta(days=BASELINE_SCORE_LOOKBACK_DAYS)
    measures: list[dict[str, Any]] = []
    for measure in MEASURES:
        rows = by_code.get(measure.code, [])
        before = [
            (d, r) for d, r in rows if earliest <= d <= start and _score_value(r.total) is not None
        ]
        after = [(d, r) for d, r in rows if start < d <= upto and _score_value(r.total) is not None]
        baseline = before[-1] if before else None
        latest = after[-1] if after else None
        item: dict[str, Any] = {
            "instrument": measure.code,
            "name": measure.name,
            "what": measure.what,
            "baseline": None
            if baseline is None
            else {"date": baseline[0].isoformat(), "score": _score_value(baseline[1].total)},
            "latest": None
            if latest is None
            else {"date": latest[0].isoformat(), "score": _score_value(latest[1].total)},
            "comparison": None,
            "minimal_important_change": None,
        }
        mic = MINIMAL_IMPORTANT_CHANGES.get(measure.mic_key) if measure.mic_key else None
        if mic is not None:
            item["minimal_important_change"] = {
                "points": mic.points,
                "percent": mic.percent,
                "source": mic.source,
            }
        b = None if baseline is None else _score_value(baseline[1].total)
        c = None if latest is None else _score_value(latest[1].total)
        if b is not None and c is not None:
            item["comparison"] = compare_scores(
                b, c, mic.points if mic else None, mic.percent if mic else None
            ).to_json()
        item["words"] = _measure_words(measure, item)
        measures.append(item)
    pgic_rows = [(d, r) for d, r in by_code.get("pgic", []) if start < d <= upto]
    pgic: dict[str, Any] | None = None
    if pgic_rows:
        day, response = pgic_rows[-1]
        band = response.band or ""
        pgic = {
            "date": day.isoformat(),
            "answer": band.replace("-", " ").capitalize() if band else None,
            "band": band or None,
            "much_or_very_much_improved": (response.subscales or {}).get("responder") == 1,
            "source": (
                'PGIC "much" or "very much improved" is the clinically important anchor '
                "(Farrar 2001; clinical/reference.md §3.1)"
            ),
        }
    return measures, pgic


# --- the result --------------------------------------------------------------------------


def chart_url(
    patient_id: uuid.UUID,
    prescription_id: uuid.UUID,
    assess_from: date | None = None,
    assess_to: date | None = None,
) -> str:
    url = f"/api/v1/patients/{patient_id}/prescriptions/{prescription_id}/response/chart.svg"
    if assess_from is not None and assess_to is not None:
        url += f"?assess_from={assess_from.isoformat()}&assess_to={assess_to.isoformat()}"
    return url


def _chart_data(inputs: CourseInputs, result: ResponseResult) -> charts.ResponseChartData:
    window = result.treatment_window
    return charts.ResponseChartData(
        diary=[(p.day, float(p.pain)) for p in inputs.diary],
        start=inputs.start,
        baseline=(result.baseline_window.first, result.baseline_window.last),
        baseline_mean=result.baseline_mean if result.baseline_days else None,
        assessment=None if window is None else (window.first, window.last),
        assessment_mean=result.treatment_mean if result.treatment_days else None,
        target_dose_reached=inputs.target_dose_reached,
    )


def _course_json(prescription: _Course, inputs: CourseInputs | None) -> dict[str, Any]:
    return {
        "prescription_id": str(prescription.id),
        "medicine": prescription.medicine,
        "status": prescription.status,
        "off_label": prescription.off_label,
        "start": None if inputs is None else inputs.start.isoformat(),
        "target_dose_reached": None if inputs is None else inputs.target_dose_reached.isoformat(),
        "target_dose_mg": None if inputs is None else _mg(inputs.target_dose_mg),
        "end": None if inputs is None or inputs.end is None else inputs.end.isoformat(),
    }


def _no_schedule_result(prescription: _Course, today: date) -> dict[str, Any]:
    message = "the prescription has no dose schedule, so there is no start date to assess from"
    return {
        "baseline_mean": None,
        "treatment_mean": None,
        "change": None,
        "percent_change": None,
        "category": Category.INSUFFICIENT_DATA.value,
        "probability_moderate_or_better": None,
        "caveats": [{"code": "no-schedule", "message": message}],
        "change_label": "cannot-tell",
        "baseline_days": 0,
        "treatment_days": 0,
        "windows": {"baseline": None, "treatment": None},
        "early_response": None,
        "early_response_percent_change": None,
        "review_points": [],
        "review_points_basis": "no dose schedule",
        "uncertainty_model": None,
        "summaries": {
            "patient": "We can't tell yet whether this medicine is helping: it has no dose "
            "plan yet.",
            "clinician": f"Insufficient data: {message}.",
            "beside_the_trials": "",
        },
        "sources": [],
        "course": _course_json(prescription, None),
        "headline": HEADLINES["cannot-tell"],
        "today": today.isoformat(),
        "inputs": None,
        "other_measures": [],
        "pgic": None,
        "patient_caveats": [{"code": "no-schedule", "text": message, "details": message}],
        "chart": None,
    }


def _review_window_from(inputs: CourseInputs, due: date) -> date:
    """The first day of the assessment window that ends at a review point: the 14 days
    up to it, never before the start."""
    return max(inputs.start, due - timedelta(days=DEFAULT_WINDOW_DAYS - 1))


def _review_point_results(
    inputs: CourseInputs, today: date, review_points: list[dict[str, Any]], *, analyse: bool
) -> list[dict[str, Any]]:
    """Each planned review point, whether it is reached, and (with ``analyse``) the
    result in the 14 days up to it once reached, so a review decides with the result at
    that point in front of it."""
    out: list[dict[str, Any]] = []
    for point in review_points:
        due = date.fromisoformat(point["date"])
        item = {**point, "reached": due <= inputs.upto, "result": None}
        if analyse and inputs.start < due <= inputs.upto:
            window_from = _review_window_from(inputs, due)
            at = _analyse(inputs, today, window_from, due)
            item["result"] = {
                "from": window_from.isoformat(),
                "to": due.isoformat(),
                "diary_days": at.treatment_days,
                "treatment_mean": at.treatment_mean,
                "percent_change": at.percent_change,
                "category": at.category.value,
                "probability_moderate_or_better": at.probability_moderate_or_better,
            }
        out.append(item)
    return out


def _course_result(
    db: Session,
    patient: Patient,
    prescription: Prescription,
    today: date,
    assess_from: date | None = None,
    assess_to: date | None = None,
    *,
    review_results: bool = True,
) -> dict[str, Any]:
    """The result of one course. ``review_results`` adds the result at each reached
    review point (three more analyses); callers that only need the headline category
    (the worker, the caseload, the export) leave it out."""
    inputs = _inputs(db, patient, prescription, today)
    if inputs is None:
        return _no_schedule_result(prescription, today)
    codes = [m.code for m in MEASURES] + ["pgic"]
    answers = _answers(
        repository.questionnaire_answers(db, patient.id, codes), ZoneInfo(patient.timezone)
    )
    return _result_json(
        patient.id,
        prescription,
        inputs,
        answers,
        today,
        assess_from,
        assess_to,
        review_results=review_results,
    )


def _result_json(
    patient_id: uuid.UUID,
    prescription: _Course,
    inputs: CourseInputs,
    answers: Sequence[_Answer],
    today: date,
    assess_from: date | None,
    assess_to: date | None,
    *,
    review_results: bool,
) -> dict[str, Any]:
    """The analysis of the inputs and everything the result shows with it."""
    result = _analyse(inputs, today, assess_from, assess_to)
    out = result.to_json()
    out["review_points"] = _review_point_results(
        inputs, today, out["review_points"], analyse=review_results
    )
    upto = assess_to or inputs.upto
    measures, pgic = _other_measures(answers, inputs.start, min(upto, inputs.upto))
    chart_data = _chart_data(inputs, result)
    out.update(
        {
            "course": _course_json(prescription, inputs),
            "headline": HEADLINES.get(result.change_label.value, ""),
            "today": today.isoformat(),
            "inputs": {
                "diary_days": len(inputs.diary),
                "dose_days_recorded": len(inputs.doses_taken_on),
                "co_interventions": [
                    {"kind": c.kind, "started": c.started.isoformat()}
                    for c in sorted(inputs.co_interventions, key=lambda c: c.started)
                ],
                "dose_changes": [d.isoformat() for d in inputs.dose_changes],
            },
            "other_measures": measures,
            "pgic": pgic,
            "patient_caveats": [
                {
                    "code": c.code,
                    "text": PATIENT_CAVEATS.get(c.code, c.message),
                    "details": c.message,
                }
                for c in result.caveats
            ],
            "chart": {
                "url": chart_url(patient_id, prescription.id, assess_from, assess_to),
                "alt": charts.response_chart_alt(chart_data),
            },
        }
    )
    return out


def _prescription(db: Session, patient: Patient, prescription_id: uuid.UUID) -> Prescription:
    prescription = repository.prescription(db, patient.id, prescription_id)
    if prescription is None:
        raise NotFound("no such prescription")
    return prescription


def analyze_course(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    prescription_id: uuid.UUID,
    assess_from: date | None = None,
    assess_to: date | None = None,
) -> dict[str, Any]:
    """The "does it help?" result of one treatment course (the CLI's fields and more).

    The patient themself or a clinician in their care team; audited."""
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=RESPONSE,
        action="read",
        resource_id=str(prescription_id),
    )
    prescription = _prescription(db, patient, prescription_id)
    out = _course_result(
        db, patient, prescription, patient_today(patient, ctx), assess_from, assess_to
    )
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=RESPONSE,
        action="read",
        resource_id=str(prescription.id),
        reason=f"category {out['category']}",
    )
    return out


def course_result(
    db: Session,
    patient_id: uuid.UUID,
    prescription_id: uuid.UUID,
    today: date,
    *,
    review_results: bool = False,
) -> dict[str, Any]:
    """The same result without authorisation or audit, for other services (reviews, the
    report, the worker) that have already authorised their caller. Raises NotFound when
    the prescription is not this patient's. The results at the review points are left
    out unless asked for."""
    patient = repository.patient(db, patient_id)
    if patient is None:
        raise NotFound("no such patient")
    prescription = _prescription(db, patient, prescription_id)
    return _course_result(db, patient, prescription, today, review_results=review_results)


BATCH_PATIENTS = 400  # patients per statement in course_results


def course_results(
    db: Session,
    courses: Sequence[tuple[uuid.UUID, uuid.UUID]],
    *,
    now: datetime | None = None,
    today: date | None = None,
) -> dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any]]:
    """:func:`course_result` (without the results at the review points) of many
    (patient id, prescription id) courses, by (patient id, prescription id), for a whole
    caseload: the rows of a few hundred patients are read in one statement each (about 8
    statements per 400 patients, not 8 per patient), as columns, and every course is
    analysed exactly as :func:`course_result` analyses it.

    Each patient's today is ``today``, or their own local date at ``now`` (give one of
    the two). A course whose patient or prescription does not exist, or whose
    prescription is not that patient's (where :func:`course_result` raises NotFound),
    is left out. No authorisation or audit: for services that have authorised their
    caller for every one of the patients."""
    if (now is None) == (today is None):
        raise ValueError("course_results needs either now or today")
    out: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any]] = {}
    if not courses:
        return out
    repository.no_parallel_plans(db)
    for first in range(0, len(courses), BATCH_PATIENTS):
        out.update(_batch_results(db, courses[first : first + BATCH_PATIENTS], now, today))
    return out


@dataclass(frozen=True)
class _BatchCourse:
    patient_id: uuid.UUID
    prescription: _CourseRow
    zone: ZoneInfo
    today: date
    span: _Span | None  # None: the prescription has no dose steps


def _batch_results(
    db: Session,
    courses: Sequence[tuple[uuid.UUID, uuid.UUID]],
    now: datetime | None,
    today: date | None,
) -> dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any]]:
    zones = repository.patient_zones(db, list(dict.fromkeys(pid for pid, _ in courses)))
    prescriptions = {
        row[0]: _CourseRow(*row)
        for row in repository.prescription_rows(db, list(dict.fromkeys(rx for _, rx in courses)))
    }
    steps = repository.dose_steps_by_prescription(db, list(prescriptions))
    found: list[_BatchCourse] = []
    for pid, rx_id in courses:
        rx = prescriptions.get(rx_id)
        zone_name = zones.get(pid)
        if rx is None or rx.patient_id != pid or zone_name is None:
            continue
        zone = ZoneInfo(zone_name)
        day = today if today is not None else cast(datetime, now).astimezone(zone).date()
        course_steps = [_StepRow(start, dose) for start, dose in steps.get(rx_id, ())]
        span = _span(rx.stopped_on, course_steps, day) if course_steps else None
        found.append(_BatchCourse(pid, rx, zone, day, span))

    analysed = [c for c in found if c.span is not None]
    spans = [c.span for c in analysed if c.span is not None]
    ids = list(dict.fromkeys(c.patient_id for c in analysed))
    diary: dict[uuid.UUID, list[tuple[date, int]]] = {}
    doses: dict[tuple[uuid.UUID, uuid.UUID], tuple[set[date], list[datetime]]] = {}
    sessions: dict[uuid.UUID, list[tuple[str, date]]] = {}
    medicines: dict[uuid.UUID, list[tuple[str, date, date | None]]] = {}
    answers: dict[uuid.UUID, list[tuple[str, datetime, Any, str | None, Any]]] = {}
    if ids:
        first = min(s.baseline_first for s in spans)
        last = max(s.upto for s in spans)
        diary = repository.diary_pain_by_patient(db, ids, start=first, end=last)
        doses = repository.taken_dose_days(
            db,
            [
                (c.patient_id, c.prescription.id, c.span.doses_since.date())
                for c in analysed
                if c.span is not None
            ],
        )
        sessions = repository.therapy_sessions_by_patient(db, ids, end=last)
        medicines = repository.pain_medicines_by_patient(db, ids)
        codes = [m.code for m in MEASURES] + ["pgic"]
        answers = repository.questionnaire_answers_by_patient(db, ids, codes)

    out: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any]] = {}
    for c in found:
        rx, span, pid = c.prescription, c.span, c.patient_id
        if span is None:
            out[(pid, rx.id)] = _no_schedule_result(rx, c.today)
            continue
        co = _co_interventions(
            [(kind, day) for kind, day in sessions.get(pid, ()) if day <= span.upto],
            medicines.get(pid, ()),
            span.baseline_first,
            span.upto,
        )
        days, times = doses[(pid, rx.id)]  # from the day before the start (UTC) on
        inputs = _course_inputs(
            span,
            [(d, p) for d, p in diary.get(pid, ()) if span.baseline_first <= d <= span.upto],
            frozenset(days.union(_local_date(t, c.zone) for t in times)),
            co,
        )
        out[(pid, rx.id)] = _result_json(
            pid,
            rx,
            inputs,
            _answers(answers.get(pid, ()), c.zone),
            c.today,
            None,
            None,
            review_results=False,
        )
    return out


def patient_courses(db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID) -> dict[str, Any]:
    """The patient (id, name) and the result of each of their treatment courses, newest
    first, for the "My result" page and the clinician's list; audited."""
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=RESPONSE, action="list")
    today = patient_today(patient, ctx)
    results = [
        _course_result(db, patient, prescription, today)
        for prescription in repository.prescriptions(db, patient.id)
    ]
    results.sort(key=lambda r: r["course"]["start"] or "", reverse=True)
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=RESPONSE,
        action="list",
        reason=f"{len(results)} courses",
    )
    return {"patient": {"id": str(patient.id), "name": patient.name}, "courses": results}


def course_page(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    prescription_id: uuid.UUID,
    assess_from: date | None = None,
    assess_to: date | None = None,
) -> dict[str, Any]:
    """The patient (id, name) and the result of one course, for the clinician's page."""
    result = analyze_course(db, actor, ctx, patient_id, prescription_id, assess_from, assess_to)
    patient = repository.patient(db, patient_id)
    name = patient.name if patient is not None else ""
    return {"patient": {"id": str(patient_id), "name": name}, "result": result}


def response_chart(
    db: Session,
    actor: Actor,
    ctx: Ctx,
    patient_id: uuid.UUID,
    prescription_id: uuid.UUID,
    assess_from: date | None = None,
    assess_to: date | None = None,
) -> str:
    """The response chart of one course as SVG; authorised and audited like the result."""
    patient = authorize_patient(
        db,
        actor,
        patient_id,
        ctx,
        resource_type=RESPONSE_CHART,
        action="read",
        resource_id=str(prescription_id),
    )
    prescription = _prescription(db, patient, prescription_id)
    today = patient_today(patient, ctx)
    inputs = _inputs(db, patient, prescription, today)
    if inputs is None:
        raise NotFound("this prescription has no dose schedule, so there is no chart")
    result = _analyse(inputs, today, assess_from, assess_to)
    svg = charts.response_chart(_chart_data(inputs, result))
    record_access(
        db,
        actor,
        patient,
        ctx,
        resource_type=RESPONSE_CHART,
        action="read",
        resource_id=str(prescription.id),
    )
    return svg


# --- my data -----------------------------------------------------------------------------


def _taper_steps(db: Session, patient: Patient) -> list[tuple[date, Decimal]]:
    steps: list[tuple[date, Decimal]] = []
    for plan in repository.taper_plans(db, patient.id):
        if plan.status in ENDED_TAPER_STATUSES:
            continue
        for raw in plan.steps or []:
            try:
                day = date.fromisoformat(str(raw["start"]))
                dose = Decimal(str(raw["daily_dose_mg"]))
            except (KeyError, TypeError, ValueError, InvalidOperation):
                continue
            if dose.is_finite():
                steps.append((day, dose))
    return sorted(set(steps))


def _my_data(
    db: Session, patient: Patient, today: date
) -> tuple[dict[str, Any], charts.MyDataChartData]:
    zone = ZoneInfo(patient.timezone)
    pain = [(d, float(p)) for d, p in repository.diary_pain(db, patient.id, end=today)]
    scores: dict[str, list[tuple[date, float]]] = {m.code: [] for m in MEASURES}
    for response in repository.questionnaire_responses(db, patient.id, list(scores)):
        value = _score_value(response.total)
        if value is not None:
            scores[response.instrument].append((_local_date(response.completed_at, zone), value))
    steps = [
        charts.DoseStepPoint(step.start, step.daily_dose_mg, medicine)
        for step, medicine in repository.all_dose_steps(db, patient.id)
    ]
    tapers = _taper_steps(db, patient)
    therapies = [(s.date, s.kind) for s in repository.therapy_sessions(db, patient.id, end=today)]
    days = [
        *(d for d, _ in pain),
        *(d for series in scores.values() for d, _ in series),
        *(s.start for s in steps),
        *(d for d, _ in tapers),
        *(d for d, _ in therapies),
    ]
    first = min(days) if days else today - timedelta(days=DEFAULT_WINDOW_DAYS)
    planned = [d for d, _ in tapers if d > today]
    last = max([today, *(d + timedelta(days=6) for d in planned)])
    by_code = {m.code: m for m in MEASURES}

    def series(codes: Sequence[str]) -> list[charts.ScoreSeries]:
        return [
            charts.ScoreSeries(code, by_code[code].name, by_code[code].maximum, scores[code])
            for code in codes
        ]

    chart_data = charts.MyDataChartData(
        first=first,
        last=last,
        pain=pain,
        function=series(FUNCTION_CODES),
        mood=series(MOOD_CODES),
        dose_steps=steps,
        taper_steps=tapers,
        therapies=therapies,
    )
    out = {
        "patient_id": str(patient.id),
        "first": first.isoformat(),
        "last": last.isoformat(),
        "today": today.isoformat(),
        "pain": [{"date": d.isoformat(), "pain": p} for d, p in pain],
        "scores": [
            {
                "instrument": m.code,
                "name": m.name,
                "what": m.what,
                "points": [{"date": d.isoformat(), "score": v} for d, v in scores[m.code]],
            }
            for m in MEASURES
        ],
        "dose_steps": [
            {
                "start": s.start.isoformat(),
                "daily_dose_mg": _mg(s.daily_dose_mg),
                "medicine": s.medicine,
            }
            for s in steps
        ],
        "taper_steps": [
            {"start": d.isoformat(), "daily_dose_mg": _mg(v), "planned": d > today}
            for d, v in tapers
        ],
        "therapies": [{"date": d.isoformat(), "kind": k} for d, k in therapies],
        "chart": {
            "url": f"/api/v1/patients/{patient.id}/my-data/chart.svg",
            "alt": charts.my_data_chart_alt(chart_data),
        },
    }
    return out, chart_data


def my_data(db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID) -> dict[str, Any]:
    """Pain, function and mood over time with the medicine and therapies; audited."""
    patient = authorize_patient(db, actor, patient_id, ctx, resource_type=MY_DATA, action="read")
    out, _ = _my_data(db, patient, patient_today(patient, ctx))
    record_access(db, actor, patient, ctx, resource_type=MY_DATA, action="read")
    return out


def my_data_chart(db: Session, actor: Actor, ctx: Ctx, patient_id: uuid.UUID) -> str:
    """The "My data" chart as SVG; audited."""
    patient = authorize_patient(
        db, actor, patient_id, ctx, resource_type=MY_DATA_CHART, action="read"
    )
    _, data = _my_data(db, patient, patient_today(patient, ctx))
    svg = charts.my_data_chart(data)
    record_access(db, actor, patient, ctx, resource_type=MY_DATA_CHART, action="read")
    return svg


# --- the evidence ------------------------------------------------------------------------


def _forest_rows(view: dict[str, Any]) -> list[charts.ForestRow]:
    block = view["discontinuation_for_adverse_events"]
    z = 1.959963984540054
    rows = [
        charts.ForestRow(
            label=f"{s['study']} ({s['duloxetine']} vs {s['placebo']})",
            estimate=math.exp(s["yi"]),
            low=math.exp(s["yi"] - z * math.sqrt(s["vi"])),
            high=math.exp(s["yi"] + z * math.sqrt(s["vi"])),
        )
        for s in block["studies"]
    ]
    pooled = block["pooled"]
    rows.append(
        charts.ForestRow(
            label=f"Pooled by PainPath ({pooled['method']}, k = {pooled['k']})",
            estimate=pooled["risk_ratio"],
            low=pooled["risk_ratio_ci"][0],
            high=pooled["risk_ratio_ci"][1],
            kind="pooled",
            prediction=(pooled["risk_ratio_pi"][0], pooled["risk_ratio_pi"][1]),
        )
    )
    for review in view["meta_analyses"]:
        for estimate in review.get("estimates", []):
            if estimate.get("outcome") == "discontinuation for adverse events":
                rows.append(
                    charts.ForestRow(
                        label=f"Published: {review['name']}",
                        estimate=float(estimate["value"]),
                        low=float(estimate["ci_low"]),
                        high=float(estimate["ci_high"]),
                        kind="published",
                    )
                )
    return rows


FOREST_WHAT = "stopping treatment because of side effects, duloxetine compared with placebo"


@lru_cache(maxsize=2)
def _evidence(method: PoolMethod) -> dict[str, Any]:
    view = evidence_view(method)
    rows = _forest_rows(view)
    view["forest_plot"] = {
        "url": f"/api/v1/evidence/forest.svg?method={method.value}",
        "alt": charts.forest_plot_alt(rows, what=FOREST_WHAT),
        "rows": [
            {
                "label": r.label,
                "kind": r.kind,
                "risk_ratio": r.estimate,
                "ci_low": r.low,
                "ci_high": r.high,
                "pi_low": None if r.prediction is None else r.prediction[0],
                "pi_high": None if r.prediction is None else r.prediction[1],
            }
            for r in rows
        ],
    }
    return view


def evidence(method: str | PoolMethod = PoolMethod.REML) -> dict[str, Any]:
    """The evidence view: trials, pooled analyses with citations, and PainPath's pooled
    discontinuation ratio with its forest plot rows (no patient data). ``method`` is
    REML or DL (anything else: 422 on "method")."""
    view = _evidence(parse_method(str(method)))
    return {**view, "forest_plot": dict(view["forest_plot"])}


def evidence_chart(method: str | PoolMethod = PoolMethod.REML) -> str:
    """The forest plot of the evidence view as SVG."""
    return _forest_svg(parse_method(str(method)))


@lru_cache(maxsize=2)
def _forest_svg(method: PoolMethod) -> str:
    rows = _forest_rows(evidence_view(method))
    return charts.forest_plot(
        rows,
        x_title="Risk ratio, log scale (above 1: more stopped on duloxetine)",
        title="Stopping because of side effects: duloxetine vs placebo",
    )


# --- the review point --------------------------------------------------------------------


def check_review_point(
    db: Session,
    patient_id: uuid.UUID,
    prescription_id: uuid.UUID,
    today: date,
    *,
    now: datetime | None = None,
) -> Alert | None:
    """Raise the non-response alert when the latest passed review point (8 or 12 weeks
    after reaching the target dose) shows a reduction below 30%; see the module
    docstring. Returns the alert (the one already raised for this review point, if any)
    or None. No authorisation: for reviews and the worker."""
    patient = repository.patient(db, patient_id)
    if patient is None:
        return None
    prescription = repository.prescription(db, patient.id, prescription_id)
    if prescription is None or prescription.status != "active":
        return None
    inputs = _inputs(db, patient, prescription, today)
    if inputs is None or (inputs.end is not None and inputs.end < today):
        return None
    passed = [
        (weeks, inputs.target_dose_reached + timedelta(weeks=weeks))
        for weeks in REVIEW_ALERT_WEEKS
        if inputs.target_dose_reached + timedelta(weeks=weeks) <= today
    ]
    if not passed:
        return None
    weeks, due = passed[-1]
    cause_key = f"non-response:{prescription.id}:{weeks}w"
    already = alert_for_cause(db, patient.id, cause_key)
    if already is not None:
        return already  # judged once: no need to analyse the course again
    if today > due + timedelta(days=REVIEW_JUDGE_DAYS):
        return None  # long past: judged at the clinician's review, not by the worker
    window_from = _review_window_from(inputs, due)
    result = _analyse(inputs, today, window_from, due)
    if (
        result.category not in NON_RESPONSE
        or result.percent_change is None
        or result.baseline_mean is None
        or result.treatment_mean is None
    ):
        return None
    probability = result.probability_moderate_or_better
    summary = (
        f"No meaningful response to {prescription.medicine} at the {weeks}-week review point "
        f"({due.isoformat()}): mean pain {result.baseline_mean:.1f} before the start, "
        f"{result.treatment_mean:.1f} from {window_from.isoformat()} to {due.isoformat()} "
        f"({result.percent_change:+.0f}%, IMMPACT {result.category.value}"
        + (f"; P(true reduction ≥30%) {probability:.2f}" if probability is not None else "")
        + "). Review whether to continue; never stop without a taper."
    )
    return raise_alert(
        db,
        patient_id=patient.id,
        rule="non-response",
        cause_key=cause_key,
        urgency="routine",
        summary=summary,
        source=NON_RESPONSE_SOURCE,
        now=now or utcnow(),
    )


def _review_snapshot(
    db: Session, patient: Patient, prescription_id: uuid.UUID, today: date
) -> dict[str, Any] | None:
    """The "does it help?" result kept with a review decision (what the clinician saw)."""
    try:
        result = course_result(db, patient.id, prescription_id, today, review_results=True)
    except (NotFound, InvalidInput):
        return None
    keys = (
        "baseline_mean",
        "treatment_mean",
        "change",
        "percent_change",
        "category",
        "probability_moderate_or_better",
    )
    out = {k: result.get(k) for k in keys}
    out["caveats"] = [c.get("code") for c in result.get("caveats", []) if isinstance(c, dict)]
    out["review_points"] = [
        {"weeks": p["weeks"], "date": p["date"], **p["result"]}
        for p in result.get("review_points", [])
        if p.get("result")
    ]
    return out


register_snapshot_extra("does_it_help", _review_snapshot)
