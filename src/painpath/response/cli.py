"""``painpath response`` and ``painpath evidence``: "does it help?" and the evidence.

* ``response analyze --diary CSV --start DATE [--assess-from DATE --assess-to DATE]``
  reads a diary CSV with columns ``date,pain`` and prints the response analysis.
* ``evidence pool --input CSV --method REML|DL`` pools a ``study,yi,vi`` CSV.
* ``evidence show`` prints the evidence data with the pooled discontinuation ratio.

Bad input exits with status 2 and a message naming the line and column.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from painpath.kit.cliutil import emit, fail, fail_from
from painpath.kit.errors import ConfigurationError, InvalidInput
from painpath.response.domain.analysis import DiaryPoint, analyze_response
from painpath.response.domain.meta import parse_method, pool
from painpath.response.evidence import evidence_view

DEFAULT_TIME_ZONE = "Europe/London"

response_app = typer.Typer(help='"Does it help?": response analysis of a pain diary.')
evidence_app = typer.Typer(help="Evidence for duloxetine: trials, pooled results, meta-analysis.")


@response_app.callback()
def _response() -> None:
    """Response analysis of one treatment course."""


@evidence_app.callback()
def _evidence() -> None:
    """Evidence data and random-effects meta-analysis."""


def _parse_date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        fail(f"{what}: {value!r} is not a date (use YYYY-MM-DD)")


def _read_rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV with a header; each with its line number. Exits 2 on problems."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"{path}: cannot read the file ({error})")
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        fail(f"{path}: the file is empty; expected a header line {','.join(columns)}")
    except csv.Error as error:
        fail(f"{path} line 1: {error}")
    names = [h.strip().lower() for h in header]
    missing = [c for c in columns if c not in names]
    if missing:
        fail(
            f"{path} line 1: missing column(s) {', '.join(missing)}; "
            f"expected a header line {','.join(columns)}"
        )
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for record in reader:
            line = reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            if len(record) < len(names):
                absent = names[len(record)]
                fail(f"{path} line {line}, column {absent}: the value is missing")
            rows.append((line, {n: record[i].strip() for i, n in enumerate(names)}))
    except csv.Error as error:
        fail(f"{path} line {reader.line_num}: {error}")
    return rows


def _read_diary(path: Path) -> list[DiaryPoint]:
    points: list[DiaryPoint] = []
    seen: dict[date, int] = {}
    for line, row in _read_rows(path, ("date", "pain")):
        try:
            day = date.fromisoformat(row["date"])
        except ValueError:
            fail(f"{path} line {line}, column date: {row['date']!r} is not a date (YYYY-MM-DD)")
        try:
            pain = float(row["pain"])
        except ValueError:
            fail(f"{path} line {line}, column pain: {row['pain']!r} is not a number")
        if not math.isfinite(pain) or not 0 <= pain <= 10:
            fail(f"{path} line {line}, column pain: {row['pain']!r} is outside 0–10")
        if day in seen:
            fail(
                f"{path} line {line}, column date: {day.isoformat()} is already on line "
                f"{seen[day]} (one entry per date)"
            )
        seen[day] = line
        points.append(DiaryPoint(day, pain))
    return points


@response_app.command("analyze")
def analyze(
    diary: Annotated[Path, typer.Option("--diary", help="CSV with columns date,pain")],
    start: Annotated[str, typer.Option("--start", help="treatment start date, YYYY-MM-DD")],
    assess_from: Annotated[
        str | None, typer.Option("--assess-from", help="assessment window start (inclusive)")
    ] = None,
    assess_to: Annotated[
        str | None, typer.Option("--assess-to", help="assessment window end (inclusive)")
    ] = None,
    today: Annotated[
        str | None,
        typer.Option("--today", help=f"today's date (default: the date in {DEFAULT_TIME_ZONE})"),
    ] = None,
) -> None:
    """Baseline vs on-treatment pain, category, uncertainty and caveats, as JSON."""
    start_day = _parse_date(start, "--start")
    window_from = _parse_date(assess_from, "--assess-from") if assess_from else None
    window_to = _parse_date(assess_to, "--assess-to") if assess_to else None
    if (window_from is None) != (window_to is None):
        fail("give both --assess-from and --assess-to, or neither")
    today_day = (
        _parse_date(today, "--today") if today else datetime.now(ZoneInfo(DEFAULT_TIME_ZONE)).date()
    )
    points = _read_diary(diary)
    try:
        result = analyze_response(
            points,
            start=start_day,
            today=today_day,
            assess_from=window_from,
            assess_to=window_to,
        )
    except InvalidInput as error:
        fail_from(error)
    emit(result.to_json())


@evidence_app.command("pool")
def pool_command(
    input_csv: Annotated[Path, typer.Option("--input", help="CSV with columns study,yi,vi")],
    method: Annotated[str, typer.Option("--method", help="REML or DL")] = "REML",
) -> None:
    """Random-effects meta-analysis (as metafor's rma() with test="z") as JSON."""
    try:
        chosen = parse_method(method)
    except InvalidInput as error:
        fail_from(error)
    yi: list[float] = []
    vi: list[float] = []
    for line, row in _read_rows(input_csv, ("study", "yi", "vi")):
        for column in ("yi", "vi"):
            try:
                value = float(row[column])
            except ValueError:
                fail(f"{input_csv} line {line}, column {column}: {row[column]!r} is not a number")
            if not math.isfinite(value):
                fail(f"{input_csv} line {line}, column {column}: {row[column]!r} is not finite")
            if column == "vi" and value <= 0:
                fail(f"{input_csv} line {line}, column vi: {row[column]!r} must be above 0")
            (yi if column == "yi" else vi).append(value)
    try:
        result = pool(yi, vi, chosen)
    except InvalidInput as error:
        fail_from(error)
    emit(result.to_json())


@evidence_app.command("show")
def show(
    method: Annotated[
        str, typer.Option("--method", help="REML or DL for the pooled discontinuation")
    ] = "REML",
) -> None:
    """The evidence data: trials, pooled analyses, bottom line, and our pooling."""
    try:
        chosen = parse_method(method)
    except InvalidInput as error:
        fail_from(error)
    try:
        view = evidence_view(chosen)
    except ConfigurationError as error:
        fail(str(error), code=1)
    emit(view)
