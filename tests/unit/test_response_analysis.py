"""Response analysis: synthetic diaries with known effects, uncertainty, caveats, words."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from painpath.kit.errors import InvalidInput
from painpath.response.domain.analysis import (
    Category,
    ChangeLabel,
    CoIntervention,
    DiaryPoint,
    ResponseResult,
    analyze_response,
    categorize,
    probability_moderate_or_better,
)

START = date(2025, 3, 3)
TODAY = date(2025, 6, 30)


def ar1_noise(rng: np.random.Generator, n: int, rho: float, sd: float) -> np.ndarray:
    """Stationary AR(1) noise with marginal standard deviation ``sd``."""
    noise = np.empty(n)
    noise[0] = rng.normal(0.0, sd)
    innovation_sd = sd * np.sqrt(1 - rho**2)
    for i in range(1, n):
        noise[i] = rho * noise[i - 1] + rng.normal(0.0, innovation_sd)
    return noise


def diary(
    baseline_level: float,
    treatment_level: float,
    *,
    seed: int = 1,
    rho: float = 0.4,
    sd: float = 0.5,
    treatment_days: int = 84,
    exact_means: bool = False,
    rounded: bool = False,
) -> list[DiaryPoint]:
    """14 baseline days then ``treatment_days`` days on treatment (from START)."""
    rng = np.random.default_rng(seed)
    base = ar1_noise(rng, 14, rho, sd)
    treat = ar1_noise(rng, treatment_days, rho, sd)
    if exact_means:
        base, treat = base - base.mean(), treat - treat.mean()
    base_values = np.clip(baseline_level + base, 0, 10)
    treat_values = np.clip(treatment_level + treat, 0, 10)
    if rounded:
        base_values, treat_values = np.round(base_values), np.round(treat_values)
    points = [
        DiaryPoint(START - timedelta(days=14 - i), float(v)) for i, v in enumerate(base_values)
    ]
    points += [DiaryPoint(START + timedelta(days=i), float(v)) for i, v in enumerate(treat_values)]
    return points


def analyze(points: Sequence[DiaryPoint], **kwargs: object) -> ResponseResult:
    options: dict[str, object] = {"start": START, "today": TODAY}
    options.update(kwargs)
    return analyze_response(points, **options)  # type: ignore[arg-type]


# --- categories from synthetic diaries ------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize(
    ("baseline", "treatment", "category", "label"),
    [
        (7.0, 2.45, Category.SUBSTANTIAL, ChangeLabel.SUBSTANTIAL_IMPROVEMENT),  # −65%
        (7.0, 4.2, Category.MODERATE, ChangeLabel.MODERATE_IMPROVEMENT),  # −40%
        (7.0, 5.6, Category.MINIMAL, ChangeLabel.SMALL_IMPROVEMENT),  # −20%
        (7.0, 7.0, Category.MINIMAL, ChangeLabel.NO_MEANINGFUL_CHANGE),  # 0%
        (5.0, 6.5, Category.WORSE, ChangeLabel.WORSE),  # +30%
    ],
)
def test_synthetic_diaries_with_known_effects_are_classified(
    seed: int, baseline: float, treatment: float, category: Category, label: ChangeLabel
) -> None:
    result = analyze(diary(baseline, treatment, seed=seed))
    assert result.category is category
    assert result.change_label is label
    assert result.baseline_days == 14
    assert result.treatment_days == 14


def test_category_boundaries_follow_immpact() -> None:
    assert categorize(-50.0)[0] is Category.SUBSTANTIAL
    assert categorize(-49.99)[0] is Category.MODERATE
    assert categorize(-30.0)[0] is Category.MODERATE
    assert categorize(-29.99) == (Category.MINIMAL, ChangeLabel.SMALL_IMPROVEMENT)
    assert categorize(-10.0) == (Category.MINIMAL, ChangeLabel.SMALL_IMPROVEMENT)
    assert categorize(-9.99) == (Category.MINIMAL, ChangeLabel.NO_MEANINGFUL_CHANGE)
    assert categorize(10.0) == (Category.MINIMAL, ChangeLabel.NO_MEANINGFUL_CHANGE)
    assert categorize(10.01)[0] is Category.WORSE
    # float noise at the boundary: 5 → 3.5 is exactly a 30% reduction
    assert categorize((3.5 - 5.0) / 5.0 * 100)[0] is Category.MODERATE


def test_whole_numbers_and_decimals_are_accepted_as_pain_scores() -> None:
    points = [DiaryPoint(START - timedelta(days=d), Decimal("6.5")) for d in range(1, 15)]  # type: ignore[arg-type]
    points += [DiaryPoint(START + timedelta(days=d), 3) for d in range(70, 84)]
    result = analyze(points)
    assert result.baseline_mean == 6.5
    assert result.treatment_mean == 3.0


def test_outcomes_are_the_window_means_and_their_change() -> None:
    points = [DiaryPoint(START - timedelta(days=d), 6.0) for d in range(1, 15)]
    points += [DiaryPoint(START + timedelta(days=d), 3.0) for d in range(70, 84)]
    result = analyze(points)
    assert result.baseline_mean == 6.0
    assert result.treatment_mean == 3.0
    assert result.change == -3.0
    assert result.percent_change == pytest.approx(-50.0)
    assert result.category is Category.SUBSTANTIAL
    assert result.treatment_window is not None
    assert result.treatment_window.first == START + timedelta(days=70)
    assert result.treatment_window.last == START + timedelta(days=83)


def test_json_has_the_contract_fields_with_rounded_means() -> None:
    result = analyze(diary(7.0, 4.2, seed=3, rounded=True))
    payload = result.to_json()
    for key in (
        "baseline_mean",
        "treatment_mean",
        "change",
        "percent_change",
        "category",
        "probability_moderate_or_better",
        "caveats",
        "baseline_days",
        "treatment_days",
        "windows",
        "early_response",
        "review_points",
        "summaries",
        "sources",
    ):
        assert key in payload
    assert payload["baseline_mean"] == round(payload["baseline_mean"], 2)
    assert payload["windows"]["baseline"] == {
        "from": "2025-02-17",
        "to": "2025-03-02",
        "days": 14,
        "diary_days": 14,
    }
    assert all(set(c) == {"code", "message"} for c in payload["caveats"])
    json.dumps(payload)  # serialisable as is


# --- the assessment window ------------------------------------------------------------


def test_default_window_is_the_latest_14_days_of_data() -> None:
    points = diary(7.0, 4.0, treatment_days=40)
    result = analyze(points, today=START + timedelta(days=60))
    assert result.treatment_window is not None
    assert result.treatment_window.last == START + timedelta(days=39)
    assert result.treatment_window.first == START + timedelta(days=26)


def test_default_window_never_reaches_back_before_the_start() -> None:
    points = diary(7.0, 4.0, treatment_days=6)
    result = analyze(points, today=START + timedelta(days=5))
    assert result.treatment_window is not None
    assert result.treatment_window.first == START
    assert result.treatment_days == 6


def test_callers_window_includes_both_ends() -> None:
    points = diary(7.0, 4.0)
    result = analyze(
        points, assess_from=START + timedelta(days=50), assess_to=START + timedelta(days=59)
    )
    assert result.treatment_days == 10
    assert result.treatment_window is not None
    assert result.treatment_window.length == 10


@pytest.mark.parametrize(
    ("assess_from", "assess_to", "message"),
    [
        (START + timedelta(days=20), START + timedelta(days=10), "after it ends"),
        (START - timedelta(days=3), START + timedelta(days=10), "on or after the treatment start"),
        (START + timedelta(days=10), TODAY + timedelta(days=1), "after today"),
        (START + timedelta(days=10), None, "both ends"),
    ],
)
def test_bad_windows_are_clear_errors(
    assess_from: date, assess_to: date | None, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        analyze(diary(7.0, 4.0), assess_from=assess_from, assess_to=assess_to)
    assert any(message in p.message for p in caught.value.problems)


# --- insufficient data ----------------------------------------------------------------


def test_fewer_than_four_baseline_days_is_insufficient_and_says_what_is_missing() -> None:
    points = [DiaryPoint(START - timedelta(days=d), 6.0) for d in (2, 9)]
    points += [DiaryPoint(START + timedelta(days=d), 3.0) for d in range(60, 74)]
    result = analyze(points)
    assert result.category is Category.INSUFFICIENT_DATA
    assert result.probability_moderate_or_better is None
    assert result.percent_change is None
    messages = {c.code: c.message for c in result.caveats}
    assert messages["insufficient-baseline"].startswith(
        "only 2 of the 4 diary days needed in the 14 days before 2025-03-03"
    )
    assert "We can't tell yet" in result.summaries.patient
    assert "2 of the 14 days before you started" in result.summaries.patient


def test_fewer_than_four_days_in_the_window_is_insufficient() -> None:
    points = [DiaryPoint(START - timedelta(days=d), 6.0) for d in range(1, 15)]
    points += [DiaryPoint(START + timedelta(days=d), 3.0) for d in (40, 45, 50)]
    result = analyze(points)
    assert result.category is Category.INSUFFICIENT_DATA
    message = {c.code: c.message for c in result.caveats}["insufficient-window"]
    assert message.startswith("only 3 of the 4 diary days needed in the assessment window")


def test_a_zero_baseline_is_insufficient_not_a_division_error() -> None:
    points = [DiaryPoint(START - timedelta(days=d), 0.0) for d in range(1, 15)]
    points += [DiaryPoint(START + timedelta(days=d), 2.0) for d in range(60, 74)]
    result = analyze(points)
    assert result.category is Category.INSUFFICIENT_DATA
    assert result.percent_change is None
    assert result.change == 2.0
    assert "baseline-zero" in result.caveat_codes()


def test_no_diary_at_all_is_insufficient() -> None:
    result = analyze([])
    assert result.category is Category.INSUFFICIENT_DATA
    assert result.baseline_mean is None and result.treatment_mean is None
    assert result.early_response is None
    assert "placebo" in result.caveat_codes()


def test_a_course_that_has_not_started_is_insufficient() -> None:
    points = [DiaryPoint(START - timedelta(days=d), 6.0) for d in range(1, 10)]
    result = analyze(points, today=START - timedelta(days=1))
    assert result.category is Category.INSUFFICIENT_DATA
    assert result.treatment_window is None
    assert "not-started" in result.caveat_codes()


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([DiaryPoint(START, 11.0)], "outside 0–10"),
        ([DiaryPoint(START, -1.0)], "outside 0–10"),
        ([DiaryPoint(START, float("nan"))], "not a number"),
        ([DiaryPoint(START, 3.0), DiaryPoint(START, 4.0)], "more than one entry"),
        ([DiaryPoint(TODAY + timedelta(days=1), 3.0)], "after today"),
    ],
)
def test_malformed_diaries_are_clear_errors(points: list[DiaryPoint], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        analyze(points)
    assert any(message in p.message for p in caught.value.problems)


# --- uncertainty ------------------------------------------------------------------------


def exact_windows(
    ratio: float, *, n_base: int = 14, n_treat: int = 14, sd: float = 0.6, seed: int = 7
) -> tuple[list[tuple[date, float]], list[tuple[date, float]]]:
    """Two windows whose means are exactly 6.0 and ``ratio`` × 6.0 (AR(1) noise)."""
    rng = np.random.default_rng(seed)
    base = ar1_noise(rng, n_base, 0.4, sd)
    treat = ar1_noise(rng, n_treat, 0.4, sd)
    base = 6.0 + base - base.mean()
    treat = 6.0 * ratio + treat - treat.mean()
    first = START + timedelta(days=60)
    return (
        [(START - timedelta(days=n_base - i), float(v)) for i, v in enumerate(base)],
        [(first + timedelta(days=i), float(v)) for i, v in enumerate(treat)],
    )


@pytest.mark.parametrize("n", [4, 14, 56])
@pytest.mark.parametrize("sd", [0.3, 1.0, 2.0])
def test_probability_is_one_half_at_exactly_a_30_percent_reduction(n: int, sd: float) -> None:
    baseline, treatment = exact_windows(0.7, n_base=min(n, 14), n_treat=n, sd=sd)
    probability, _ = probability_moderate_or_better(baseline, treatment)
    assert probability == pytest.approx(0.5, abs=1e-9)


def test_probability_near_one_half_at_the_threshold_for_a_whole_analysis() -> None:
    baseline, treatment = exact_windows(0.7, n_treat=14)
    points = [DiaryPoint(d, v) for d, v in baseline + treatment]
    result = analyze(points)
    assert result.percent_change == pytest.approx(-30.0)
    assert result.category is Category.MODERATE
    assert result.probability_moderate_or_better == pytest.approx(0.5, abs=1e-6)


def test_probability_rises_with_more_data() -> None:
    probabilities = []
    for n in (4, 7, 14, 28, 56):
        baseline, treatment = exact_windows(0.62, n_base=min(n, 14), n_treat=n, sd=1.0)
        probabilities.append(probability_moderate_or_better(baseline, treatment)[0])
    assert probabilities == sorted(probabilities)
    assert probabilities[-1] > probabilities[0] + 0.1


def test_probability_rises_with_a_larger_effect() -> None:
    probabilities = [
        probability_moderate_or_better(*exact_windows(ratio))[0]
        for ratio in (0.9, 0.75, 0.65, 0.55, 0.4)
    ]
    assert probabilities == sorted(probabilities)
    assert probabilities[0] < 0.1 and probabilities[-1] > 0.95


def test_probability_stays_uncertain_with_little_data() -> None:
    baseline, treatment = exact_windows(0.6, n_base=4, n_treat=4, sd=1.0)
    probability, _ = probability_moderate_or_better(baseline, treatment)
    assert 0.2 < probability < 0.8


def test_probability_stays_uncertain_with_noisy_data() -> None:
    baseline, treatment = exact_windows(0.6, sd=2.5)
    probability, _ = probability_moderate_or_better(baseline, treatment)
    assert 0.2 < probability < 0.8


def test_autocorrelated_diaries_carry_less_information() -> None:
    """The same scores in a smooth order (high lag-1 correlation) give a probability
    closer to 0.5 than in a jumbled order: the model respects autocorrelation."""
    baseline, treatment = exact_windows(0.55, sd=1.0)
    jumbled_b = [(d, v) for (d, _), v in zip(baseline, [v for _, v in baseline], strict=True)]
    rng = np.random.default_rng(3)
    shuffled_values = list(rng.permutation([v for _, v in treatment]))
    jumbled_t = [(d, float(v)) for (d, _), v in zip(treatment, shuffled_values, strict=True)]
    smooth_b = [(d, v) for (d, _), v in zip(baseline, sorted(v for _, v in baseline), strict=True)]
    smooth_t = [
        (d, v) for (d, _), v in zip(treatment, sorted(v for _, v in treatment), strict=True)
    ]
    p_jumbled, model_jumbled = probability_moderate_or_better(jumbled_b, jumbled_t)
    p_smooth, model_smooth = probability_moderate_or_better(smooth_b, smooth_t)
    assert model_smooth.rho > model_jumbled.rho
    assert model_smooth.n_eff_treatment < model_jumbled.n_eff_treatment
    assert 0.5 < p_smooth < p_jumbled


def test_a_flat_diary_does_not_produce_false_certainty() -> None:
    points = [DiaryPoint(START - timedelta(days=d), 6.0) for d in range(1, 5)]
    points += [DiaryPoint(START + timedelta(days=d), 3.9) for d in range(60, 64)]
    result = analyze(points)
    assert result.category is Category.MODERATE
    assert result.probability_moderate_or_better is not None
    assert 0.5 < result.probability_moderate_or_better < 0.95


def test_probability_is_deterministic() -> None:
    points = diary(7.0, 4.2, seed=9)
    assert (
        analyze(points).probability_moderate_or_better
        == analyze(points).probability_moderate_or_better
    )


# --- caveats -----------------------------------------------------------------------------


def caveats_of(result: ResponseResult) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for caveat in result.caveats:
        found.setdefault(caveat.code, []).append(caveat.message)
    return found


def test_placebo_caveat_is_always_there_with_the_trial_numbers() -> None:
    for points in (diary(7.0, 3.0), diary(7.0, 7.0), []):
        message = caveats_of(analyze(points))["placebo"][0]
        assert "47.8%" in message and "59.7%" in message
        assert "J Pain Res 2017;10:1723-31" in message
        assert "regression to the mean" in message


def test_low_adherence_is_flagged_with_the_numbers() -> None:
    points = diary(7.0, 4.0)
    window_first = START + timedelta(days=70)
    taken = [window_first + timedelta(days=d) for d in range(9)]
    message = caveats_of(analyze(points, doses_taken_on=taken))["low-adherence"][0]
    assert "doses were taken on 9 of the 14 days" in message
    assert "(64%)" in message and "80%" in message


def test_good_adherence_is_not_flagged_and_unknown_adherence_is_said() -> None:
    points = diary(7.0, 4.0)
    taken = [START + timedelta(days=d) for d in range(84) if d not in (72, 80)]  # 12 of 14
    codes = analyze(points, doses_taken_on=taken).caveat_codes()
    assert "low-adherence" not in codes and "adherence-unknown" not in codes
    assert "adherence-unknown" in analyze(points).caveat_codes()


def test_co_interventions_started_in_or_just_before_the_window_are_flagged() -> None:
    points = diary(7.0, 4.0)  # window: START+70 … START+83
    items = [
        CoIntervention(START + timedelta(days=60), "physiotherapy"),  # 10 days before
        CoIntervention(START + timedelta(days=75), "acupuncture"),  # inside
        CoIntervention(START + timedelta(days=30), "other_pain_medicine"),  # earlier
        CoIntervention(START - timedelta(days=100), "massage"),  # long before the baseline
    ]
    found = caveats_of(analyze(points, co_interventions=items))
    assert len(found["co-intervention"]) == 2
    assert "physiotherapy started on 2025-05-02" in found["co-intervention"][0]
    assert "acupuncture" in found["co-intervention"][1]
    assert len(found["co-intervention-earlier"]) == 1
    assert "other pain medicine started on 2025-04-02" in found["co-intervention-earlier"][0]
    assert not any("massage" in m for ms in found.values() for m in ms)


def test_dose_change_inside_the_window_is_flagged() -> None:
    points = diary(7.0, 4.0)
    found = caveats_of(
        analyze(points, dose_changes=[START + timedelta(days=7), START + timedelta(days=77)])
    )
    assert len(found["dose-change"]) == 1
    assert "2025-05-19" in found["dose-change"][0]


def test_few_diary_days_says_how_many() -> None:
    points = [DiaryPoint(START - timedelta(days=d), 6.0) for d in range(1, 15)]
    points += [DiaryPoint(START + timedelta(days=d), 3.0) for d in range(70, 84, 2)]  # 7 days
    message = caveats_of(analyze(points))["few-diary-days"][0]
    assert message.startswith("only 7 of the 14 days in the assessment window")


def test_early_assessment_is_flagged_before_eight_weeks() -> None:
    early = analyze(diary(7.0, 4.0, treatment_days=21), today=START + timedelta(days=20))
    assert "early-assessment" in early.caveat_codes()
    assert "early-assessment" not in analyze(diary(7.0, 4.0)).caveat_codes()


# --- early response and review points -------------------------------------------------


def week_two_diary(week_two_pain: float) -> list[DiaryPoint]:
    points = [DiaryPoint(START - timedelta(days=d), 6.0) for d in range(1, 15)]
    points += [DiaryPoint(START + timedelta(days=d), week_two_pain) for d in range(7, 14)]
    points += [DiaryPoint(START + timedelta(days=d), 4.0) for d in range(70, 84)]
    return points


def test_early_response_is_a_15_percent_fall_in_week_two() -> None:
    assert analyze(week_two_diary(5.1)).early_response is True  # −15%
    assert analyze(week_two_diary(5.4)).early_response is False  # −10%
    no_week_two = [p for p in week_two_diary(5.0) if not 7 <= (p.day - START).days <= 13]
    assert analyze(no_week_two).early_response is None


def test_review_points_are_4_8_and_12_weeks_after_the_target_dose() -> None:
    reached = START + timedelta(days=7)
    result = analyze(diary(7.0, 4.0), target_dose_reached=reached)
    assert [(r.weeks, r.due) for r in result.review_points] == [
        (4, date(2025, 4, 7)),
        (8, date(2025, 5, 5)),
        (12, date(2025, 6, 2)),
    ]
    assert "target dose" in result.review_points_basis
    default = analyze(diary(7.0, 4.0))
    assert default.review_points[0].due == START + timedelta(weeks=4)
    assert "was not given" in default.review_points_basis


# --- plain words --------------------------------------------------------------------------


def two_level_diary(baseline: Sequence[float], treatment: Sequence[float]) -> list[DiaryPoint]:
    points = [DiaryPoint(START - timedelta(days=14 - i), v) for i, v in enumerate(baseline)]
    points += [DiaryPoint(START + timedelta(days=70 + i), v) for i, v in enumerate(treatment)]
    return points


def test_patient_summary_for_a_moderate_improvement() -> None:
    result = analyze(two_level_diary([7.0, 7.2] * 7, [4.2, 4.4] * 7))
    patient = result.summaries.patient
    assert patient.startswith(
        "Your average pain has gone from 7.1 to 4.3, a 39% reduction. "
        "That counts as a moderately important improvement."
    )
    assert "in 10" in patient
    assert "Do not stop duloxetine or change your dose on your own." in patient
    assert result.summaries.beside_the_trials.startswith(
        "In the trials, about 60 in 100 people on duloxetine and 48 in 100 on placebo"
    )
    assert "You did." in result.summaries.beside_the_trials
    assert "One person's course is not a trial" in result.summaries.beside_the_trials


def test_small_improvement_and_no_change_are_worded_differently() -> None:
    small = analyze(two_level_diary([6.0] * 14, [5.0] * 14))  # −16.7%
    same = analyze(two_level_diary([6.0] * 14, [5.8] * 14))  # −3.3%
    assert small.change_label is ChangeLabel.SMALL_IMPROVEMENT
    assert "small improvement" in small.summaries.patient
    assert "16% reduction" in small.summaries.patient
    assert same.change_label is ChangeLabel.NO_MEANINGFUL_CHANGE
    assert "about the same as before" in same.summaries.patient
    assert "You did not." in same.summaries.beside_the_trials


def test_shown_percentages_never_cross_a_category_boundary() -> None:
    # 6.0 → 4.22 is a 29.7% reduction: "minimal", so it must not read "30%"
    result = analyze(two_level_diary([6.0] * 14, [4.22] * 14))
    assert result.category is Category.MINIMAL
    assert "29% reduction" in result.summaries.patient
    assert "You did not." in result.summaries.beside_the_trials


def test_worse_is_worded_as_a_rise() -> None:
    result = analyze(two_level_diary([5.0] * 14, [6.2] * 14))
    assert result.category is Category.WORSE
    assert "a 24% rise" in result.summaries.patient
    assert "worse than before" in result.summaries.patient


def test_clinician_summary_is_compact_and_has_the_numbers() -> None:
    result = analyze(two_level_diary([7.0, 7.2] * 7, [4.2, 4.4] * 7))
    clinician = result.summaries.clinician
    assert "7.10 → 4.30" in clinician
    assert "IMMPACT moderate" in clinician
    assert "P(true reduction ≥30%)" in clinician
    assert len(clinician) < 600
