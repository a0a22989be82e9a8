"""The dose schedule engine."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from painpath.kit.errors import InvalidInput
from painpath.medication.domain.knowledge import load_knowledge
from painpath.medication.domain.schedule import (
    ScheduleStep,
    build_schedule,
    dose_options,
    planned_dose,
    regimen_for,
    titration_schedule,
    to_dose,
    todays_dose,
)

DULOXETINE = load_knowledge().medicine("duloxetine")
assert DULOXETINE is not None
D0 = date(2025, 1, 6)


def test_titration_days() -> None:
    schedule = build_schedule([(D0, 30), (D0 + timedelta(days=7), 60)])
    assert planned_dose(schedule, D0 - timedelta(days=1)) == 0
    assert planned_dose(schedule, D0) == 30
    assert planned_dose(schedule, D0 + timedelta(days=6)) == 30
    assert planned_dose(schedule, D0 + timedelta(days=7)) == 60
    assert planned_dose(schedule, D0 + timedelta(days=400)) == 60


def test_end_date_is_the_last_day() -> None:
    schedule = build_schedule([ScheduleStep(D0, Decimal(60), D0 + timedelta(days=2))])
    assert planned_dose(schedule, D0 + timedelta(days=2)) == 60
    assert planned_dose(schedule, D0 + timedelta(days=3)) == 0


def test_mapping_steps_are_accepted() -> None:
    schedule = build_schedule([{"start": D0, "daily_dose_mg": 60}])
    assert planned_dose(schedule, D0) == Decimal(60)


def test_floats_are_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        build_schedule([(D0, 60.0)])  # type: ignore[list-item]
    assert caught.value.problems[0].field == "schedule[0].daily_dose_mg"
    with pytest.raises(InvalidInput):
        to_dose(True)


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        ([], "schedule"),
        ([(D0, 30), (D0, 60)], "schedule[1].start"),
        ([(D0, -5)], "schedule[0].daily_dose_mg"),
        (
            [ScheduleStep(D0, Decimal(30), D0 + timedelta(days=9)), (D0 + timedelta(days=7), 60)],
            "schedule[0].end",
        ),
        ([ScheduleStep(D0, Decimal(30), D0 - timedelta(days=1))], "schedule[0].end"),
        ([("2025-01-01", 30)], "schedule[0].start"),
    ],
)
def test_invalid_schedules_name_the_field(steps: list[object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        build_schedule(steps)  # type: ignore[arg-type]
    assert field in [p.field for p in caught.value.problems]


def test_how_to_take_each_dose() -> None:
    assert DULOXETINE is not None
    texts = {int(d): r.text for d, r in dose_options(DULOXETINE).items()}
    assert texts[60] == "one 60 mg capsule once a day"
    assert texts[30] == "one 30 mg capsule once a day"
    assert texts[50].startswith("one 30 mg capsule and one 20 mg capsule together once a day")
    assert texts[120].startswith("one 60 mg capsule twice a day")
    assert set(texts) == {20, 30, 40, 50, 60, 80, 100, 120}
    assert regimen_for(DULOXETINE, 45) is None
    assert regimen_for(DULOXETINE, 10) is None


def test_todays_dose_instructions() -> None:
    assert DULOXETINE is not None
    schedule = titration_schedule(DULOXETINE, D0, "CLBP")
    first = todays_dose(schedule, D0, DULOXETINE)
    assert first.daily_dose_mg == 30
    assert first.instructions.startswith("Take one 30 mg capsule once a day.")
    assert "do not chew, crush or open" in first.instructions
    later = todays_dose(schedule, D0 + timedelta(days=7), DULOXETINE)
    assert later.instructions.startswith("Take one 60 mg capsule once a day.")
    before = todays_dose(schedule, D0 - timedelta(days=1), DULOXETINE)
    assert before.daily_dose_mg == 0 and before.regimen is None
    odd = todays_dose(build_schedule([(D0, 45)]), D0, DULOXETINE)
    assert odd.regimen is None and "cannot be made up" in odd.instructions


def test_titration_for_unknown_condition() -> None:
    assert DULOXETINE is not None
    with pytest.raises(InvalidInput) as caught:
        titration_schedule(DULOXETINE, D0, "migraine")
    assert caught.value.problems[0].field == "condition"


doses = st.one_of(
    st.integers(min_value=0, max_value=240),
    st.decimals(min_value=0, max_value=240, places=1, allow_nan=False, allow_infinity=False),
)


@st.composite
def schedules(draw: st.DrawFn) -> list[ScheduleStep]:
    gaps = draw(st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=6))
    steps: list[ScheduleStep] = []
    day = D0 + timedelta(days=draw(st.integers(min_value=0, max_value=10)))
    for i, gap in enumerate(gaps):
        end = None
        if draw(st.booleans()):
            length = gap - 1 if i < len(gaps) - 1 else draw(st.integers(0, 40))
            end = day + timedelta(days=draw(st.integers(min_value=0, max_value=max(length, 0))))
            if i < len(gaps) - 1 and end >= day + timedelta(days=gap):
                end = day + timedelta(days=gap - 1)
        steps.append(ScheduleStep(day, Decimal(draw(doses)), end))
        day += timedelta(days=gap)
    return steps


@given(schedules(), st.integers(min_value=-5, max_value=250))
def test_dose_engine_agrees_with_every_schedule(steps: list[ScheduleStep], offset: int) -> None:
    on = D0 + timedelta(days=offset)
    # the model: walk the days, each step sets the dose from its start until its end
    expected = Decimal(0)
    for step in steps:
        if step.start <= on:
            expected = step.daily_dose_mg if (step.end is None or on <= step.end) else Decimal(0)
    assert planned_dose(build_schedule(steps), on) == expected
    assert planned_dose(steps, on) == expected
