"""The server-side charts: SVG with the labels a reader needs, greyscale only, no script,
no inline style, nothing fetched from elsewhere, and a text alternative with the numbers."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from painpath.response import charts

START = date(2025, 3, 3)


def diary() -> list[tuple[date, float]]:
    before = [(START - timedelta(days=d), 7.0) for d in range(1, 15)]
    after = [(START + timedelta(days=d), 4.0 if d % 2 else 5.0) for d in range(0, 60)]
    return before + after


def response_data() -> charts.ResponseChartData:
    return charts.ResponseChartData(
        diary=diary(),
        start=START,
        baseline=(START - timedelta(days=14), START - timedelta(days=1)),
        baseline_mean=7.0,
        assessment=(START + timedelta(days=46), START + timedelta(days=59)),
        assessment_mean=4.5,
        target_dose_reached=START + timedelta(days=7),
    )


def assert_safe_greyscale_svg(svg: str) -> None:
    assert svg.startswith("<svg")
    assert "<script" not in svg.lower()
    assert " style=" not in svg and "<style" not in svg
    assert "<image" not in svg and 'href="http' not in svg
    for hex_colour in re.findall(r"#([0-9a-fA-F]{6})\b", svg):
        r, g, b = (int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))
        assert max(r, g, b) - min(r, g, b) <= 8, f"#{hex_colour} is not a grey"
    for named in re.findall(r'(?:fill|stroke)="([a-z]+)"', svg):
        assert named in {"none", "white", "black", "transparent"}, named


def test_the_response_chart_labels_both_windows_and_their_averages() -> None:
    svg = charts.response_chart(response_data())
    assert_safe_greyscale_svg(svg)
    for text in ("Before", "Assessed", "average 7.0", "average 4.5", "Started", "Full dose"):
        assert f">{text}<" in svg, text
    # the windows' mean lines differ by dash as well as by shade
    assert 'stroke-dasharray="8,4"' in svg


def test_the_response_chart_has_a_text_alternative_with_the_numbers() -> None:
    alt = charts.response_chart_alt(response_data())
    assert "17 February to 02 March 2025, average 7.0" in alt
    assert "18 April to 01 May 2025, average 4.5" in alt
    assert "74 days with a score" in alt


def test_a_chart_without_an_assessment_window_says_so() -> None:
    data = charts.ResponseChartData(
        diary=[(START - timedelta(days=2), 6.0)],
        start=START,
        baseline=(START - timedelta(days=14), START - timedelta(days=1)),
        baseline_mean=None,
        assessment=None,
        assessment_mean=None,
    )
    svg = charts.response_chart(data)
    assert_safe_greyscale_svg(svg)
    assert ">Assessed<" not in svg
    assert "too few scores" in charts.response_chart_alt(data)


def my_data() -> charts.MyDataChartData:
    return charts.MyDataChartData(
        first=START - timedelta(days=14),
        last=START + timedelta(days=70),
        pain=diary(),
        function=[
            charts.ScoreSeries("peg", "PEG", 10, [(START, 6.7), (START + timedelta(days=56), 3.3)]),
            charts.ScoreSeries("rmdq", "RMDQ", 24, [(START, 12), (START + timedelta(days=56), 7)]),
        ],
        mood=[
            charts.ScoreSeries("phq9", "PHQ-9", 27, [(START, 9), (START + timedelta(days=56), 6)]),
            charts.ScoreSeries("gad7", "GAD-7", 21, []),
        ],
        dose_steps=[
            charts.DoseStepPoint(START, Decimal(30), "duloxetine"),
            charts.DoseStepPoint(START + timedelta(days=7), Decimal(60), "duloxetine"),
        ],
        taper_steps=[
            (START + timedelta(days=60), Decimal(30)),
            (START + timedelta(days=74), Decimal(0)),
        ],
        therapies=[
            (START + timedelta(days=20), "physiotherapy"),
            (START + timedelta(days=27), "tens"),
        ],
    )


def test_my_data_puts_every_measure_and_the_medicine_on_one_time_axis() -> None:
    svg = charts.my_data_chart(my_data())
    assert_safe_greyscale_svg(svg)
    for text in (
        "Pain diary (average pain each day)",
        "PEG",
        "RMDQ",
        "PHQ-9",
        "30 mg",
        "60 mg",
        "taper 30 mg",
        "physiotherapy",
        "tens",
    ):
        assert f">{text}" in svg, text
    # a series with no points draws no label
    assert ">GAD-7<" not in svg


def test_my_data_has_a_text_alternative() -> None:
    alt = charts.my_data_chart_alt(my_data())
    assert "PEG: 2 scores, first 6.7, latest 3.3." in alt
    assert "duloxetine 30 mg a day from 03 March 2025" in alt
    assert "Taper plan: 30 mg from 02 May 2025; 0 mg from 16 May 2025." in alt
    assert "1 physiotherapy, 1 tens" in alt
    assert "GAD-7" not in alt


def rows() -> list[charts.ForestRow]:
    return [
        charts.ForestRow("Trial A", 1.7, 0.8, 3.6),
        charts.ForestRow("Trial B", 2.8, 1.4, 5.4),
        charts.ForestRow("Pooled", 2.3, 1.5, 3.5, kind="pooled", prediction=(1.2, 4.4)),
        charts.ForestRow("Published", 2.31, 1.81, 2.94, kind="published"),
    ]


def test_the_forest_plot_shows_each_row_with_its_numbers() -> None:
    svg = charts.forest_plot(rows(), x_title="Risk ratio", title="Stopping")
    assert_safe_greyscale_svg(svg)
    for text in ("Trial A", "Pooled", "1.70 (0.80 to 3.60)", "2.30 (1.50 to 3.50)", "Risk ratio"):
        assert f">{text}<" in svg, text


def test_the_forest_plot_text_alternative_reads_out_every_row() -> None:
    alt = charts.forest_plot_alt(rows(), what="stopping")
    assert "Trial B: 2.80 (95% CI 1.40 to 5.40)." in alt
    assert "prediction interval 1.20 to 4.40" in alt


@pytest.mark.parametrize("value", [0.2, 12.0])
def test_the_forest_plot_axis_stretches_to_fit_wide_intervals(value: float) -> None:
    wide = [charts.ForestRow("Wide", 1.0, min(value, 1.0), max(value, 1.0))]
    svg = charts.forest_plot(wide, x_title="Risk ratio", title="Wide")
    tick = "0.125" if value < 1 else "16"
    assert f">{tick}<" in svg
