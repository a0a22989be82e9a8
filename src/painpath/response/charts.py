"""Charts of the "does it help?" area, drawn on the server as SVG.

Altair builds a Vega-Lite specification and ``vl_convert`` turns it into SVG; no
JavaScript runs in the browser. Pages show each chart as an ``<img>`` from its own
authenticated route (the page's strict CSP is then never in question) with a text
alternative built here from the same numbers, and a table where the chart carries
more than a sentence can say.

Readable in greyscale and without colour: everything is black or grey, and series
differ by line dash and point shape, each named in a legend or a label.

Three charts:

* :func:`response_chart`: daily pain with the baseline and assessment windows
  shaded and labelled, and each window's mean as a line with its value.
* :func:`my_data_chart`: pain, function (PEG, RMDQ) and mood (PHQ-9, GAD-7) over
  time in panels on one time axis, with the medicine's dose steps, taper steps and
  therapy sessions on the same axis.
* :func:`forest_plot`: per-trial risk ratios with confidence intervals, the pooled
  random-effects estimate as a diamond and its prediction interval.

Pure: no database, web or clock; the data are passed in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

import altair as alt
import vl_convert

Panel = alt.LayerChart | alt.FacetChart

WIDTH = 600
INK = "#0b0c0c"
GREY = "#595959"
LIGHT = "#d8dadb"
MID = "#b1b4b6"
FONT = "Arial, Helvetica, sans-serif"

CONFIG: dict[str, Any] = {
    "font": FONT,
    "background": "white",
    "view": {"stroke": GREY},
    "axis": {
        "labelFontSize": 13,
        "titleFontSize": 13,
        "labelColor": INK,
        "titleColor": INK,
        "domainColor": INK,
        "tickColor": INK,
        "gridColor": LIGHT,
    },
    "legend": {"labelFontSize": 13, "titleFontSize": 13, "labelColor": INK, "titleColor": INK},
    "title": {"fontSize": 15, "anchor": "start", "color": INK},
}


def render_svg(chart: alt.TopLevelMixin) -> str:
    """The chart as an SVG document; no external data may be fetched."""
    spec = chart.to_dict()
    spec["config"] = {**CONFIG, **spec.get("config", {})}
    return str(vl_convert.vegalite_to_svg(spec, allowed_base_urls=[]))


def _chart(rows: list[dict[str, Any]]) -> alt.Chart:
    """A chart over inline rows (never a URL)."""
    return alt.Chart(alt.InlineData(values=rows))


def _iso(day: date) -> str:
    return day.isoformat()


def _after(day: date) -> str:
    """The end of a day on a time axis (the next midnight), so a window covers whole days."""
    return (day + timedelta(days=1)).isoformat()


def _x(first: date, last: date, title: str = "Date") -> alt.X:
    return alt.X(
        "date:T",
        title=title,
        scale=alt.Scale(type="utc", domain=[_iso(first), _after(last)]),
        axis=alt.Axis(format="%d %b %Y", labelAngle=0, tickCount=6, labelOverlap=True),
    )


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def _haloed_text(base: alt.Chart, style: dict[str, Any], **encoding: Any) -> list[alt.Chart]:
    """Text with a white outline behind it, so it stays readable over lines and points."""
    return [
        base.mark_text(**style, stroke="white", strokeWidth=4, strokeJoin="round").encode(
            **encoding, color=alt.value("white")
        ),
        base.mark_text(**style).encode(**encoding, color=alt.value(INK)),
    ]


def _mg(dose: Decimal) -> str:
    number = Decimal(dose)
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


# --- 1. the response chart ---------------------------------------------------------------


@dataclass(frozen=True)
class ResponseChartData:
    """What the response chart shows; windows include both end dates."""

    diary: Sequence[tuple[date, float]]
    start: date
    baseline: tuple[date, date]
    baseline_mean: float | None
    assessment: tuple[date, date] | None
    assessment_mean: float | None
    target_dose_reached: date | None = None

    @property
    def first(self) -> date:
        days = [self.baseline[0], *(d for d, _ in self.diary)]
        return min(days)

    @property
    def last(self) -> date:
        days = [self.start, *(d for d, _ in self.diary)]
        if self.assessment is not None:
            days.append(self.assessment[1])
        return max(days)


def response_chart(data: ResponseChartData) -> str:
    """Daily pain, the two windows shaded and labelled, and each window's mean."""
    first, last = data.first, data.last
    x = _x(first, last)
    y_scale = alt.Scale(domain=[0, 10])
    windows: list[dict[str, Any]] = [
        {
            "date": _iso(data.baseline[0]),
            "end": _after(data.baseline[1]),
            "label": "Before",
            "shade": "before",
        }
    ]
    if data.assessment is not None:
        windows.append(
            {
                "date": _iso(data.assessment[0]),
                "end": _after(data.assessment[1]),
                "label": "Assessed",
                "shade": "assessed",
            }
        )
    shade = alt.Color(
        "shade:N", scale=alt.Scale(domain=["before", "assessed"], range=[LIGHT, MID]), legend=None
    )
    rects = (
        _chart(windows)
        .mark_rect(opacity=0.6)
        .encode(x=x, x2="end:T", y=alt.datum(0, scale=y_scale), y2=alt.datum(10), color=shade)
    )
    rect_labels = (
        _chart(windows)
        .mark_text(align="left", baseline="top", dx=3, dy=3, fontSize=13, fontWeight="bold")
        .encode(x=x, y=alt.datum(10, scale=y_scale), text="label:N", color=alt.value(INK))
    )
    layers: list[alt.Chart] = [rects, rect_labels]

    points = [{"date": _iso(d), "pain": float(p)} for d, p in sorted(data.diary)]
    if points:
        y = alt.Y("pain:Q", title="Average pain (0 to 10)", scale=y_scale)
        layers.append(_chart(points).mark_line(color=INK, strokeWidth=1.5).encode(x=x, y=y))
        layers.append(
            _chart(points)
            .mark_point(shape="circle", filled=True, size=30, color=INK, opacity=1)
            .encode(x=x, y=y)
        )

    means: list[dict[str, Any]] = []
    if data.baseline_mean is not None:
        means.append(
            {
                "date": _iso(data.baseline[0]),
                "end": _after(data.baseline[1]),
                "mean": data.baseline_mean,
                "label": f"average {_fmt(data.baseline_mean)}",
                "which": "before",
            }
        )
    if data.assessment is not None and data.assessment_mean is not None:
        means.append(
            {
                "date": _iso(data.assessment[0]),
                "end": _after(data.assessment[1]),
                "mean": data.assessment_mean,
                "label": f"average {_fmt(data.assessment_mean)}",
                "which": "assessed",
            }
        )
    if means:
        dash = alt.StrokeDash(
            "which:N",
            scale=alt.Scale(domain=["before", "assessed"], range=[[8, 4], [1, 0]]),
            legend=None,
        )
        layers.append(
            _chart(means)
            .mark_rule(strokeWidth=3, color=INK)
            .encode(x=x, x2="end:T", y=alt.Y("mean:Q", scale=y_scale), strokeDash=dash)
        )
        layers += _haloed_text(
            _chart(means),
            {"align": "left", "baseline": "bottom", "dx": 3, "dy": -5, "fontSize": 13},
            x=x,
            y=alt.Y("mean:Q", scale=y_scale),
            text="label:N",
        )

    markers = [{"date": _iso(data.start), "label": "Started", "y": 0.2}]
    if data.target_dose_reached is not None and data.target_dose_reached != data.start:
        markers.append({"date": _iso(data.target_dose_reached), "label": "Full dose", "y": 1.0})
    layers.append(
        _chart(markers).mark_rule(color=INK, strokeDash=[2, 3], strokeWidth=1.5).encode(x=x)
    )
    layers += _haloed_text(
        _chart(markers),
        {"align": "left", "baseline": "bottom", "dx": 3, "fontSize": 12},
        x=x,
        y=alt.Y("y:Q", scale=y_scale),
        text="label:N",
    )
    chart = alt.layer(*layers).properties(
        width=WIDTH,
        height=260,
        title="Your pain diary: before you started, and the days we assessed",
    )
    return render_svg(chart)


def response_chart_alt(data: ResponseChartData) -> str:
    """A text alternative for :func:`response_chart`."""
    parts = [
        f"Chart of your daily pain scores from {data.first:%d %B %Y} to {data.last:%d %B %Y}, "
        f"{len(data.diary)} days with a score."
    ]
    b0, b1 = data.baseline
    if data.baseline_mean is not None:
        parts.append(
            f"The shaded 'Before' days, {b0:%d %B} to {b1:%d %B %Y}, average "
            f"{_fmt(data.baseline_mean)} (dashed line)."
        )
    else:
        parts.append(f"The shaded 'Before' days, {b0:%d %B} to {b1:%d %B %Y}, have too few scores.")
    if data.assessment is not None:
        a0, a1 = data.assessment
        if data.assessment_mean is not None:
            parts.append(
                f"The shaded 'Assessed' days, {a0:%d %B} to {a1:%d %B %Y}, average "
                f"{_fmt(data.assessment_mean)} (solid line)."
            )
        else:
            parts.append(f"The shaded 'Assessed' days, {a0:%d %B} to {a1:%d %B %Y}.")
    parts.append(f"A dotted line marks the start on {data.start:%d %B %Y}.")
    return " ".join(parts)


# --- 2. my data ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreSeries:
    """One questionnaire's totals over time; ``maximum`` is the top of its scale."""

    code: str
    label: str
    maximum: float
    points: Sequence[tuple[date, float]]


@dataclass(frozen=True)
class DoseStepPoint:
    start: date
    daily_dose_mg: Decimal
    medicine: str


@dataclass(frozen=True)
class MyDataChartData:
    """Everything on the "My data" chart, on one time axis from ``first`` to ``last``."""

    first: date
    last: date
    pain: Sequence[tuple[date, float]]
    function: Sequence[ScoreSeries] = ()
    mood: Sequence[ScoreSeries] = ()
    dose_steps: Sequence[DoseStepPoint] = ()
    taper_steps: Sequence[tuple[date, Decimal]] = ()
    therapies: Sequence[tuple[date, str]] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


_SHAPES = ("circle", "square", "triangle-up", "diamond", "cross", "triangle-down")
_DASHES = ([1, 0], [6, 3], [2, 2], [10, 3, 2, 3])


def _change_rules(data: MyDataChartData, x: alt.X) -> alt.Chart | None:
    """Thin dotted lines at every dose change, so each panel lines up with the medicine."""
    days = sorted({s.start for s in data.dose_steps} | {d for d, _ in data.taper_steps})
    days = [d for d in days if data.first <= d <= data.last]
    if not days:
        return None
    rules: alt.Chart = (
        _chart([{"date": _iso(d)} for d in days])
        .mark_rule(color=GREY, strokeDash=[2, 3], strokeWidth=1)
        .encode(x=x)
    )
    return rules


def _series_panel(
    series: Sequence[ScoreSeries], title: str, x: alt.X, data: MyDataChartData
) -> Panel:
    """Several scores on one axis, told apart by dash and point shape and each named by a
    label at its latest point (no legend to match up)."""
    labels = [s.label for s in series]
    rows = [
        {"date": _iso(d), "score": float(v), "measure": s.label}
        for s in series
        for d, v in sorted(s.points)
        if data.first <= d <= data.last
    ]
    top = max(s.maximum for s in series)
    ends: list[dict[str, Any]] = []
    for s in series:
        shown = [(d, v) for d, v in sorted(s.points) if data.first <= d <= data.last]
        if shown:
            ends.append(
                {"date": _iso(shown[-1][0]), "score": float(shown[-1][1]), "label": s.label}
            )
    # Keep the end labels apart: at least 14 px (of the 110 px panel) between them.
    gap = top * 14 / 110
    ends.sort(key=lambda e: e["score"])
    for lower, upper in pairwise(ends):
        if upper["score"] - lower["score"] < gap:
            upper["score"] = lower["score"] + gap
    y = alt.Y("score:Q", title=title, scale=alt.Scale(domain=[0, top]))
    dash = alt.StrokeDash(
        "measure:N", scale=alt.Scale(domain=labels, range=list(_DASHES[: len(labels)])), legend=None
    )
    shape = alt.Shape(
        "measure:N", scale=alt.Scale(domain=labels, range=list(_SHAPES[: len(labels)])), legend=None
    )
    layers: list[alt.Chart] = [
        _chart(rows)
        .mark_line(color=INK, strokeWidth=1.5, clip=True)
        .encode(x=x, y=y, strokeDash=dash, detail="measure:N"),
        _chart(rows)
        .mark_point(filled=True, size=40, color=INK, opacity=1, clip=True)
        .encode(x=x, y=y, shape=shape),
    ]
    layers += _haloed_text(
        _chart(ends),
        {"align": "left", "baseline": "middle", "dx": 7, "fontSize": 12, "fontWeight": "bold"},
        x=x,
        y=y,
        text="label:N",
    )
    rules = _change_rules(data, x)
    if rules is not None:
        layers.insert(0, rules)
    return alt.layer(*layers).properties(width=WIDTH, height=110)


def my_data_chart(data: MyDataChartData) -> str:
    """Panels on one time axis: pain, function, mood, medicine and therapies."""
    x = _x(data.first, data.last, title="")
    panels: list[Panel] = []

    pain_rows = [
        {"date": _iso(d), "pain": float(p)}
        for d, p in sorted(data.pain)
        if data.first <= d <= data.last
    ]
    y = alt.Y("pain:Q", title="Pain (0–10)", scale=alt.Scale(domain=[0, 10]))
    pain_layers: list[alt.Chart] = [
        _chart(pain_rows).mark_line(color=INK, strokeWidth=1).encode(x=x, y=y),
        _chart(pain_rows)
        .mark_point(shape="circle", filled=True, size=14, color=INK, opacity=1)
        .encode(x=x, y=y),
    ]
    rules = _change_rules(data, x)
    if rules is not None:
        pain_layers.insert(0, rules)
    panels.append(
        alt.layer(*pain_layers).properties(
            width=WIDTH, height=130, title="Pain diary (average pain each day)"
        )
    )
    function = [s for s in data.function if s.points]
    if function:
        panels.append(
            _series_panel(function, "Score", x, data).properties(
                title="Function: PEG (0–10) and RMDQ (0–24), lower is better"
            )
        )
    mood = [s for s in data.mood if s.points]
    if mood:
        panels.append(
            _series_panel(mood, "Score", x, data).properties(
                title="Mood: PHQ-9 (0–27) and GAD-7 (0–21), lower is better"
            )
        )
    panels.append(_medicine_panel(data, x))
    if data.therapies:
        panels.append(_therapy_panel(data, x))
    chart = alt.vconcat(*panels, spacing=28).resolve_scale(
        x="shared", strokeDash="independent", shape="independent"
    )
    return render_svg(chart)


def _medicine_panel(data: MyDataChartData, x: alt.X) -> Panel:
    """The prescribed daily dose as a solid step line, the taper plan dashed with a
    triangle and a label at each step."""
    rows: list[dict[str, Any]] = []
    steps = sorted(data.dose_steps, key=lambda s: s.start)
    for i, step in enumerate(steps):
        following = steps[i + 1].start if i + 1 < len(steps) else data.last + timedelta(days=1)
        for day in (step.start, following):
            rows.append({"date": _iso(day), "dose": float(step.daily_dose_mg), "series": "dose"})
    taper = sorted(data.taper_steps)
    for i, (start, dose) in enumerate(taper):
        following = taper[i + 1][0] if i + 1 < len(taper) else data.last + timedelta(days=1)
        for day in (start, max(start, following)):
            rows.append({"date": _iso(day), "dose": float(dose), "series": "taper"})
    top = max([60.0, *(float(s.daily_dose_mg) for s in steps), *(float(d) for _, d in taper)])
    y = alt.Y("dose:Q", title="mg a day", scale=alt.Scale(domain=[0, top * 1.2]))
    dash = alt.StrokeDash(
        "series:N",
        scale=alt.Scale(domain=["dose", "taper"], range=[[1, 0], [6, 3]]),
        legend=None,
    )
    layers: list[alt.Chart] = [
        _chart(rows)
        .mark_line(color=INK, strokeWidth=2, interpolate="step-after", clip=True)
        .encode(x=x, y=y, strokeDash=dash, detail="series:N")
    ]
    taper_days = {d for d, _ in taper}
    labels = [
        {
            "date": _iso(s.start),
            "dose": float(s.daily_dose_mg),
            "label": f"{_mg(s.daily_dose_mg)} mg",
        }
        for s in steps
        if data.first <= s.start <= data.last and s.start not in taper_days
    ]
    labels += [
        {"date": _iso(d), "dose": float(v), "label": f"taper {_mg(v)} mg"}
        for d, v in taper
        if data.first <= d <= data.last
    ]
    if labels:
        layers += _haloed_text(
            _chart(labels),
            {"align": "left", "baseline": "bottom", "dx": 4, "dy": -3, "fontSize": 12},
            x=x,
            y=y,
            text="label:N",
        )
    shown_taper = [{"date": _iso(d), "dose": float(v)} for d, v in taper if d <= data.last]
    if shown_taper:
        layers.append(
            _chart(shown_taper)
            .mark_point(shape="triangle-down", filled=True, size=80, color=INK, opacity=1)
            .encode(x=x, y=y)
        )
    medicines = sorted({s.medicine for s in steps}) or ["medicine"]
    title = f"Medicine: {', '.join(medicines)} (solid line: daily dose"
    title += "; dashed line and triangles: taper plan)" if taper else ")"
    return alt.layer(*layers).properties(width=WIDTH, height=110, title=title)


def _therapy_panel(data: MyDataChartData, x: alt.X) -> Panel:
    rows = [
        {"date": _iso(d), "kind": k.replace("-", " ")}
        for d, k in sorted(data.therapies)
        if data.first <= d <= data.last
    ]
    kinds = sorted({r["kind"] for r in rows})
    layers: list[alt.Chart] = [
        _chart(rows)
        .mark_point(shape="diamond", filled=True, size=70, color=INK, opacity=1)
        .encode(x=x, y=alt.Y("kind:N", title=None, sort=kinds))
    ]
    rules = _change_rules(data, x)
    if rules is not None:
        layers.insert(0, rules)
    return alt.layer(*layers).properties(
        width=WIDTH,
        height=max(28, 26 * len(kinds)),
        title="Therapy sessions (a diamond for each session)",
    )


def my_data_chart_alt(data: MyDataChartData) -> str:
    """A text alternative for :func:`my_data_chart` (the page's tables hold every figure)."""
    parts = [f"Charts of your data from {data.first:%d %B %Y} to {data.last:%d %B %Y}."]
    pain = sorted(data.pain)
    if pain:
        lo = min(p for _, p in pain)
        hi = max(p for _, p in pain)
        parts.append(
            f"Pain diary: {len(pain)} days with a score, from {_fmt(lo)} to {_fmt(hi)}; "
            f"the first was {_fmt(pain[0][1])} and the latest {_fmt(pain[-1][1])}."
        )
    else:
        parts.append("Pain diary: no scores yet.")
    for s in [*data.function, *data.mood]:
        if s.points:
            pts = sorted(s.points)
            parts.append(
                f"{s.label}: {len(pts)} scores, first {_fmt(pts[0][1])}, latest {_fmt(pts[-1][1])}."
            )
    steps = sorted(data.dose_steps, key=lambda s: s.start)
    if steps:
        parts.append(
            "Medicine: "
            + "; ".join(
                f"{s.medicine} {_mg(s.daily_dose_mg)} mg a day from {s.start:%d %B %Y}"
                for s in steps
            )
            + "."
        )
    if data.taper_steps:
        parts.append(
            "Taper plan: "
            + "; ".join(f"{_mg(v)} mg from {d:%d %B %Y}" for d, v in sorted(data.taper_steps))
            + "."
        )
    if data.therapies:
        counts: dict[str, int] = {}
        for _, kind in data.therapies:
            counts[kind] = counts.get(kind, 0) + 1
        parts.append(
            "Therapy sessions: "
            + ", ".join(f"{n} {k.replace('-', ' ')}" for k, n in sorted(counts.items()))
            + "."
        )
    return " ".join(parts)


# --- 3. the forest plot ----------------------------------------------------------------


@dataclass(frozen=True)
class ForestRow:
    """One line of a forest plot on the ratio scale (estimate and interval)."""

    label: str
    estimate: float
    low: float
    high: float
    kind: str = "study"  # study | pooled | published
    weight_note: str = ""
    prediction: tuple[float, float] | None = None


def _ratio(value: float) -> str:
    return f"{value:.2f}"


def forest_plot(rows: Sequence[ForestRow], *, x_title: str, title: str) -> str:
    """Estimates with 95% confidence intervals on a log axis, a line at no difference
    (1), the pooled estimate as a diamond and its prediction interval dashed."""
    order = [r.label for r in rows]
    values = [
        {
            "label": r.label,
            "estimate": r.estimate,
            "low": r.low,
            "high": r.high,
            "kind": r.kind,
            "text": f"{_ratio(r.estimate)} ({_ratio(r.low)} to {_ratio(r.high)})",
        }
        for r in rows
    ]
    everything = [v for r in rows for v in (r.low, r.high, *(r.prediction or ()))]
    low = min([0.5, *everything])
    high = max([4.0, *everything])
    domain = [2 ** math.floor(math.log2(low)), 2 ** math.ceil(math.log2(high))]
    ticks = [2.0**k for k in range(round(math.log2(domain[0])), round(math.log2(domain[1])) + 1)]
    x_scale = alt.Scale(type="log", domain=domain)
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))
    x_axis = alt.Axis(values=ticks, format="~g", title=x_title, grid=False)
    kinds = ["study", "pooled", "published"]
    shape = alt.Shape(
        "kind:N",
        scale=alt.Scale(domain=kinds, range=["square", "diamond", "triangle-up"]),
        legend=None,
    )
    size = alt.Size("kind:N", scale=alt.Scale(domain=kinds, range=[90, 260, 120]), legend=None)
    base = _chart(values)
    layers: list[alt.Chart] = [
        _chart([{"x": 1.0}])
        .mark_rule(color=GREY, strokeDash=[4, 3])
        .encode(x=alt.X("x:Q", scale=x_scale, axis=x_axis)),
        base.mark_rule(color=INK, strokeWidth=2).encode(
            x=alt.X("low:Q", scale=x_scale, axis=x_axis), x2="high:Q", y=y
        ),
        base.mark_point(filled=True, color=INK, opacity=1).encode(
            x=alt.X("estimate:Q", scale=x_scale, axis=x_axis), y=y, shape=shape, size=size
        ),
    ]
    prediction = [
        {"label": r.label, "low": r.prediction[0], "high": r.prediction[1]}
        for r in rows
        if r.prediction is not None
    ]
    if prediction:
        layers.append(
            _chart(prediction)
            .mark_rule(color=INK, strokeDash=[6, 3], strokeWidth=1.5, yOffset=9)
            .encode(x=alt.X("low:Q", scale=x_scale, axis=x_axis), x2="high:Q", y=y)
        )
    height = 34 * len(rows)
    plot = alt.layer(*layers).properties(width=360, height=height)
    numbers = (
        base.mark_text(align="left", fontSize=13, color=INK)
        .encode(y=alt.Y("label:N", sort=order, axis=None), x=alt.value(4), text="text:N")
        .properties(width=190, height=height, title="Ratio (95% CI)", view={"stroke": None})
    )
    chart = alt.hconcat(plot, numbers, spacing=8).properties(title=title)
    return render_svg(chart)


def forest_plot_alt(rows: Sequence[ForestRow], *, what: str) -> str:
    parts = [f"Forest plot of {what}."]
    for r in rows:
        line = f"{r.label}: {_ratio(r.estimate)} (95% CI {_ratio(r.low)} to {_ratio(r.high)})"
        if r.prediction is not None:
            line += f", prediction interval {_ratio(r.prediction[0])} to {_ratio(r.prediction[1])}"
        parts.append(line + ".")
    parts.append("A value above 1 means more people stopped on duloxetine than on placebo.")
    return " ".join(parts)
