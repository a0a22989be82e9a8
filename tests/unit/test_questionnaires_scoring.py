"""Questionnaire definitions, scoring rules, flags and advice (pure domain)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from painpath.kit.errors import InvalidInput
from painpath.questionnaires.domain import (
    FLAG_ADVICE,
    Instrument,
    InstrumentDefinitionError,
    Score,
    advice_for,
    get_instrument,
    load_instruments,
    load_instruments_from,
    parse_instrument,
    score,
)

CODES = ["gad7", "nrs", "peg", "pgic", "phq9", "redflags", "rmdq", "sleep", "startback"]


def fill(total: int, n_items: int, per_item_max: int) -> list[int]:
    """Answers that add up to ``total``, filling from item 1."""
    answers = []
    left = total
    for _ in range(n_items):
        take = min(per_item_max, left)
        answers.append(take)
        left -= take
    assert left == 0
    return answers


def problems_of(error: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return {p.field: p.message for p in error.value.problems}


# --------------------------------------------------------------------- definitions


def test_all_instruments_load_with_source_licence_and_version() -> None:
    instruments = load_instruments()
    assert sorted(instruments) == CODES
    for code, instrument in instruments.items():
        assert instrument.code == code
        assert instrument.version == "1.0.0"
        assert instrument.source.citation
        assert instrument.source.status in {"V", "P", "U", "design"}
        assert instrument.licence.note
        assert instrument.scoring.description


@pytest.mark.parametrize(
    ("code", "n_items", "low", "high"),
    [
        ("nrs", 3, 0, 10),
        ("peg", 3, 0, 10),
        ("rmdq", 24, 0, 24),
        ("phq9", 9, 0, 27),
        ("gad7", 7, 0, 21),
        ("pgic", 1, 0, 6),
        ("startback", 9, 0, 9),
        ("sleep", 1, 0, 10),
        ("redflags", 20, 0, 20),
    ],
)
def test_item_counts_and_ranges(code: str, n_items: int, low: int, high: int) -> None:
    instrument = get_instrument(code)
    assert len(instrument.items) == n_items
    assert (instrument.scoring.minimum, instrument.scoring.maximum) == (low, high)
    assert [item.number for item in instrument.items] == list(range(1, n_items + 1))


def test_restricted_wording_is_not_reproduced() -> None:
    for code in ("rmdq", "startback"):
        for item in get_instrument(code).items:
            assert item.wording_restricted
            assert item.text is None
            assert item.label
    assert get_instrument("rmdq").licence.status == "U"
    assert get_instrument("startback").licence.status == "U"


def test_phq9_item9_wording_and_loinc_codes() -> None:
    phq9 = get_instrument("phq9")
    item9 = phq9.items[8]
    assert item9.text == (
        "Thoughts that you would be better off dead, or of hurting yourself in some way"
    )
    assert item9.loinc is not None and item9.loinc.code == "44260-8"
    assert {c.code: c.status for c in phq9.loinc} == {"44249-1": "V", "44261-6": "V"}


def test_loinc_codes_carry_their_verification_labels() -> None:
    assert {c.code: c.status for c in get_instrument("peg").loinc} == {
        "91148-7": "P",
        "91147-9": "P",
    }
    assert {c.code: c.status for c in get_instrument("gad7").loinc} == {
        "69737-5": "P",
        "70274-6": "V",
    }
    nrs = {c.code: c.status for c in get_instrument("nrs").loinc}
    assert nrs == {"72514-3": "P", "38208-5": "V"}
    startback = get_instrument("startback")
    assert {c.code for c in startback.loinc} == {"91349-1", "91351-7", "91352-5"}
    assert startback.scoring.subscales[0].loinc is not None
    assert startback.scoring.subscales[0].loinc.code == "91350-9"
    assert [b.loinc_answer for b in startback.scoring.bands] == [
        "LA9194-7",
        "LA9193-9",
        "LA8982-6",
    ]
    for code in ("rmdq", "pgic", "sleep", "redflags"):
        assert get_instrument(code).loinc == ()


def test_rmdq_minimal_important_change_is_ostelo_5_points_or_30_percent() -> None:
    (change,) = get_instrument("rmdq").scoring.important_change
    assert (change.points, change.percent, change.status) == (5, 30, "V")
    assert "Ostelo" in change.source


def test_definition_is_the_data_file() -> None:
    definition = get_instrument("phq9").definition()
    assert definition["code"] == "phq9"
    definition["code"] = "changed"
    assert get_instrument("phq9").definition()["code"] == "phq9"


# --------------------------------------------------------------------- NRS, PEG, sleep


def test_nrs_total_is_the_average_pain_rating_with_each_rating_as_subscale() -> None:
    result = score("nrs", [4, 7, 3])
    assert result == Score("nrs", 4, None, {"average": 4, "worst": 7, "now": 3}, [])


@pytest.mark.parametrize(
    ("answers", "total"),
    [
        ([0, 0, 0], 0.0),
        ([10, 10, 10], 10.0),
        ([7, 6, 6], 6.3),  # 19/3 = 6.33
        ([7, 7, 6], 6.7),  # 20/3 = 6.67
        ([5, 6, 7], 6.0),
        ([1, 0, 0], 0.3),
        ([9, 10, 10], 9.7),
    ],
)
def test_peg_is_the_mean_of_three_items_to_one_decimal(answers: list[int], total: float) -> None:
    result = score("peg", answers)
    assert result.total == total
    assert isinstance(result.total, float)
    assert result.band is None and result.flags == []


@pytest.mark.parametrize("value", range(11))
def test_sleep_interference_total_is_the_rating(value: int) -> None:
    assert score("sleep", [value]) == Score("sleep", value, None, {}, [])


# --------------------------------------------------------------------- RMDQ


@pytest.mark.parametrize("ticked", [0, 1, 5, 12, 23, 24])
def test_rmdq_total_is_the_number_of_statements_ticked(ticked: int) -> None:
    answers = [1] * ticked + [0] * (24 - ticked)
    result = score("rmdq", answers)
    assert result.total == ticked
    assert result.band is None


def test_rmdq_counts_ticks_wherever_they_are() -> None:
    answers = [0] * 24
    for index in (1, 8, 15, 23):
        answers[index] = 1
    assert score("rmdq", answers).total == 4


# --------------------------------------------------------------------- PHQ-9


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "none-minimal"),
        (4, "none-minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately-severe"),
        (19, "moderately-severe"),
        (20, "severe"),
        (24, "severe"),
    ],
)
def test_phq9_band_edges(total: int, band: str) -> None:
    answers = [*fill(total, 8, 3), 0]
    result = score("phq9", answers)
    assert (result.total, result.band, result.flags) == (total, band, [])


def test_phq9_maximum_is_severe_and_flags_self_harm() -> None:
    result = score("phq9", [3] * 9)
    assert (result.total, result.band, result.flags) == (27, "severe", ["self-harm"])


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_any_item9_answer_above_zero_flags_self_harm(item9: int) -> None:
    result = score("phq9", [0] * 8 + [item9])
    assert result.flags == ["self-harm"]
    assert result.total == item9
    assert result.band == "none-minimal"  # a low total never hides the flag


def test_phq9_high_total_without_item9_raises_no_flag() -> None:
    assert score("phq9", [3] * 8 + [0]).flags == []


def test_phq9_worked_example() -> None:
    # 1+2+1+2+0+1+1+0+0 = 8 → mild
    assert score("phq9", [1, 2, 1, 2, 0, 1, 1, 0, 0]) == Score("phq9", 8, "mild", {}, [])


# --------------------------------------------------------------------- GAD-7


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_band_edges(total: int, band: str) -> None:
    result = score("gad7", fill(total, 7, 3))
    assert (result.total, result.band, result.flags) == (total, band, [])


# --------------------------------------------------------------------- PGIC


@pytest.mark.parametrize(
    ("index", "band", "responder"),
    [
        (0, "very-much-improved", 1),
        (1, "much-improved", 1),
        (2, "minimally-improved", 0),
        (3, "no-change", 0),
        (4, "minimally-worse", 0),
        (5, "much-worse", 0),
        (6, "very-much-worse", 0),
    ],
)
def test_pgic_band_is_the_chosen_option_and_responder_is_much_or_very_much(
    index: int, band: str, responder: int
) -> None:
    result = score("pgic", [index])
    assert result == Score("pgic", index, band, {"responder": responder}, [])
    labels = dict(get_instrument("pgic").items[0].options.options)
    matching = next(b for b in get_instrument("pgic").scoring.bands if b.code == band)
    assert matching.label == labels[index]


# --------------------------------------------------------------------- STarT Back


def startback(items_1_4: int, items_5_8: int, item9: int) -> list[int]:
    """Agree with the first ``items_1_4`` of items 1-4 and ``items_5_8`` of 5-8."""
    first = [1] * items_1_4 + [0] * (4 - items_1_4)
    second = [1] * items_5_8 + [0] * (4 - items_5_8)
    return first + second + [item9]


@pytest.mark.parametrize(
    ("answers", "total", "psychosocial", "band"),
    [
        (startback(0, 0, 0), 0, 0, "low"),
        (startback(3, 0, 0), 3, 0, "low"),
        (startback(0, 3, 0), 3, 3, "low"),  # total ≤ 3 is low even with distress 3
        (startback(0, 2, 4), 3, 3, "low"),
        (startback(4, 0, 0), 4, 0, "medium"),
        (startback(1, 3, 0), 4, 3, "medium"),
        (startback(4, 3, 2), 7, 3, "medium"),  # 'moderately' does not score
        (startback(0, 4, 0), 4, 4, "high"),
        (startback(0, 3, 3), 4, 4, "high"),  # 'very much' scores 1
        (startback(0, 3, 4), 4, 4, "high"),  # 'extremely' scores 1
        (startback(4, 4, 4), 9, 5, "high"),
    ],
)
def test_startback_scoring_rules(
    answers: list[int], total: int, psychosocial: int, band: str
) -> None:
    result = score("startback", answers)
    assert result == Score("startback", total, band, {"psychosocial": psychosocial}, [])


@pytest.mark.parametrize(("item9", "points"), [(0, 0), (1, 0), (2, 0), (3, 1), (4, 1)])
def test_startback_item9_scores_one_only_for_very_much_or_extremely(
    item9: int, points: int
) -> None:
    assert score("startback", startback(0, 0, item9)).total == points
    item = get_instrument("startback").items[8]
    assert item.options.label(item9) in {
        "Not at all",
        "Slightly",
        "Moderately",
        "Very much",
        "Extremely",
    }


# --------------------------------------------------------------------- red flags

CES_ITEMS = range(1, 7)
OTHER_ITEMS = range(7, 21)


def redflags_yes(*numbers: int) -> list[int]:
    answers = [0] * 20
    for number in numbers:
        answers[number - 1] = 1
    return answers


def test_no_red_flags() -> None:
    result = score("redflags", [0] * 20)
    assert (result.total, result.band, result.flags) == (0, "none", [])
    assert advice_for(result) == []


@pytest.mark.parametrize("number", CES_ITEMS)
def test_each_cauda_equina_item_is_an_emergency(number: int) -> None:
    result = score("redflags", redflags_yes(number))
    assert result.band == "emergency"
    assert result.flags == ["red-flag", "cauda-equina"]
    assert result.subscales["cauda-equina"] == 1


@pytest.mark.parametrize("number", OTHER_ITEMS)
def test_each_other_red_flag_is_urgent(number: int) -> None:
    result = score("redflags", redflags_yes(number))
    assert result.band == "urgent"
    assert result.flags == ["red-flag"]
    assert result.subscales["cauda-equina"] == 0


def test_cauda_equina_outranks_other_red_flags() -> None:
    result = score("redflags", redflags_yes(3, 8, 13, 19))
    assert result.total == 4
    assert result.band == "emergency"
    assert result.subscales == {"cauda-equina": 1, "cancer": 1, "infection": 1, "fracture": 1}


def test_cauda_equina_items_cover_the_reference_list() -> None:
    labels = " ".join(item.label.lower() for item in get_instrument("redflags").items[:6])
    for words in ("both legs", "urine", "bowel", "saddle", "sexual", "14 days"):
        assert words in labels


def test_structural_deformity_counts_for_cancer_and_fracture() -> None:
    result = score("redflags", redflags_yes(12))
    assert result.subscales == {"cauda-equina": 0, "cancer": 1, "infection": 0, "fracture": 1}


# --------------------------------------------------------------------- advice


def test_self_harm_advice_signposts_crisis_help_with_sources() -> None:
    (advice,) = advice_for(score("phq9", [0] * 8 + [1]))
    assert advice.flag == "self-harm"
    assert advice.urgency == "crisis"
    for words in ("999", "A&E", "NHS 111", "Samaritans", "116 123", "immediate danger"):
        assert words in advice.text
    assert "option 2" not in advice.text
    assert "press 2" not in advice.text
    assert any("§1.7" in source for source in advice.sources)
    assert any("PHQ-9 item 9" in source for source in advice.sources)


def test_cauda_equina_advice_is_an_emergency_instruction() -> None:
    (advice,) = advice_for(score("redflags", redflags_yes(5)))
    assert advice.flag == "cauda-equina"
    assert advice.urgency == "emergency"
    for words in ("A&E now", "999", "possible cauda equina syndrome", "side effect"):
        assert words in advice.text
    assert any("§2.5" in source for source in advice.sources)


def test_other_red_flag_advice_sends_to_the_gp_or_111() -> None:
    (advice,) = advice_for(score("redflags", redflags_yes(9)))
    assert advice.flag == "red-flag"
    assert advice.urgency == "urgent"
    assert "GP" in advice.text and "NHS 111" in advice.text
    assert any("§2.5" in source for source in advice.sources)


def test_no_advice_without_flags() -> None:
    assert advice_for(score("gad7", [3] * 7)) == []


def test_every_flag_an_instrument_can_raise_has_advice() -> None:
    for instrument in load_instruments().values():
        for rule in instrument.scoring.flags:
            assert rule.code in FLAG_ADVICE
            assert FLAG_ADVICE[rule.code].sources


def test_advice_and_score_serialise_to_json() -> None:
    result = score("phq9", [0] * 8 + [2])
    assert result.to_dict() == {
        "instrument": "phq9",
        "total": 2,
        "band": "none-minimal",
        "subscales": {},
        "flags": ["self-harm"],
    }
    assert json.loads(json.dumps([a.to_dict() for a in advice_for(result)]))[0]["flag"] == (
        "self-harm"
    )


# --------------------------------------------------------------------- invalid answers


def test_unknown_instrument() -> None:
    with pytest.raises(InvalidInput) as error:
        score("odi", [1])
    assert problems_of(error) == {
        "instrument": (
            "unknown instrument 'odi'; known instruments: gad7, nrs, peg, pgic, phq9, "
            "redflags, rmdq, sleep, startback"
        )
    }


def test_too_few_answers_names_the_first_missing_item() -> None:
    with pytest.raises(InvalidInput) as error:
        score("phq9", [0] * 8)
    message = problems_of(error)["answers"]
    assert "needs 9 answers" in message and "8 were given" in message
    assert "item 9 (Thoughts that you would be better off dead" in message


def test_too_many_answers() -> None:
    with pytest.raises(InvalidInput) as error:
        score("peg", [1, 2, 3, 4])
    assert "4 were given (there are only 3 items)" in problems_of(error)["answers"]


def test_out_of_range_answer_names_item_and_allowed_values() -> None:
    with pytest.raises(InvalidInput) as error:
        score("phq9", [0, 0, 4, 0, 0, 0, 0, 0, 0])
    assert problems_of(error) == {
        "answers[2]": (
            "item 3 (Trouble falling or staying asleep, or sleeping too much): 4 is not an "
            "allowed answer; allowed values: 0 (Not at all), 1 (Several days), "
            "2 (More than half the days), 3 (Nearly every day)"
        )
    }


def test_scale_allowed_values_are_described_by_their_anchors() -> None:
    with pytest.raises(InvalidInput) as error:
        score("nrs", [3, 11, 2])
    assert problems_of(error) == {
        "answers[1]": (
            "item 2 (Worst pain in the last 24 hours): 11 is not an allowed answer; "
            "allowed values: a whole number from 0 (No pain) to 10 (Worst pain imaginable)"
        )
    }


@pytest.mark.parametrize("bad", [1.0, 1.5, "1", True, False, [1]])
def test_non_integer_answers_are_rejected(bad: object) -> None:
    with pytest.raises(InvalidInput) as error:
        score("startback", [0, 0, 0, 0, 0, 0, 0, 0, bad])
    message = problems_of(error)["answers[8]"]
    assert "item 9 (Overall, how bothersome back pain has been)" in message
    assert "is not a whole number" in message
    assert "4 (Extremely)" in message


def test_missing_answer_is_named() -> None:
    with pytest.raises(InvalidInput) as error:
        score("gad7", [0, None, 0, 0, 0, 0, 0])
    assert problems_of(error)["answers[1]"].startswith(
        "item 2 (Not being able to stop or control worrying) has no answer; allowed values:"
    )


def test_a_string_is_not_a_list_of_answers() -> None:
    with pytest.raises(InvalidInput) as error:
        score("sleep", "5")
    assert problems_of(error) == {
        "answers": "expected a list of 1 whole numbers, one per item in item order"
    }


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as error:
        score("redflags", [2, None, "yes"])
    assert set(problems_of(error)) == {"answers", "answers[0]", "answers[1]", "answers[2]"}
    assert "0 (No), 1 (Yes)" in problems_of(error)["answers[0]"]


# --------------------------------------------------------------------- malformed definitions


def raw(code: str) -> dict[str, Any]:
    return copy.deepcopy(get_instrument(code).definition())


def definition_error(data: object, file: str = "broken.json") -> InstrumentDefinitionError:
    with pytest.raises(InstrumentDefinitionError) as error:
        parse_instrument(data, file)
    return error.value


def test_packaged_definitions_round_trip() -> None:
    for code in CODES:
        assert parse_instrument(raw(code), f"{code}.json") == get_instrument(code)


def test_missing_field_is_named_with_the_file() -> None:
    data = raw("phq9")
    del data["items"][8]["label"]
    error = definition_error(data, "phq9.json")
    assert str(error) == "phq9.json: items[8].label: missing"


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (lambda d: d.update(version=3), "version", "expected a non-empty string"),
        (lambda d: d.update(extra=1), "extra", "unknown field"),
        (lambda d: d["source"].update(status="X"), "source.status", "expected one of"),
        (
            lambda d: d["option_sets"]["frequency"]["choices"][1].update(value="1"),
            "option_sets.frequency.choices[1].value",
            "expected a whole number",
        ),
        (lambda d: d["items"][0].update(options="nope"), "items[0].options", "no option set"),
        (lambda d: d["scoring"]["range"].update(max=30), "scoring.range", "declared [0, 30]"),
        (
            lambda d: d["scoring"]["bands"][1]["when"].update(min=6),
            "scoring.bands",
            "total 5 must fall in exactly one band (found: none)",
        ),
        (
            lambda d: d["scoring"]["flags"][0].update(code="sad"),
            "scoring.flags[0].code",
            "no advice is defined for flag 'sad'",
        ),
        (
            lambda d: d["scoring"]["flags"][0]["when"].update(items=[10]),
            "scoring.flags[0].when.items[0]",
            "expected an item number from 1 to 9",
        ),
        (
            lambda d: d["items"][0].update(wording_restricted=True),
            "items[0].text",
            "must be null when wording_restricted is true",
        ),
        (lambda d: d["scoring"].update(method="median"), "scoring.method", "expected one of"),
        (lambda d: d.update(items=[]), "items", "expected at least one item"),
    ],
)
def test_malformed_definitions_name_the_field(change: Any, field: str, reason: str) -> None:
    data = raw("phq9")
    change(data)
    error = definition_error(data, "phq9.json")
    assert error.file == "phq9.json"
    assert error.field == field
    assert reason in error.reason


def test_startback_item9_scores_must_cover_every_answer() -> None:
    data = raw("startback")
    del data["items"][8]["scores"]["2"]
    error = definition_error(data)
    assert (error.field, error.reason) == (
        "items[8].scores",
        "must give a score for every answer value",
    )


def test_only_the_last_band_may_be_unconditional() -> None:
    data = raw("startback")
    del data["scoring"]["bands"][0]["when"]
    assert definition_error(data).field == "scoring.bands[0].when"


def test_band_condition_must_name_a_known_subscale() -> None:
    data = raw("startback")
    data["scoring"]["bands"][1]["when"]["subscale"] = "distress"
    error = definition_error(data)
    assert (error.field, error.reason) == (
        "scoring.bands[1].when.subscale",
        "no subscale named 'distress'",
    )


def test_loading_a_folder_names_the_bad_file(tmp_path: Path) -> None:
    (tmp_path / "good.json").write_text("{", encoding="utf-8")
    with pytest.raises(InstrumentDefinitionError) as error:
        load_instruments_from(tmp_path)
    assert error.value.file == "good.json"
    assert "not valid JSON" in str(error.value)


def test_file_name_must_match_the_code(tmp_path: Path) -> None:
    (tmp_path / "other.json").write_text(json.dumps(raw("gad7")), encoding="utf-8")
    with pytest.raises(InstrumentDefinitionError) as error:
        load_instruments_from(tmp_path)
    assert (error.value.file, error.value.field) == ("other.json", "code")


def test_a_folder_of_valid_files_loads(tmp_path: Path) -> None:
    (tmp_path / "gad7.json").write_text(json.dumps(raw("gad7")), encoding="utf-8")
    (tmp_path / "readme.txt").write_text("not an instrument", encoding="utf-8")
    assert list(load_instruments_from(tmp_path)) == ["gad7"]


# --------------------------------------------------------------------- properties


@st.composite
def valid_answers(draw: st.DrawFn) -> tuple[Instrument, list[int]]:
    instrument = get_instrument(draw(st.sampled_from(CODES)))
    answers = [draw(st.sampled_from(sorted(item.options.values))) for item in instrument.items]
    return instrument, answers


@settings(max_examples=400)
@given(valid_answers())
def test_valid_answers_always_score_within_range(case: tuple[Instrument, list[int]]) -> None:
    instrument, answers = case
    result = score(instrument.code, answers)
    assert instrument.scoring.minimum <= result.total <= instrument.scoring.maximum
    band_codes = {band.code for band in instrument.scoring.bands}
    assert (result.band in band_codes) if band_codes else result.band is None
    assert set(result.flags) <= {rule.code for rule in instrument.scoring.flags}
    assert set(result.subscales) == {s.code for s in instrument.scoring.subscales}
    for advice in advice_for(result):
        assert advice.flag in result.flags and advice.sources
    assert json.loads(json.dumps(result.to_dict()))["instrument"] == instrument.code


@settings(max_examples=200)
@given(valid_answers(), st.data())
def test_wrong_number_of_answers_always_raises(
    case: tuple[Instrument, list[int]], data: st.DataObject
) -> None:
    instrument, answers = case
    n = len(answers)
    length = data.draw(st.integers(0, n + 5).filter(lambda k: k != n))
    changed = (answers * 30)[:length]
    with pytest.raises(InvalidInput) as error:
        score(instrument.code, changed)
    assert "answers" in problems_of(error)


@settings(max_examples=300)
@given(
    valid_answers(),
    st.data(),
    st.one_of(
        st.integers(-1000, 1000),
        st.floats(allow_nan=True),
        st.text(max_size=3),
        st.none(),
        st.booleans(),
    ),
)
def test_an_invalid_answer_always_raises_naming_its_item(
    case: tuple[Instrument, list[int]], data: st.DataObject, bad: object
) -> None:
    instrument, answers = case
    index = data.draw(st.integers(0, len(answers) - 1))
    item = instrument.items[index]
    if isinstance(bad, int) and not isinstance(bad, bool) and bad in item.options.values:
        bad = max(item.options.values) + 1 + abs(bad)
    answers[index] = bad  # type: ignore[call-overload]
    with pytest.raises(InvalidInput) as error:
        score(instrument.code, answers)
    message = problems_of(error)[f"answers[{index}]"]
    assert f"item {item.number} ({item.label})" in message
    assert "allowed values:" in message
