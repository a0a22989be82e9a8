"""compare_scores: change in PEG, RMDQ, PHQ-9, GAD-7 against minimal important change."""

from __future__ import annotations

import pytest

from painpath.kit.errors import InvalidInput
from painpath.response.domain.analysis import MINIMAL_IMPORTANT_CHANGES, compare_scores

RMDQ = MINIMAL_IMPORTANT_CHANGES["rmdq"]


def test_rmdq_threshold_is_ostelos_5_points_or_30_percent() -> None:
    assert (RMDQ.points, RMDQ.percent) == (5.0, 30.0)
    assert "Ostelo" in RMDQ.source


@pytest.mark.parametrize(
    ("baseline", "current", "crosses", "direction"),
    [
        (14, 9, True, "better"),  # 5 points (36%)
        (14, 10, False, "better"),  # 4 points, 29%
        (10, 7, True, "better"),  # 3 points but 30%
        (8, 13, True, "worse"),  # 5 points worse
        (12, 12, False, "same"),
    ],
)
def test_rmdq_changes(baseline: int, current: int, crosses: bool, direction: str) -> None:
    result = compare_scores(baseline, current, RMDQ.points, RMDQ.percent)
    assert result.crosses_mic is crosses
    assert result.direction == direction
    assert result.change == current - baseline
    assert result.improved_beyond_mic is (crosses and direction == "better")
    assert result.worsened_beyond_mic is (crosses and direction == "worse")


def test_peg_uses_30_percent_only() -> None:
    peg = MINIMAL_IMPORTANT_CHANGES["peg"]
    assert peg.points is None and peg.percent == 30.0
    assert compare_scores(6.0, 4.0, peg.points, peg.percent).crosses_mic is True  # −33%
    assert compare_scores(6.0, 4.5, peg.points, peg.percent).crosses_mic is False  # −25%


def test_phq9_and_gad7_have_no_threshold_in_the_reference() -> None:
    assert "phq-9" not in MINIMAL_IMPORTANT_CHANGES and "gad-7" not in MINIMAL_IMPORTANT_CHANGES
    result = compare_scores(15, 9)
    assert result.change == -6
    assert result.percent_change == pytest.approx(-40.0)
    assert result.direction == "better"
    assert result.crosses_mic is None
    assert result.to_json()["crosses_mic"] is None


def test_a_zero_baseline_has_no_percent_and_uses_points_only() -> None:
    result = compare_scores(0, 6, RMDQ.points, RMDQ.percent)
    assert result.percent_change is None
    assert result.worsened_beyond_mic is True


def test_bad_values_are_clear_errors() -> None:
    with pytest.raises(InvalidInput) as caught:
        compare_scores(float("nan"), 3, -1, None)
    fields = {p.field for p in caught.value.problems}
    assert fields == {"baseline_value", "mic_points"}
