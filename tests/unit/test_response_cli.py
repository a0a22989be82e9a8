"""``painpath response analyze`` through Typer's CliRunner."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from painpath.response.cli import response_app

runner = CliRunner()
START = date(2025, 3, 3)


def write_diary(path: Path, rows: list[tuple[str, str]], header: str = "date,pain") -> Path:
    path.write_text("\n".join([header] + [f"{d},{p}" for d, p in rows]) + "\n", encoding="utf-8")
    return path


def good_rows() -> list[tuple[str, str]]:
    rows = [((START - timedelta(days=d)).isoformat(), "7") for d in range(1, 15)]
    rows += [((START + timedelta(days=d)).isoformat(), "4") for d in range(70, 84)]
    return rows


def test_analyze_prints_the_contract_fields(tmp_path: Path) -> None:
    diary = write_diary(tmp_path / "diary.csv", good_rows())
    result = runner.invoke(
        response_app,
        ["analyze", "--diary", str(diary), "--start", START.isoformat(), "--today", "2025-06-30"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["baseline_mean"] == 7.0
    assert payload["treatment_mean"] == 4.0
    assert payload["change"] == -3.0
    assert payload["percent_change"] == pytest.approx(-42.9)
    assert payload["category"] == "moderate"
    assert 0.5 < payload["probability_moderate_or_better"] <= 1.0
    assert any(c["code"] == "placebo" for c in payload["caveats"])
    assert payload["windows"]["treatment"]["from"] == "2025-05-12"


def test_analyze_with_an_assessment_window(tmp_path: Path) -> None:
    diary = write_diary(tmp_path / "diary.csv", good_rows())
    result = runner.invoke(
        response_app,
        [
            "analyze",
            "--diary",
            str(diary),
            "--start",
            START.isoformat(),
            "--assess-from",
            "2025-05-20",
            "--assess-to",
            "2025-05-25",
            "--today",
            "2025-06-30",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["windows"]["treatment"] == {
        "from": "2025-05-20",
        "to": "2025-05-25",
        "days": 6,
        "diary_days": 6,
    }


def test_insufficient_data_is_a_result_not_an_error(tmp_path: Path) -> None:
    diary = write_diary(tmp_path / "diary.csv", good_rows()[12:])  # 2 baseline days
    result = runner.invoke(
        response_app,
        ["analyze", "--diary", str(diary), "--start", START.isoformat(), "--today", "2025-06-30"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["category"] == "insufficient-data"
    assert payload["probability_moderate_or_better"] is None
    assert "only 2 of the 4 diary days" in payload["caveats"][0]["message"]


@pytest.mark.parametrize(
    ("rows", "header", "expected"),
    [
        ([("2025-02-20", "7"), ("2025-02-21", "seven")], "date,pain", "line 3, column pain"),
        ([("2025-02-20", "7"), ("2025-02-21", "11")], "date,pain", "line 3, column pain"),
        ([("2025-02-20", "7"), ("20/02/2025", "7")], "date,pain", "line 3, column date"),
        ([("2025-02-20", "7"), ("2025-02-20", "6")], "date,pain", "already on line 2"),
        ([("2025-02-20", "7")], "day,pain", "line 1: missing column(s) date"),
    ],
)
def test_bad_csv_rows_exit_2_naming_line_and_column(
    tmp_path: Path, rows: list[tuple[str, str]], header: str, expected: str
) -> None:
    diary = write_diary(tmp_path / "diary.csv", rows, header=header)
    result = runner.invoke(
        response_app,
        ["analyze", "--diary", str(diary), "--start", START.isoformat(), "--today", "2025-06-30"],
    )
    assert result.exit_code == 2
    assert expected in result.stderr
    assert result.stdout == ""


def test_a_row_with_a_missing_value_names_the_column(tmp_path: Path) -> None:
    diary = tmp_path / "diary.csv"
    diary.write_text("date,pain\n2025-02-20,7\n2025-02-21\n", encoding="utf-8")
    result = runner.invoke(
        response_app, ["analyze", "--diary", str(diary), "--start", "2025-03-03"]
    )
    assert result.exit_code == 2
    assert "line 3, column pain: the value is missing" in result.stderr


def test_blank_lines_and_a_byte_order_mark_are_accepted(tmp_path: Path) -> None:
    diary = tmp_path / "diary.csv"
    body = "\n".join(f"{d},{p}" for d, p in good_rows())
    diary.write_text("\ufeffdate,pain\n\n" + body + "\n\n", encoding="utf-8")
    result = runner.invoke(
        response_app,
        ["analyze", "--diary", str(diary), "--start", START.isoformat(), "--today", "2025-06-30"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["baseline_days"] == 14


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--start", "03/03/2025"], "--start: '03/03/2025' is not a date"),
        (["--start", "2025-03-03", "--assess-from", "2025-05-01"], "give both --assess-from"),
        (
            ["--start", "2025-03-03", "--assess-from", "2025-05-10", "--assess-to", "2025-05-01"],
            "after it ends",
        ),
        (["--start", "2025-03-03", "--today", "2025-02-21"], "dated after today"),
    ],
)
def test_bad_options_exit_2_with_a_message(tmp_path: Path, extra: list[str], expected: str) -> None:
    diary = write_diary(tmp_path / "diary.csv", good_rows())
    args = ["analyze", "--diary", str(diary), *extra]
    if "--today" not in extra:
        args += ["--today", "2025-06-30"]
    result = runner.invoke(response_app, args)
    assert result.exit_code == 2
    assert expected in result.stderr


def test_a_missing_diary_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(
        response_app, ["analyze", "--diary", str(tmp_path / "nope.csv"), "--start", "2025-03-03"]
    )
    assert result.exit_code == 2
    assert "cannot read the file" in result.stderr


def test_the_sub_command_name_is_kept() -> None:
    result = runner.invoke(response_app, ["--help"])
    assert result.exit_code == 0
    assert "analyze" in result.stdout
