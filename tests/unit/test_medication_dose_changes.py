"""The schedule in force after a series of dose changes, and the guidance notes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from painpath.medication.domain.prescribing import guidance_for
from painpath.medication.domain.schedule import (
    RecordedStep,
    apply_dose_changes,
    planned_dose,
)

DAY0 = date(2026, 1, 1)
T0 = datetime(2026, 1, 1, 9, tzinfo=UTC)


def test_a_later_change_replaces_future_steps_and_keeps_them_for_the_record() -> None:
    steps = [
        RecordedStep(DAY0, Decimal(30), T0),
        RecordedStep(DAY0 + timedelta(days=7), Decimal(60), T0),
        RecordedStep(DAY0 + timedelta(days=5), Decimal(30), T0 + timedelta(days=3)),
    ]
    history = apply_dose_changes(steps)
    assert history.schedule is not None
    assert [(s.start, s.daily_dose_mg) for s in history.schedule.steps] == [
        (DAY0, Decimal(30)),
        (DAY0 + timedelta(days=5), Decimal(30)),
    ]
    assert history.superseded == frozenset({1})
    assert planned_dose(history.schedule, DAY0 + timedelta(days=10)) == 30


def test_no_steps_no_schedule() -> None:
    history = apply_dose_changes([])
    assert history.schedule is None and history.superseded == frozenset()


doses = st.sampled_from([Decimal(d) for d in (0, 20, 30, 40, 60, 90, 120)])
change = st.lists(
    st.tuples(st.integers(0, 60), doses), min_size=1, max_size=4, unique_by=lambda t: t[0]
)


@given(st.lists(change, min_size=1, max_size=5))
def test_each_change_rewrites_nothing_before_its_first_day(
    changes: list[list[tuple[int, Decimal]]],
) -> None:
    recorded: list[RecordedStep] = []
    for n, batch in enumerate(changes):
        before = apply_dose_changes(recorded)
        when = T0 + timedelta(hours=n)
        new = [RecordedStep(DAY0 + timedelta(days=d), dose, when) for d, dose in batch]
        recorded += new
        after = apply_dose_changes(recorded)
        assert after.schedule is not None
        first = min(s.start for s in new)
        for offset in range(-2, 70):
            day = DAY0 + timedelta(days=offset)
            if day < first:
                old = planned_dose(before.schedule, day) if before.schedule else Decimal(0)
                assert planned_dose(after.schedule, day) == old
            else:
                latest = max((s for s in new if s.start <= day), key=lambda s: s.start)
                assert planned_dose(after.schedule, day) == latest.daily_dose_mg


def test_guidance_names_off_label_use_for_back_pain_and_sciatica() -> None:
    notes = guidance_for("duloxetine", ["chronic low back pain", "sciatica"])
    assert {n.code for n in notes} == {"off-label"}
    assert all(n.source and not n.blocking for n in notes)
    assert any("NICE NG59" in n.message for n in notes)
    assert guidance_for("duloxetine", []) == []
    assert guidance_for("not a medicine", ["sciatica"]) == []
