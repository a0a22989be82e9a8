"""The "does it help?" analysis of one treatment course, from the pain diary.

What it does
------------
* **Baseline**: diary days in the 14 days before the start (start−14 … start−1).
* **Assessment window**: the caller's (both ends included) or, by default, the latest
  14 days of data on treatment, ending at the last diary date (or ``today`` when
  there is none), never before the start.
* **Outcome**: the mean pain (0–10 NRS) in each window, the change (treatment −
  baseline) and the percent change ``(treatment − baseline) / baseline × 100``
  (negative is better).
* **Category** per IMMPACT (Dworkin et al., J Pain 2008;9:105–121; reference §3.1):
  ``substantial`` ≥50% reduction, ``moderate`` ≥30%, ``minimal`` less than 30%
  reduction and no more than 10% worse (told apart as "small improvement" for a
  10–30% reduction, IMMPACT's minimally important change being 10–20%, and "no
  meaningful change" otherwise), ``worse`` more than 10% worse, and
  ``insufficient-data`` when fewer than 4 diary days are in either window or the
  baseline mean is 0.

The uncertainty model and its assumptions
-----------------------------------------
``probability_moderate_or_better`` is the posterior probability that the *true*
treatment-window mean is at most 70% of the *true* baseline mean, i.e. that the true
reduction is 30% or more. It is a statement about this person's diary, not about the
medicine: it cannot separate a drug effect from natural improvement, regression to
the mean or placebo response (which is why the placebo caveat is always shown).

1. Within each window the daily scores vary around a constant level (the window
   mean); the deviations follow a stationary AR(1) process with the same
   autocorrelation ``rho`` and the same innovation-scale variance in both windows.
2. ``rho`` is the lag-1 autocorrelation of the residuals (score − its window mean),
   pooled over pairs of consecutive calendar days inside the same window, plus 1/n
   (n the average window length: centring a short series on its own mean biases
   the sample autocorrelation down by about 1/n). Because a handful of pairs gives a noisy
   estimate, it is shrunk towards 0.3 with a weight of 10 pairs and kept within
   0–0.8 (negative values would claim more information than the days hold; values
   near 1 would make every window uninformative). These are modelling choices, not
   clinical facts.
3. The daily standard deviation ``sigma`` has a weakly-informative prior worth 4
   observations centred on 1 point on the 0–10 scale, so that a diary with the same
   score every day does not produce false certainty.
4. Each window mean has ``n_eff = n (1 − rho) / (1 + rho)`` effective observations,
   so its standard error is ``sigma / sqrt(n_eff)``. Gaps in the diary are treated as
   if the remaining days were consecutive (a slight over-statement of ``rho``'s
   effect, so conservative).
5. With flat priors on the two true means, ``T − 0.7 B`` has a Student-t posterior
   centred on ``mean_T − 0.7 mean_B`` with scale
   ``sqrt(se_T² + 0.49 se_B²)`` and (approximately) ``4 + n_eff_B + n_eff_T − 2`` degrees of
   freedom (the autocorrelation also shrinks what the days say about ``sigma``).
   The probability is its mass at or below 0. No simulation is needed, so the
   result is exact and deterministic. The small posterior mass on impossible values
   (a mean below 0 or above 10) is ignored.

Consequences: an observed reduction of exactly 30% gives 0.5; more diary days, less
day-to-day noise and larger reductions move the probability away from 0.5; with few
or noisy days it stays near the middle.

Pure functions: no database, web, clock or randomness; ``today`` is passed in.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from scipy import stats

from painpath.kit.errors import InvalidInput, Problem

# --- thresholds, with their sources -------------------------------------------------

BASELINE_DAYS = 14  # the baseline: the 14 days before the start (product issue)
DEFAULT_WINDOW_DAYS = 14  # default assessment window (product issue)
MIN_DIARY_DAYS = 4  # fewer diary days in a window → insufficient-data (product issue)
WELL_COVERED_DAYS_PER_14 = 10  # fewer than 10 of 14 days → "few diary days" caveat
ADHERENCE_THRESHOLD = 0.80  # below 80% of days covered → caveat (product convention)
CO_INTERVENTION_LOOKBACK_DAYS = 14  # started in or within 14 days before the window
EARLY_RESPONSE_THRESHOLD = -15.0  # ≥15% reduction by week 2 (Alev 2017)
REVIEW_WEEKS = (4, 8, 12)  # after the target dose (product issue; reference §1.3 design row)
DECISION_WEEKS = 8  # stop/continue decision "by about 8–12 weeks" (reference §4)

# IMMPACT (Dworkin 2008), reference §3.1 [V]
SUBSTANTIAL_PERCENT = -50.0
MODERATE_PERCENT = -30.0
SMALL_IMPROVEMENT_PERCENT = -10.0  # IMMPACT minimally important: 10–20% decrease
WORSE_PERCENT = 10.0  # more than 10% worse → "worse" (product issue)
MODERATE_RATIO = 0.7  # treatment/baseline ≤ 0.7 ⇔ reduction ≥ 30%

# Alev 2017 pooled trials, reference §4 [V]
TRIAL_RESPONDERS_DULOXETINE_PERCENT = 59.7
TRIAL_RESPONDERS_PLACEBO_PERCENT = 47.8

# uncertainty model (module docstring, assumptions 2–3)
RHO_PRIOR = 0.3
RHO_PRIOR_WEIGHT_PAIRS = 10.0
RHO_MAX = 0.8
SIGMA_PRIOR = 1.0
SIGMA_PRIOR_WEIGHT = 4.0

_PERCENT_DECIMALS = 6  # compare percentages after rounding away float noise

SOURCES: tuple[dict[str, str], ...] = (
    {
        "id": "dworkin-2008",
        "citation": (
            "Dworkin RH et al. Interpreting the clinical importance of treatment outcomes "
            "in chronic pain clinical trials: IMMPACT recommendations. J Pain "
            "2008;9(2):105-121. doi:10.1016/j.jpain.2007.09.005"
        ),
        "used_for": "categories: ≥50% substantial, ≥30% moderate, 10–20% minimal",
    },
    {
        "id": "farrar-2001",
        "citation": "Farrar JT et al. Pain 2001;94(2):149-158 (PubMed 11690728)",
        "used_for": 'about 30% reduction ≈ patients\' "much improved" (plain-words summary)',
    },
    {
        "id": "alev-2017",
        "citation": (
            "Alev L et al. J Pain Res 2017;10:1723-1731. doi:10.2147/JPR.S138297 "
            "(post hoc pool of 4 placebo-controlled trials of duloxetine 60 mg in chronic "
            "low back pain; reference §4)"
        ),
        "used_for": (
            "≥30% pain reduction in 59.7% on duloxetine vs 47.8% on placebo; "
            "≥15% improvement by week 2 predicted response (RR 2.91)"
        ),
    },
)


class Category(StrEnum):
    """IMMPACT category of the change in average pain."""

    SUBSTANTIAL = "substantial"
    MODERATE = "moderate"
    MINIMAL = "minimal"
    WORSE = "worse"
    INSUFFICIENT_DATA = "insufficient-data"


class ChangeLabel(StrEnum):
    """Finer wording of the category (``minimal`` splits into two)."""

    SUBSTANTIAL_IMPROVEMENT = "substantial-improvement"
    MODERATE_IMPROVEMENT = "moderate-improvement"
    SMALL_IMPROVEMENT = "small-improvement"
    NO_MEANINGFUL_CHANGE = "no-meaningful-change"
    WORSE = "worse"
    CANNOT_TELL = "cannot-tell"


# --- input values ------------------------------------------------------------------


@dataclass(frozen=True)
class DiaryPoint:
    """One diary entry: the patient's local date and average pain (0–10) that day."""

    day: date
    pain: float


@dataclass(frozen=True)
class CoIntervention:
    """Something else started for the pain (physiotherapy, another pain medicine,
    acupuncture, massage, chiropractic, a vibration device, exercise, mindfulness)."""

    started: date
    kind: str


@dataclass(frozen=True)
class DateWindow:
    """A run of calendar days; both ends included."""

    first: date
    last: date

    @property
    def length(self) -> int:
        return (self.last - self.first).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    def describe(self) -> str:
        return f"{self.first.isoformat()} to {self.last.isoformat()}"


@dataclass(frozen=True)
class Caveat:
    """Something that limits what the result means; the message carries the numbers."""

    code: str
    message: str


@dataclass(frozen=True)
class UncertaintyModel:
    """What the probability was computed from (see the module docstring)."""

    rho: float
    rho_observed: float | None
    lag_pairs: int
    sigma: float
    degrees_of_freedom: float
    n_eff_baseline: float
    n_eff_treatment: float
    se_baseline: float
    se_treatment: float


@dataclass(frozen=True)
class ReviewPoint:
    weeks: int
    due: date


@dataclass(frozen=True)
class Summaries:
    patient: str
    clinician: str
    beside_the_trials: str


@dataclass(frozen=True)
class ResponseResult:
    """The "does it help?" result for one treatment course."""

    baseline_mean: float | None
    treatment_mean: float | None
    change: float | None
    percent_change: float | None
    category: Category
    change_label: ChangeLabel
    probability_moderate_or_better: float | None
    caveats: tuple[Caveat, ...]
    baseline_window: DateWindow
    treatment_window: DateWindow | None
    baseline_days: int
    treatment_days: int
    early_response: bool | None
    early_response_percent_change: float | None
    review_points: tuple[ReviewPoint, ...]
    review_points_basis: str
    uncertainty: UncertaintyModel | None
    summaries: Summaries
    sources: tuple[dict[str, str], ...] = field(default=SOURCES)

    def caveat_codes(self) -> list[str]:
        return [c.code for c in self.caveats]

    def to_json(self) -> dict[str, Any]:
        """The CLI/API shape (CONTRACT.md fields first); means rounded to 2 decimals."""

        def window_json(window: DateWindow | None, diary_days: int) -> dict[str, Any] | None:
            if window is None:
                return None
            return {
                "from": window.first.isoformat(),
                "to": window.last.isoformat(),
                "days": window.length,
                "diary_days": diary_days,
            }

        return {
            "baseline_mean": _round(self.baseline_mean, 2),
            "treatment_mean": _round(self.treatment_mean, 2),
            "change": _round(self.change, 2),
            "percent_change": _round(self.percent_change, 1),
            "category": self.category.value,
            "probability_moderate_or_better": _round(self.probability_moderate_or_better, 3),
            "caveats": [{"code": c.code, "message": c.message} for c in self.caveats],
            "change_label": self.change_label.value,
            "baseline_days": self.baseline_days,
            "treatment_days": self.treatment_days,
            "windows": {
                "baseline": window_json(self.baseline_window, self.baseline_days),
                "treatment": window_json(self.treatment_window, self.treatment_days),
            },
            "early_response": self.early_response,
            "early_response_percent_change": _round(self.early_response_percent_change, 1),
            "review_points": [
                {"weeks": r.weeks, "date": r.due.isoformat()} for r in self.review_points
            ],
            "review_points_basis": self.review_points_basis,
            "uncertainty_model": None
            if self.uncertainty is None
            else {
                "rho": round(self.uncertainty.rho, 3),
                "rho_observed": _round(self.uncertainty.rho_observed, 3),
                "lag_pairs": self.uncertainty.lag_pairs,
                "sigma": round(self.uncertainty.sigma, 3),
                "degrees_of_freedom": round(self.uncertainty.degrees_of_freedom, 1),
                "n_eff_baseline": round(self.uncertainty.n_eff_baseline, 2),
                "n_eff_treatment": round(self.uncertainty.n_eff_treatment, 2),
            },
            "summaries": {
                "patient": self.summaries.patient,
                "clinician": self.summaries.clinician,
                "beside_the_trials": self.summaries.beside_the_trials,
            },
            "sources": [dict(s) for s in self.sources],
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


# --- validation ----------------------------------------------------------------------


def _as_points(diary: Iterable[DiaryPoint | tuple[date, float]]) -> list[DiaryPoint]:
    points: list[DiaryPoint] = []
    for item in diary:
        points.append(item if isinstance(item, DiaryPoint) else DiaryPoint(item[0], item[1]))
    return points


def _as_number(value: object) -> float | None:
    """A finite float from an int, float or Decimal; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _validate(
    points: Sequence[DiaryPoint],
    start: date,
    today: date,
    assess_from: date | None,
    assess_to: date | None,
) -> None:
    problems: list[Problem] = []
    seen: set[date] = set()
    for point in points:
        where = f"diary[{point.day.isoformat()}]"
        pain = _as_number(point.pain)
        if pain is None:
            problems.append(Problem(where, f"pain {point.pain!r} is not a number"))
        elif not 0 <= pain <= 10:
            problems.append(Problem(where, f"pain {point.pain} is outside 0–10"))
        if point.day in seen:
            problems.append(Problem(where, "more than one entry for this date"))
        seen.add(point.day)
        if point.day > today:
            problems.append(Problem(where, f"dated after today ({today.isoformat()})"))
    if (assess_from is None) != (assess_to is None):
        problems.append(
            Problem("assess_from", "give both ends of the assessment window, or neither")
        )
    if assess_from is not None and assess_to is not None:
        if assess_from > assess_to:
            problems.append(
                Problem(
                    "assess_from",
                    f"the window starts ({assess_from.isoformat()}) after it ends "
                    f"({assess_to.isoformat()})",
                )
            )
        if assess_from < start:
            problems.append(
                Problem(
                    "assess_from",
                    f"the assessment window must start on or after the treatment start "
                    f"({start.isoformat()})",
                )
            )
        if assess_to > today:
            problems.append(
                Problem("assess_to", f"the window ends after today ({today.isoformat()})")
            )
    if problems:
        raise InvalidInput("the response analysis cannot use this input", problems)


# --- the analysis ----------------------------------------------------------------------


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _percent(baseline: float, current: float) -> float:
    return (current - baseline) / baseline * 100.0


def categorize(percent_change: float) -> tuple[Category, ChangeLabel]:
    """IMMPACT category (and finer label) of a percent change in pain (negative = better)."""
    pct = round(percent_change, _PERCENT_DECIMALS)
    if pct <= SUBSTANTIAL_PERCENT:
        return Category.SUBSTANTIAL, ChangeLabel.SUBSTANTIAL_IMPROVEMENT
    if pct <= MODERATE_PERCENT:
        return Category.MODERATE, ChangeLabel.MODERATE_IMPROVEMENT
    if pct > WORSE_PERCENT:
        return Category.WORSE, ChangeLabel.WORSE
    if pct <= SMALL_IMPROVEMENT_PERCENT:
        return Category.MINIMAL, ChangeLabel.SMALL_IMPROVEMENT
    return Category.MINIMAL, ChangeLabel.NO_MEANINGFUL_CHANGE


def _window_values(by_day: dict[date, float], window: DateWindow) -> tuple[list[date], list[float]]:
    days = sorted(d for d in by_day if d in window)
    return days, [by_day[d] for d in days]


def probability_moderate_or_better(
    baseline: Sequence[tuple[date, float]], treatment: Sequence[tuple[date, float]]
) -> tuple[float, UncertaintyModel]:
    """P(true reduction ≥ 30%) from two windows of (date, pain); see the module docstring.

    Each window needs at least 2 days and a baseline mean above 0."""
    windows = [sorted(baseline), sorted(treatment)]
    if len(windows[0]) < 2 or len(windows[1]) < 2:
        raise InvalidInput("each window needs at least 2 diary days", field="diary")
    means = [sum(v for _, v in w) / len(w) for w in windows]
    if means[0] <= 0:
        raise InvalidInput("the baseline mean must be above 0", field="diary")
    sum_sq = 0.0
    lag_products = 0.0
    pairs = 0
    n_total = 0
    for window, mean in zip(windows, means, strict=True):
        residual = {d: v - mean for d, v in window}
        sum_sq += sum(r * r for r in residual.values())
        n_total += len(window)
        for d, r in residual.items():
            following = residual.get(d + timedelta(days=1))
            if following is not None:
                lag_products += r * following
                pairs += 1
    rho_observed: float | None = None
    if pairs > 0 and sum_sq > 0:
        # lag-1 autocorrelation of the residuals, plus 1/n (n the average window
        # length): centring on the window mean biases it down by about 1/n
        rho_observed = (lag_products / pairs) / (sum_sq / n_total) + 2.0 / n_total
    rho_raw = (
        RHO_PRIOR
        if rho_observed is None
        else (pairs * rho_observed + RHO_PRIOR_WEIGHT_PAIRS * RHO_PRIOR)
        / (pairs + RHO_PRIOR_WEIGHT_PAIRS)
    )
    rho = min(RHO_MAX, max(0.0, rho_raw))
    sigma = math.sqrt(
        (SIGMA_PRIOR_WEIGHT * SIGMA_PRIOR**2 + sum_sq) / (SIGMA_PRIOR_WEIGHT + n_total - 2)
    )
    n_eff = [len(w) * (1 - rho) / (1 + rho) for w in windows]
    dof = SIGMA_PRIOR_WEIGHT + sum(n_eff) - 2
    se = [sigma / math.sqrt(n) for n in n_eff]
    centre = means[1] - MODERATE_RATIO * means[0]
    scale = math.sqrt(se[1] ** 2 + MODERATE_RATIO**2 * se[0] ** 2)
    probability = float(stats.t.cdf(-centre / scale, dof))
    return probability, UncertaintyModel(
        rho=rho,
        rho_observed=rho_observed,
        lag_pairs=pairs,
        sigma=sigma,
        degrees_of_freedom=dof,
        n_eff_baseline=n_eff[0],
        n_eff_treatment=n_eff[1],
        se_baseline=se[0],
        se_treatment=se[1],
    )


def _kind_words(kind: str) -> str:
    words = kind.strip().replace("_", " ").replace("-", " ")
    return words or "another treatment"


def analyze_response(
    diary: Iterable[DiaryPoint | tuple[date, float]],
    *,
    start: date,
    today: date,
    assess_from: date | None = None,
    assess_to: date | None = None,
    doses_taken_on: Collection[date] | None = None,
    co_interventions: Sequence[CoIntervention] = (),
    dose_changes: Sequence[date] = (),
    target_dose_reached: date | None = None,
) -> ResponseResult:
    """Baseline vs on-treatment pain for one course, with uncertainty, caveats and words.

    ``doses_taken_on``: the dates on which a dose was taken (None: not known).
    ``target_dose_reached``: when the target dose was reached (None: the start date).
    Raises :class:`InvalidInput` for malformed input (pain outside 0–10, a date twice,
    a diary date after ``today``, an assessment window that is inverted, starts
    before the start or ends after today, or has only one end)."""
    points = _as_points(diary)
    _validate(points, start, today, assess_from, assess_to)
    by_day = {p.day: float(p.pain) for p in points}

    baseline_window = DateWindow(start - timedelta(days=BASELINE_DAYS), start - timedelta(days=1))
    treatment_window: DateWindow | None
    if assess_from is not None and assess_to is not None:
        treatment_window = DateWindow(assess_from, assess_to)
    elif today < start:
        treatment_window = None
    else:
        on_treatment = [d for d in by_day if start <= d <= today]
        end = max(on_treatment) if on_treatment else today
        treatment_window = DateWindow(
            max(start, end - timedelta(days=DEFAULT_WINDOW_DAYS - 1)), end
        )

    base_days, base_values = _window_values(by_day, baseline_window)
    if treatment_window is not None:
        treat_days, treat_values = _window_values(by_day, treatment_window)
    else:
        treat_days, treat_values = [], []
    baseline_mean = _mean(base_values)
    treatment_mean = _mean(treat_values)

    caveats: list[Caveat] = []
    insufficient = False
    if treatment_window is None:
        insufficient = True
        caveats.append(
            Caveat(
                "not-started",
                f"the treatment starts on {start.isoformat()}, after today "
                f"({today.isoformat()}), so there is nothing on treatment to assess yet",
            )
        )
    if len(base_values) < MIN_DIARY_DAYS:
        insufficient = True
        caveats.append(
            Caveat(
                "insufficient-baseline",
                f"only {len(base_values)} of the {MIN_DIARY_DAYS} diary days needed in the "
                f"{BASELINE_DAYS} days before {start.isoformat()} "
                f"({baseline_window.describe()})",
            )
        )
    if treatment_window is not None and len(treat_values) < MIN_DIARY_DAYS:
        insufficient = True
        caveats.append(
            Caveat(
                "insufficient-window",
                f"only {len(treat_values)} of the {MIN_DIARY_DAYS} diary days needed in the "
                f"assessment window ({treatment_window.describe()})",
            )
        )
    if baseline_mean is not None and baseline_mean == 0 and not insufficient:
        insufficient = True
        caveats.append(
            Caveat(
                "baseline-zero",
                f"the average pain in the {BASELINE_DAYS} days before {start.isoformat()} "
                "was 0, so a percentage change cannot be worked out",
            )
        )

    # Diary coverage (only worth saying when there is enough to analyse at all).
    for label, window, n in (
        ("the baseline", baseline_window, len(base_values)),
        ("the assessment window", treatment_window, len(treat_values)),
    ):
        if window is None or n < MIN_DIARY_DAYS:
            continue
        wanted = math.ceil(window.length * WELL_COVERED_DAYS_PER_14 / 14)
        if n < wanted:
            caveats.append(
                Caveat(
                    "few-diary-days",
                    f"only {n} of the {window.length} days in {label} "
                    f"({window.describe()}) have a diary entry; with fewer than {wanted} "
                    "the average is less reliable",
                )
            )

    if treatment_window is not None:
        caveats.extend(
            _treatment_caveats(
                treatment_window,
                baseline_window,
                doses_taken_on,
                co_interventions,
                dose_changes,
                start,
            )
        )

    change: float | None = None
    percent_change: float | None = None
    probability: float | None = None
    uncertainty: UncertaintyModel | None = None
    if baseline_mean is not None and treatment_mean is not None:
        change = treatment_mean - baseline_mean
    if insufficient or baseline_mean is None or treatment_mean is None:
        category, label = Category.INSUFFICIENT_DATA, ChangeLabel.CANNOT_TELL
    else:
        percent_change = _percent(baseline_mean, treatment_mean)
        category, label = categorize(percent_change)
        probability, uncertainty = probability_moderate_or_better(
            list(zip(base_days, base_values, strict=True)),
            list(zip(treat_days, treat_values, strict=True)),
        )

    early, early_pct = _early_response(by_day, start, baseline_mean, len(base_values))

    target = target_dose_reached or start
    review_points = tuple(
        ReviewPoint(weeks, target + timedelta(weeks=weeks)) for weeks in REVIEW_WEEKS
    )
    basis = (
        f"{', '.join(str(w) for w in REVIEW_WEEKS)} weeks after reaching the target dose "
        f"on {target.isoformat()}"
        if target_dose_reached is not None
        else (
            f"{', '.join(str(w) for w in REVIEW_WEEKS)} weeks after the start "
            f"({start.isoformat()}); the date the target dose was reached was not given"
        )
    )

    caveats.append(_placebo_caveat())

    summaries = _summaries(
        category=category,
        label=label,
        baseline_mean=baseline_mean,
        treatment_mean=treatment_mean,
        percent_change=percent_change,
        probability=probability,
        caveats=caveats,
        treatment_window=treatment_window,
        base_n=len(base_values),
        treat_n=len(treat_values),
        early=early,
        uncertainty=uncertainty,
        start=start,
    )
    return ResponseResult(
        baseline_mean=baseline_mean,
        treatment_mean=treatment_mean,
        change=change,
        percent_change=percent_change,
        category=category,
        change_label=label,
        probability_moderate_or_better=probability,
        caveats=tuple(caveats),
        baseline_window=baseline_window,
        treatment_window=treatment_window,
        baseline_days=len(base_values),
        treatment_days=len(treat_values),
        early_response=early,
        early_response_percent_change=early_pct,
        review_points=review_points,
        review_points_basis=basis,
        uncertainty=uncertainty,
        summaries=summaries,
    )


def _placebo_caveat() -> Caveat:
    return Caveat(
        "placebo",
        f"in the pooled duloxetine trials, {TRIAL_RESPONDERS_PLACEBO_PERCENT}% of people on "
        f"placebo also had their pain fall by at least 30%, against "
        f"{TRIAL_RESPONDERS_DULOXETINE_PERCENT}% on duloxetine (Alev 2017, J Pain Res "
        "2017;10:1723-31). Pain often eases by itself, and a bad spell is often followed "
        "by a better one (regression to the mean), so a change in one person's diary "
        "cannot show how much of it is due to the medicine",
    )


def _treatment_caveats(
    window: DateWindow,
    baseline_window: DateWindow,
    doses_taken_on: Collection[date] | None,
    co_interventions: Sequence[CoIntervention],
    dose_changes: Sequence[date],
    start: date,
) -> list[Caveat]:
    caveats: list[Caveat] = []
    if doses_taken_on is None:
        caveats.append(
            Caveat(
                "adherence-unknown",
                "no dose record was given, so it is not known whether duloxetine was "
                f"taken as prescribed in the assessment window ({window.describe()})",
            )
        )
    else:
        covered = len({d for d in doses_taken_on if d in window})
        share = covered / window.length
        if share < ADHERENCE_THRESHOLD:
            caveats.append(
                Caveat(
                    "low-adherence",
                    f"doses were taken on {covered} of the {window.length} days of the "
                    f"assessment window ({share:.0%}), below "
                    f"{ADHERENCE_THRESHOLD:.0%} of days covered; the result may not show "
                    "what the medicine does when taken as prescribed",
                )
            )
    lookback_from = window.first - timedelta(days=CO_INTERVENTION_LOOKBACK_DAYS)
    for item in sorted(co_interventions, key=lambda c: c.started):
        what = _kind_words(item.kind)
        if lookback_from <= item.started <= window.last:
            caveats.append(
                Caveat(
                    "co-intervention",
                    f"{what} started on {item.started.isoformat()}, in or within "
                    f"{CO_INTERVENTION_LOOKBACK_DAYS} days before the assessment window "
                    f"({window.describe()}); part of any change may be due to it",
                )
            )
        elif baseline_window.first < item.started < lookback_from:
            caveats.append(
                Caveat(
                    "co-intervention-earlier",
                    f"{what} started on {item.started.isoformat()}, after the baseline "
                    f"diary began ({baseline_window.first.isoformat()}); it was in place "
                    "for the assessment window but not for all of the baseline, so part "
                    "of any change may be due to it",
                )
            )
    for changed in sorted(set(dose_changes)):
        if changed in window:
            caveats.append(
                Caveat(
                    "dose-change",
                    f"the dose changed on {changed.isoformat()}, inside the assessment "
                    f"window ({window.describe()}), so the window mixes two doses",
                )
            )
    weeks_on = (window.last - start).days / 7
    if weeks_on < DECISION_WEEKS:
        caveats.append(
            Caveat(
                "early-assessment",
                f"the assessment window ends {weeks_on:.1f} weeks after the start; in the "
                "trials the effect was judged after 12–14 weeks, and a stop-or-continue "
                f"decision is usually made by about {DECISION_WEEKS}–12 weeks",
            )
        )
    return caveats


def _early_response(
    by_day: dict[date, float], start: date, baseline_mean: float | None, base_n: int
) -> tuple[bool | None, float | None]:
    """≥15% reduction in days 8–14 after the start vs baseline (Alev 2017)."""
    if baseline_mean is None or base_n < MIN_DIARY_DAYS or baseline_mean <= 0:
        return None, None
    week_two = DateWindow(start + timedelta(days=7), start + timedelta(days=13))
    _, values = _window_values(by_day, week_two)
    if len(values) < MIN_DIARY_DAYS:
        return None, None
    pct = _percent(baseline_mean, sum(values) / len(values))
    return round(pct, _PERCENT_DECIMALS) <= EARLY_RESPONSE_THRESHOLD, pct


# --- plain words ---------------------------------------------------------------------


def _shown_percent(percent_change: float) -> int:
    """A whole-number percentage that never crosses a category boundary when shown:
    reductions are rounded towards 0 (29.6% → 29), rises away from 0 (10.2% → 11)."""
    pct = round(percent_change, _PERCENT_DECIMALS)
    return math.floor(abs(pct)) if pct <= 0 else math.ceil(pct)


def _in_ten(probability: float) -> str:
    tenths = round(probability * 10)
    if tenths <= 0:
        return "less than 1 in 10"
    if tenths >= 10:
        return "more than 9 in 10"
    return f"about {tenths} in 10"


_PATIENT_MEANING: dict[ChangeLabel, str] = {
    ChangeLabel.SUBSTANTIAL_IMPROVEMENT: (
        "That counts as a big improvement: your pain has fallen by half or more."
    ),
    ChangeLabel.MODERATE_IMPROVEMENT: (
        "That counts as a moderately important improvement. People whose pain falls by "
        "30% or more often say they feel much better."
    ),
    ChangeLabel.SMALL_IMPROVEMENT: (
        "That is a small improvement. A drop of 30% or more is the usual sign of a "
        "change that makes a real difference."
    ),
    ChangeLabel.NO_MEANINGFUL_CHANGE: "That is about the same as before.",
    ChangeLabel.WORSE: "Your pain is worse than before you started.",
}


def _summaries(
    *,
    category: Category,
    label: ChangeLabel,
    baseline_mean: float | None,
    treatment_mean: float | None,
    percent_change: float | None,
    probability: float | None,
    caveats: Sequence[Caveat],
    treatment_window: DateWindow | None,
    base_n: int,
    treat_n: int,
    early: bool | None,
    uncertainty: UncertaintyModel | None,
    start: date,
) -> Summaries:
    safety = (
        "Do not stop duloxetine or change your dose on your own. "
        "Talk to your care team at your next review, or sooner if you are worried."
    )
    trials = (
        f"In the trials, about {round(TRIAL_RESPONDERS_DULOXETINE_PERCENT)} in 100 people "
        f"on duloxetine and {round(TRIAL_RESPONDERS_PLACEBO_PERCENT)} in 100 on placebo "
        "(a dummy pill) had their pain fall by at least 30%."
    )
    codes = [c.code for c in caveats]
    if (
        category is Category.INSUFFICIENT_DATA
        or percent_change is None
        or baseline_mean is None
        or treatment_mean is None
        or probability is None
        or uncertainty is None
    ):
        reasons: list[str] = []
        if "not-started" in codes:
            reasons.append(f"Your treatment starts on {start.isoformat()}.")
        if "insufficient-baseline" in codes:
            reasons.append(
                f"We have pain scores for {base_n} of the 14 days before you started, "
                "and we need at least 4."
            )
        if "insufficient-window" in codes:
            reasons.append(
                f"We have pain scores for {treat_n} days in the time we looked at, "
                "and we need at least 4."
            )
        if "baseline-zero" in codes:
            reasons.append("Your pain scores before you started were all 0.")
        patient = " ".join(
            [
                "We can't tell yet whether duloxetine is helping.",
                *reasons,
                "Keep filling in your pain diary each day.",
                safety,
            ]
        )
        clinician = (
            f"Insufficient data: baseline {base_n} diary day(s) "
            f"(need {MIN_DIARY_DAYS}), assessment window {treat_n} day(s)"
            + (f" ({treatment_window.describe()})" if treatment_window else "")
            + ". "
            + "; ".join(c.message for c in caveats if c.code != "placebo")
            + "."
        )
        beside = f"{trials} We can't compare your course with the trials yet."
        return Summaries(patient=patient, clinician=clinician, beside_the_trials=beside)

    shown = _shown_percent(percent_change)
    if label is ChangeLabel.NO_MEANINGFUL_CHANGE:
        movement = f"Your average pain has gone from {baseline_mean:.1f} to {treatment_mean:.1f}."
    elif percent_change <= 0:
        movement = (
            f"Your average pain has gone from {baseline_mean:.1f} to {treatment_mean:.1f}, "
            f"a {shown}% reduction."
        )
    else:
        movement = (
            f"Your average pain has gone from {baseline_mean:.1f} to {treatment_mean:.1f}, "
            f"a {shown}% rise."
        )
    chance = (
        "Pain scores go up and down from day to day. Taking that into account, the chance "
        f"that your pain has really fallen by 30% or more is {_in_ten(probability)}."
    )
    not_all_drug = (
        "Some or all of a change can happen without the medicine, so this does not prove "
        "what duloxetine did."
    )
    patient = " ".join([movement, _PATIENT_MEANING[label], chance, not_all_drug, safety])

    reached = round(percent_change, _PERCENT_DECIMALS) <= MODERATE_PERCENT
    beside = " ".join(
        [
            trials,
            "You did." if reached else "You did not.",
            "One person's course is not a trial: it cannot show how much of your change "
            "came from the medicine.",
        ]
    )

    other = [c.code for c in caveats if c.code != "placebo"]
    early_words = {True: "yes", False: "no", None: "not assessable"}[early]
    window_words = (
        ""
        if treatment_window is None
        else f"{treatment_window.describe()} {treat_n}/{treatment_window.length} d"
    )
    clinician = (
        f"Mean NRS {baseline_mean:.2f} → {treatment_mean:.2f} "
        f"({treatment_mean - baseline_mean:+.2f}; {percent_change:+.1f}%): "
        f"IMMPACT {category.value} ({label.value.replace('-', ' ')}). "
        f"P(true reduction ≥30%) {probability:.2f} "
        f"[AR(1) rho {uncertainty.rho:.2f}, n_eff {uncertainty.n_eff_baseline:.1f}/"
        f"{uncertainty.n_eff_treatment:.1f}]. "
        f"Baseline {base_n}/14 d; window {window_words}. "
        f"Early response (≥15% by wk 2): {early_words}. "
        f"Caveats: {', '.join(other) if other else 'none'}; placebo responders 47.8% "
        "vs 59.7% on duloxetine (Alev 2017)."
    )
    return Summaries(patient=patient, clinician=clinician, beside_the_trials=beside)


# --- other measures --------------------------------------------------------------------


@dataclass(frozen=True)
class MinimalImportantChange:
    """A minimal important change: ``points`` on the scale, or ``percent`` of baseline
    (either is enough, as in Ostelo 2008); None where no source gives one."""

    points: float | None
    percent: float | None
    source: str


_OSTELO = (
    "Ostelo RWJG et al. Interpreting change scores for pain and functional status in low "
    "back pain. Spine 2008;33(1):90-94 (reference §3.1)"
)
_IMMPACT = "Dworkin RH et al. J Pain 2008;9(2):105-121, IMMPACT (reference §3.1)"

# Only thresholds the clinical reference gives. PHQ-9 and GAD-7 have no minimal
# important change there, so none is set: compare_scores then reports the change only.
MINIMAL_IMPORTANT_CHANGES: dict[str, MinimalImportantChange] = {
    "nrs": MinimalImportantChange(2.0, 30.0, _OSTELO),
    "rmdq": MinimalImportantChange(5.0, 30.0, _OSTELO),
    "odi": MinimalImportantChange(10.0, 30.0, _OSTELO),
    "vas": MinimalImportantChange(15.0, 30.0, _OSTELO),
    "qbpds": MinimalImportantChange(20.0, 30.0, _OSTELO),
    "peg": MinimalImportantChange(
        None, 30.0, "≥30% reduction in PEG (reference §3.1 responder definition, design)"
    ),
    "bpi-interference": MinimalImportantChange(1.0, None, _IMMPACT),
    "bdi": MinimalImportantChange(5.0, None, _IMMPACT),
}


@dataclass(frozen=True)
class ScoreComparison:
    """Change in a score where a higher score is worse (pain, disability, mood scales)."""

    baseline: float
    current: float
    change: float
    percent_change: float | None
    direction: str  # "better" | "worse" | "same"
    crosses_mic: bool | None  # None when no minimal important change is known
    improved_beyond_mic: bool | None
    worsened_beyond_mic: bool | None

    def to_json(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "current": self.current,
            "change": round(self.change, 2),
            "percent_change": _round(self.percent_change, 1),
            "direction": self.direction,
            "crosses_mic": self.crosses_mic,
            "improved_beyond_mic": self.improved_beyond_mic,
            "worsened_beyond_mic": self.worsened_beyond_mic,
        }


def compare_scores(
    baseline_value: float,
    current_value: float,
    mic_points: float | None = None,
    mic_percent: float | None = None,
) -> ScoreComparison:
    """Change from ``baseline_value`` to ``current_value`` (higher = worse) and whether it
    reaches the minimal important change: at least ``mic_points`` on the scale or
    ``mic_percent`` % of the baseline, either one (Ostelo 2008). With neither given,
    ``crosses_mic`` is None. A baseline of 0 has no percent change."""
    problems: list[Problem] = []
    for name, value in (("baseline_value", baseline_value), ("current_value", current_value)):
        if not math.isfinite(value):
            problems.append(Problem(name, f"{value!r} is not a finite number"))
    for name, mic in (("mic_points", mic_points), ("mic_percent", mic_percent)):
        if mic is not None and not (math.isfinite(mic) and mic > 0):
            problems.append(Problem(name, f"{mic!r} must be a number above 0"))
    if problems:
        raise InvalidInput("the scores cannot be compared", problems)
    change = current_value - baseline_value
    percent = None if baseline_value == 0 else change / abs(baseline_value) * 100.0
    tolerance = 1e-9
    direction = "same" if abs(change) <= tolerance else ("better" if change < 0 else "worse")
    if mic_points is None and mic_percent is None:
        return ScoreComparison(
            baseline_value, current_value, change, percent, direction, None, None, None
        )
    by_points = mic_points is not None and abs(change) >= mic_points - tolerance
    by_percent = (
        mic_percent is not None and percent is not None and abs(percent) >= mic_percent - 1e-6
    )
    crosses = (by_points or by_percent) and direction != "same"
    return ScoreComparison(
        baseline=baseline_value,
        current=current_value,
        change=change,
        percent_change=percent,
        direction=direction,
        crosses_mic=crosses,
        improved_beyond_mic=crosses and direction == "better",
        worsened_beyond_mic=crosses and direction == "worse",
    )
