"""``painpath instruments`` sub-commands: JSON on stdout, errors on stderr with exit 2."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from painpath.questionnaires.cli import app, parse_answers

runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def ok_json(*args: str) -> Any:
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return json.loads(result.stdout)


def rejected(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    return result.stderr


def test_list_shows_every_instrument() -> None:
    listed = ok_json("list")
    assert [entry["code"] for entry in listed] == [
        "gad7",
        "nrs",
        "peg",
        "pgic",
        "phq9",
        "redflags",
        "rmdq",
        "sleep",
        "startback",
    ]
    phq9 = next(entry for entry in listed if entry["code"] == "phq9")
    assert set(phq9) == {"code", "name", "version", "items", "source"}
    assert phq9["items"] == 9
    assert phq9["version"] == "1.0.0"
    assert "Pfizer" in phq9["source"]


def test_show_gives_the_full_definition() -> None:
    shown = ok_json("show", "phq9")
    assert shown["code"] == "phq9"
    assert len(shown["items"]) == 9
    assert shown["items"][8]["loinc"]["code"] == "44260-8"
    assert shown["licence"]["status"] == "V"
    assert shown["scoring"]["flags"][0]["code"] == "self-harm"


def test_show_restricted_instrument_has_no_item_text() -> None:
    shown = ok_json("show", "rmdq")
    assert all(item["text"] is None and item["wording_restricted"] for item in shown["items"])


def test_show_unknown_code() -> None:
    message = rejected("show", "odi")
    assert "unknown instrument 'odi'" in message
    assert "phq9" in message


def test_score_prints_the_contract_fields() -> None:
    assert ok_json("score", "gad7", "--answers", "1,1,1,1,1,0,0") == {
        "instrument": "gad7",
        "total": 5,
        "band": "mild",
        "subscales": {},
        "flags": [],
    }


def test_score_peg_mean() -> None:
    assert ok_json("score", "peg", "--answers", "7, 6, 6")["total"] == 6.3


def test_score_startback_high_risk() -> None:
    assert ok_json("score", "startback", "--answers", "0,0,0,0,1,1,1,0,4") == {
        "instrument": "startback",
        "total": 4,
        "band": "high",
        "subscales": {"psychosocial": 4},
        "flags": [],
    }


def test_score_with_a_flag_adds_the_advice() -> None:
    printed = ok_json("score", "phq9", "--answers", "0,0,0,0,0,0,0,0,1")
    assert printed["flags"] == ["self-harm"]
    (advice,) = printed["advice"]
    assert advice["flag"] == "self-harm"
    assert "116 123" in advice["text"] and "999" in advice["text"]
    assert advice["sources"]


def test_score_cauda_equina_gives_emergency_advice() -> None:
    answers = ",".join(["0", "0", "1"] + ["0"] * 17)
    printed = ok_json("score", "redflags", "--answers", answers)
    assert printed["band"] == "emergency"
    assert printed["flags"] == ["red-flag", "cauda-equina"]
    assert [a["urgency"] for a in printed["advice"]] == ["emergency"]
    assert "possible cauda equina syndrome" in printed["advice"][0]["text"]


def test_no_advice_key_without_flags() -> None:
    assert "advice" not in ok_json("score", "redflags", "--answers", ",".join(["0"] * 20))


def test_score_unknown_code() -> None:
    assert "unknown instrument 'bpi'" in rejected("score", "bpi", "--answers", "1")


def test_score_out_of_range_names_the_item() -> None:
    message = rejected("score", "phq9", "--answers", "0,0,0,0,0,0,0,0,5")
    assert "answers[8]: item 9 (Thoughts that you would be better off dead" in message
    assert "5 is not an allowed answer" in message
    assert "3 (Nearly every day)" in message


def test_score_wrong_count() -> None:
    message = rejected("score", "peg", "--answers", "1,2")
    assert "needs 3 answers" in message and "2 were given" in message
    assert "item 3 (Pain interference with general activity)" in message


def test_score_non_integer_and_missing_answers() -> None:
    message = rejected("score", "sleep", "--answers", "x")
    assert "'x' is not a whole number" in message
    message = rejected("score", "nrs", "--answers", "1,,3")
    assert "answers[1]: item 2 (Worst pain in the last 24 hours) has no answer" in message
    message = rejected("score", "nrs", "--answers", "1,2.5,3")
    assert "'2.5' is not a whole number" in message


def test_score_negative_answer() -> None:
    assert "-1 is not an allowed answer" in rejected("score", "sleep", "--answers=-1")


def test_score_empty_answers() -> None:
    assert "0 were given" in rejected("score", "sleep", "--answers", "")


def test_score_without_answers_option_is_a_usage_error() -> None:
    result = run("score", "phq9")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--answers" in result.stderr


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("", []),
        ("  ", []),
        ("1,2,3", [1, 2, 3]),
        (" 1 , 2 ", [1, 2]),
        ("1,,3", [1, None, 3]),
        ("-1,+2", [-1, 2]),
        ("a,1.5", ["a", "1.5"]),
    ],
)
def test_parse_answers(text: str, parsed: list[object]) -> None:
    assert parse_answers(text) == parsed


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="0123456789,- x", max_size=40))
def test_score_never_crashes_on_any_answer_text(text: str) -> None:
    result = run("score", "phq9", f"--answers={text}")
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 0:
        assert json.loads(result.stdout)["instrument"] == "phq9"
    else:
        assert result.stdout == "" and result.stderr.startswith("error: ")
