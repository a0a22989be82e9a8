"""Taper plans: properties and worked examples."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from painpath.kit.errors import InvalidInput
from painpath.medication.domain.knowledge import load_knowledge
from painpath.medication.domain.schedule import dose_options
from painpath.medication.domain.taper import TaperPlan, hold_step, plan_taper, slow_step

DULOXETINE = load_knowledge().medicine("duloxetine")
assert DULOXETINE is not None and DULOXETINE.taper is not None
OPTIONS = dose_options(DULOXETINE)
MINIMUM_DAYS = 7 * DULOXETINE.taper.minimum_weeks
D0 = date(2025, 3, 3)


def _doses(plan: TaperPlan) -> list[int]:
    return [int(s.daily_dose_mg) for s in plan.steps]


def _check_plan(plan: TaperPlan) -> None:
    steps = plan.steps
    # never increases, strictly decreasing reductions
    previous = plan.from_dose_mg
    for step in steps:
        assert step.daily_dose_mg < previous
        previous = step.daily_dose_mg
    # ends at 0 mg and says stop
    assert steps[-1].daily_dose_mg == 0
    assert steps[-1].instructions.startswith("Stop taking duloxetine")
    assert "withdrawal symptoms" in steps[-1].instructions
    # every non-zero step is a whole-capsule dose, described as such
    for step in steps[:-1]:
        regimen = OPTIONS[step.daily_dose_mg]
        assert all(s in DULOXETINE.whole_strengths_mg for s in regimen.units_each_time)  # type: ignore[union-attr]
        assert regimen.text in step.instructions
        assert "do not chew, crush or open" in step.instructions
    # contiguous dates, each step at least one day
    for a, b in itertools.pairwise(steps):
        assert b.start == a.end + timedelta(days=1)
    assert all(s.end >= s.start for s in steps)


@given(
    dose=st.sampled_from(sorted(OPTIONS)),
    weeks=st.integers(min_value=1, max_value=52),
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
)
def test_taper_properties(dose: Decimal, weeks: int, start: date) -> None:
    plan = plan_taper("duloxetine", dose, weeks, start)
    _check_plan(plan)
    assert plan.steps[0].start == start
    codes = [w.code for w in plan.warnings]
    if dose == min(OPTIONS):
        assert codes == ["no-lower-strength"]
        return
    # lasts at least the minimum, and at least what was asked for
    assert plan.reduction_days >= MINIMUM_DAYS
    assert plan.reduction_days >= 7 * weeks
    assert ("shorter-than-minimum" in codes) == (weeks * 7 < MINIMUM_DAYS)


@given(
    dose=st.sampled_from(sorted(d for d in OPTIONS if d > min(OPTIONS))),
    weeks=st.integers(min_value=1, max_value=20),
    on_offset=st.integers(min_value=0, max_value=200),
    days=st.integers(min_value=1, max_value=28),
)
def test_hold_keeps_the_plan_safe(dose: Decimal, weeks: int, on_offset: int, days: int) -> None:
    plan = plan_taper("duloxetine", dose, weeks, D0)
    on = D0 + timedelta(days=on_offset)
    held_index = next((i for i, s in enumerate(plan.steps) if s.start <= on <= s.end), None)
    if held_index is None or plan.steps[held_index].daily_dose_mg == 0:
        with pytest.raises(InvalidInput):
            hold_step(plan, on, days)
        return
    held = hold_step(plan, on, days)
    _check_plan(held)
    assert held.reduction_days == plan.reduction_days + days
    assert held.warnings[-1].code == "step-held"


def test_default_60mg_two_weeks() -> None:
    plan = plan_taper("duloxetine", 60, 2, D0)
    assert _doses(plan) == [30, 20, 0]
    assert [(s.start, s.end) for s in plan.steps] == [
        (date(2025, 3, 3), date(2025, 3, 9)),
        (date(2025, 3, 10), date(2025, 3, 16)),
        (date(2025, 3, 17), date(2025, 3, 30)),
    ]
    assert plan.warnings == ()
    assert plan.steps[0].instructions.startswith(
        "Reduce from 60 mg to 30 mg a day: take one 30 mg capsule once a day."
    )


def test_120mg_halves_then_uses_smaller_steps_at_low_doses() -> None:
    assert _doses(plan_taper("duloxetine", 120, 6, D0)) == [60, 30, 20, 0]


def test_spare_weeks_go_to_the_lowest_doses() -> None:
    plan = plan_taper("duloxetine", 60, 5, D0)
    lengths = [(s.end - s.start).days + 1 for s in plan.steps[:-1]]
    assert lengths == [14, 21]


def test_two_capsule_step_is_spelled_out() -> None:
    plan = plan_taper("duloxetine", 100, 3, D0)
    assert _doses(plan) == [50, 30, 20, 0]
    assert (
        "one 30 mg capsule and one 20 mg capsule together once a day" in plan.steps[0].instructions
    )


def test_short_request_is_stretched_with_a_warning() -> None:
    plan = plan_taper("duloxetine", 60, 1, D0)
    (warning,) = plan.warnings
    assert warning.code == "shorter-than-minimum"
    assert "SmPC" in warning.source
    assert plan.reduction_days == 14


def test_more_steps_than_weeks_is_stretched() -> None:
    plan = plan_taper("duloxetine", 120, 2, D0)
    assert "stretched-for-steps" in [w.code for w in plan.warnings]
    assert plan.reduction_days == 21


def test_lowest_strength_cannot_be_reduced_further() -> None:
    plan = plan_taper("duloxetine", 20, 4, D0)
    assert _doses(plan) == [0]
    assert [w.code for w in plan.warnings] == ["no-lower-strength"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"medicine": "duloxetine", "dose_mg": 60, "weeks": 0}, "weeks"),
        ({"medicine": "duloxetine", "dose_mg": 60, "weeks": -3}, "weeks"),
        ({"medicine": "duloxetine", "dose_mg": 60, "weeks": 500}, "weeks"),
        ({"medicine": "duloxetine", "dose_mg": 45, "weeks": 4}, "dose_mg"),
        ({"medicine": "duloxetine", "dose_mg": 10, "weeks": 4}, "dose_mg"),
        ({"medicine": "duloxetine", "dose_mg": 0, "weeks": 4}, "dose_mg"),
        ({"medicine": "duloxetine", "dose_mg": 60.0, "weeks": 4}, "dose_mg"),
        ({"medicine": "pregabalin", "dose_mg": 60, "weeks": 4}, "medicine"),
        ({"medicine": "nothing", "dose_mg": 60, "weeks": 4}, "medicine"),
    ],
)
def test_invalid_requests_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        plan_taper(start=D0, **kwargs)  # type: ignore[arg-type]
    assert caught.value.problems[0].field == field


def test_hold_extends_the_current_step() -> None:
    plan = plan_taper("duloxetine", 60, 2, D0)
    held = hold_step(plan, D0 + timedelta(days=3), 7)
    assert held.steps[0].end == plan.steps[0].end + timedelta(days=7)
    assert held.steps[1].start == plan.steps[1].start + timedelta(days=7)
    assert _doses(held) == _doses(plan)


def test_hold_after_stopping_is_refused() -> None:
    plan = plan_taper("duloxetine", 60, 2, D0)
    with pytest.raises(InvalidInput) as caught:
        hold_step(plan, plan.steps[-1].start)
    assert caught.value.problems[0].field == "on"


def test_slow_goes_back_to_the_previous_dose_and_uses_smaller_steps() -> None:
    plan = plan_taper("duloxetine", 60, 4, D0)  # 30 mg for 2 weeks, 20 mg for 2 weeks, stop
    slowed = slow_step(plan, plan.steps[1].start + timedelta(days=3))
    assert _doses(slowed) == [30, 20, 30, 20, 0]
    restarted = slowed.steps[2]
    assert restarted.instructions.startswith("Go back up from 20 mg to 30 mg a day")
    assert (restarted.end - restarted.start).days + 1 == 28
    assert slowed.warnings[-1].code == "previous-dose-restarted"
    assert "NG222 1.4.22" in slowed.warnings[-1].source
    assert slowed.steps[-1].daily_dose_mg == 0


def test_slow_from_the_first_step_uses_the_starting_dose() -> None:
    plan = plan_taper("duloxetine", 60, 2, D0)
    slowed = slow_step(plan, D0)
    assert _doses(slowed) == [60, 50, 40, 30, 20, 0]
    assert slowed.steps[0].instructions.startswith("Stay on 60 mg a day")


def test_slow_outside_the_plan_is_refused() -> None:
    plan = plan_taper("duloxetine", 60, 2, D0)
    with pytest.raises(InvalidInput) as caught:
        slow_step(plan, D0 - timedelta(days=1))
    assert caught.value.problems[0].field == "from_date"
