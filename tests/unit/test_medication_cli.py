"""The taper, interactions and medicines sub-commands."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from painpath.medication.cli import interactions_app, medicines_app, taper_app

app = typer.Typer()
app.add_typer(taper_app, name="taper")
app.add_typer(interactions_app, name="interactions")
app.add_typer(medicines_app, name="medicines")
runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_taper_plan() -> None:
    code, out, _ = _run(
        "taper",
        "plan",
        "--medicine",
        "Cymbalta",
        "--dose-mg",
        "60",
        "--weeks",
        "2",
        "--start",
        "2025-03-03",
    )
    assert code == 0
    data = json.loads(out)
    assert [s["daily_dose_mg"] for s in data["steps"]] == [30, 20, 0]
    assert data["steps"][0] == {
        "start": "2025-03-03",
        "end": "2025-03-09",
        "daily_dose_mg": 30,
        "instructions": data["steps"][0]["instructions"],
    }
    assert "one 30 mg capsule once a day" in data["steps"][0]["instructions"]
    assert data["steps"][-1]["instructions"].startswith("Stop taking duloxetine")
    assert data["warnings"] == []


def test_taper_plan_short_request_warns() -> None:
    code, out, _ = _run(
        "taper",
        "plan",
        "--medicine",
        "duloxetine",
        "--dose-mg",
        "60",
        "--weeks",
        "1",
        "--start",
        "2025-03-03",
    )
    assert code == 0
    assert [w["code"] for w in json.loads(out)["warnings"]] == ["shorter-than-minimum"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (
            [
                "--medicine",
                "duloxetine",
                "--dose-mg",
                "45",
                "--weeks",
                "2",
                "--start",
                "2025-03-03",
            ],
            "dose_mg",
        ),
        (
            [
                "--medicine",
                "duloxetine",
                "--dose-mg",
                "sixty",
                "--weeks",
                "2",
                "--start",
                "2025-03-03",
            ],
            "dose_mg",
        ),
        (
            [
                "--medicine",
                "duloxetine",
                "--dose-mg",
                "60",
                "--weeks",
                "0",
                "--start",
                "2025-03-03",
            ],
            "weeks",
        ),
        (
            [
                "--medicine",
                "duloxetine",
                "--dose-mg",
                "60",
                "--weeks",
                "two",
                "--start",
                "2025-03-03",
            ],
            "weeks",
        ),
        (
            [
                "--medicine",
                "duloxetine",
                "--dose-mg",
                "60",
                "--weeks",
                "2",
                "--start",
                "03/03/2025",
            ],
            "start",
        ),
        (
            [
                "--medicine",
                "pregabalin",
                "--dose-mg",
                "60",
                "--weeks",
                "2",
                "--start",
                "2025-03-03",
            ],
            "medicine",
        ),
        (
            ["--medicine", "nope", "--dose-mg", "60", "--weeks", "2", "--start", "2025-03-03"],
            "medicine",
        ),
    ],
)
def test_taper_bad_input_exits_2_naming_the_field(args: list[str], field: str) -> None:
    code, out, err = _run("taper", "plan", *args)
    assert code == 2
    assert out == ""
    assert err.startswith(f"error: {field}: ")


def test_taper_missing_option_exits_2() -> None:
    code, _, err = _run("taper", "plan", "--medicine", "duloxetine")
    assert code == 2 and "--dose-mg" in err


def test_interactions_check() -> None:
    code, out, _ = _run(
        "interactions", "check", "duloxetine", "fluvoxamine", "tramadol", "notadrug"
    )
    assert code == 0
    data = json.loads(out)
    assert data["interactions"][0]["severity"] == "contraindicated"
    assert data["interactions"][0]["drugs"] == ["duloxetine", "fluvoxamine"]
    assert all(
        set(i) >= {"drugs", "severity", "effect", "action", "source"} for i in data["interactions"]
    )
    assert data["unknown"] == ["notadrug"]


def test_interactions_check_needs_a_drug() -> None:
    code, _, _ = _run("interactions", "check")
    assert code == 2


def test_medicines_list() -> None:
    code, out, _ = _run("medicines", "list")
    assert code == 0
    data = {m["name"]: m for m in json.loads(out)}
    assert set(data) == {"duloxetine", "amitriptyline", "pregabalin", "gabapentin"}
    assert data["duloxetine"]["strengths_mg"] == [20, 30, 40, 60]
    assert data["duloxetine"]["brand_names"] == ["Cymbalta", "Yentreve"]
    assert data["pregabalin"]["status"] == "not_compiled"


def test_medicines_show_has_sources() -> None:
    code, out, _ = _run("medicines", "show", "yentreve")
    assert code == 0
    data = json.loads(out)
    assert data["name"] == "duloxetine"
    assert data["max_daily_dose"]["daily_mg"] == 120
    assert all(c["source"] for c in data["contraindications"])
    assert all(i["source"] for i in data["interactions"])


def test_medicines_show_unknown_exits_2() -> None:
    code, out, err = _run("medicines", "show", "nothing")
    assert code == 2 and out == "" and err.startswith("error: medicine: unknown medicine")
