"""Properties: any diary gives a result or a clear InvalidInput, never a crash."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from painpath.kit.errors import InvalidInput
from painpath.response.domain.analysis import (
    Category,
    CoIntervention,
    DiaryPoint,
    analyze_response,
    compare_scores,
)

START = date(2025, 3, 3)

pain_values = st.one_of(
    st.integers(min_value=0, max_value=10).map(float),
    st.floats(min_value=0, max_value=10, allow_nan=False),
    st.floats(allow_nan=True, allow_infinity=True),  # mostly malformed
)
diaries = st.lists(
    st.tuples(st.integers(min_value=-30, max_value=120), pain_values), max_size=80
).map(lambda rows: [DiaryPoint(START + timedelta(days=d), p) for d, p in rows])
clean_diaries = st.dictionaries(
    st.integers(min_value=-20, max_value=100),
    st.integers(min_value=0, max_value=10).map(float),
    max_size=80,
).map(lambda rows: [DiaryPoint(START + timedelta(days=d), p) for d, p in rows.items()])
offsets = st.integers(min_value=-30, max_value=130)


@settings(max_examples=300, deadline=None)
@given(
    points=diaries,
    today_offset=offsets,
    window=st.one_of(st.none(), st.tuples(offsets, offsets), st.tuples(offsets, st.none())),
    dose_offsets=st.one_of(st.none(), st.lists(offsets, max_size=40)),
    co_offsets=st.lists(offsets, max_size=4),
    change_offsets=st.lists(offsets, max_size=4),
)
def test_any_input_gives_a_result_or_a_clear_error(
    points: list[DiaryPoint],
    today_offset: int,
    window: tuple[int, int | None] | None,
    dose_offsets: list[int] | None,
    co_offsets: list[int],
    change_offsets: list[int],
) -> None:
    today = START + timedelta(days=today_offset)
    assess_from = assess_to = None
    if window is not None:
        assess_from = START + timedelta(days=window[0])
        assess_to = None if window[1] is None else START + timedelta(days=window[1])
    try:
        result = analyze_response(
            points,
            start=START,
            today=today,
            assess_from=assess_from,
            assess_to=assess_to,
            doses_taken_on=None
            if dose_offsets is None
            else [START + timedelta(days=d) for d in dose_offsets],
            co_interventions=[
                CoIntervention(START + timedelta(days=d), "physiotherapy") for d in co_offsets
            ],
            dose_changes=[START + timedelta(days=d) for d in change_offsets],
        )
    except InvalidInput as error:
        assert error.problems, "an InvalidInput must name what was wrong"
        assert all(p.field and p.message for p in error.problems)
        return
    payload = result.to_json()
    json.dumps(payload, allow_nan=False)
    assert "placebo" in result.caveat_codes()
    if result.category is Category.INSUFFICIENT_DATA:
        assert result.probability_moderate_or_better is None
        assert result.percent_change is None
    else:
        assert result.baseline_days >= 4 and result.treatment_days >= 4
        assert result.probability_moderate_or_better is not None
        assert 0.0 <= result.probability_moderate_or_better <= 1.0
        assert result.percent_change is not None and math.isfinite(result.percent_change)


@settings(max_examples=200, deadline=None)
@given(points=clean_diaries)
def test_valid_diaries_never_raise_and_categories_match_the_percent(
    points: list[DiaryPoint],
) -> None:
    result = analyze_response(points, start=START, today=START + timedelta(days=100))
    if result.category is Category.INSUFFICIENT_DATA:
        return
    assert result.percent_change is not None
    pct = round(result.percent_change, 6)  # 10 → 7 is −30.000000000000004 in floats
    expected = (
        Category.SUBSTANTIAL
        if pct <= -50
        else Category.MODERATE
        if pct <= -30
        else Category.WORSE
        if pct > 10
        else Category.MINIMAL
    )
    assert result.category is expected
    assert result.summaries.patient and result.summaries.clinician


@settings(max_examples=200, deadline=None)
@given(
    baseline=st.floats(min_value=0, max_value=100, allow_nan=False),
    current=st.floats(min_value=0, max_value=100, allow_nan=False),
    points=st.one_of(st.none(), st.floats(min_value=0.5, max_value=20)),
    percent=st.one_of(st.none(), st.floats(min_value=1, max_value=90)),
)
def test_compare_scores_is_total_on_valid_scores(
    baseline: float, current: float, points: float | None, percent: float | None
) -> None:
    result = compare_scores(baseline, current, points, percent)
    assert result.change == current - baseline
    if points is None and percent is None:
        assert result.crosses_mic is None
    elif result.crosses_mic:
        assert result.improved_beyond_mic != result.worsened_beyond_mic
