"""Interaction checks for the named duloxetine pairs, aliases and unknown names."""

from __future__ import annotations

import pytest

from painpath.kit.errors import InvalidInput
from painpath.medication.domain.interactions import check_interactions


def _severities(*drugs: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for found in check_interactions(list(drugs)).interactions:
        other = found.drugs[1]
        out.setdefault(other, set()).add(found.severity)
    return out


@pytest.mark.parametrize(
    ("other", "severity"),
    [
        ("fluvoxamine", "contraindicated"),
        ("ciprofloxacin", "contraindicated"),
        ("enoxacin", "contraindicated"),
        ("phenelzine", "contraindicated"),
        ("tranylcypromine", "contraindicated"),
        ("isocarboxazid", "contraindicated"),
        ("linezolid", "contraindicated"),
        ("moclobemide", "serious"),
        ("sertraline", "serious"),
        ("citalopram", "serious"),
        ("escitalopram", "serious"),
        ("fluoxetine", "serious"),
        ("paroxetine", "serious"),
        ("venlafaxine", "serious"),
        ("amitriptyline", "serious"),
        ("clomipramine", "serious"),
        ("St John's wort", "serious"),
        ("sumatriptan", "serious"),
        ("tramadol", "serious"),
        ("pethidine", "serious"),
        ("tryptophan", "serious"),
        ("fentanyl", "serious"),
        ("lithium", "serious"),
        ("buspirone", "serious"),
        ("warfarin", "serious"),
        ("apixaban", "serious"),
        ("rivaroxaban", "serious"),
        ("edoxaban", "serious"),
        ("dabigatran", "serious"),
        ("ibuprofen", "moderate"),
        ("naproxen", "moderate"),
        ("aspirin", "moderate"),
        ("clopidogrel", "moderate"),
        ("alcohol", "moderate"),
        ("diazepam", "moderate"),
        ("morphine", "moderate"),
    ],
)
def test_named_duloxetine_pairs(other: str, severity: str) -> None:
    result = check_interactions(["duloxetine", other])
    assert result.unknown == ()
    severities = {i.severity for i in result.interactions}
    assert severity in severities
    assert result.interactions[0].severity == severity  # the worst comes first
    for found in result.interactions:
        assert found.drugs[0] == "duloxetine"
        assert found.source.strip() and found.effect.strip() and found.action.strip()


def test_serotonergic_combinations_are_a_caution_not_a_hard_stop() -> None:
    (found,) = [i for i in check_interactions(["duloxetine", "amitriptyline"]).interactions]
    assert found.severity == "serious"
    assert "not a hard stop" in found.action


def test_tramadol_reports_both_serotonin_and_sedation() -> None:
    assert _severities("duloxetine", "tramadol") == {"tramadol": {"serious", "moderate"}}


def test_maoi_washout_is_in_the_action() -> None:
    (found,) = check_interactions(["duloxetine", "phenelzine"]).interactions
    assert "14 days" in found.action and "5 days" in found.action


def test_brand_names_and_aliases_are_resolved() -> None:
    result = check_interactions(["CYMBALTA", "Ciprofloxacin"])
    assert [(i.drugs, i.severity) for i in result.interactions] == [
        (("duloxetine", "ciprofloxacin"), "contraindicated")
    ]
    assert check_interactions(["Yentreve", "meperidine"]).interactions[0].drugs == (
        "duloxetine",
        "pethidine",
    )
    assert (
        check_interactions(["duloxetine", "methylene blue"]).interactions[0].severity == "serious"
    )


def test_class_names_match_the_whole_rule() -> None:
    result = check_interactions(["duloxetine", "NSAIDs", "triptans", "MAOIs"])
    assert {(i.drugs[1], i.severity) for i in result.interactions} == {
        ("NSAIDs", "moderate"),
        ("triptans", "serious"),
        ("MAOIs", "contraindicated"),
    }
    assert result.unknown == ()


def test_unknown_names_are_reported_not_ignored() -> None:
    result = check_interactions(["duloxetine", "frobnicol", "ibuprofen", "frobnicol"])
    assert result.unknown == ("frobnicol",)
    assert [i.drugs[1] for i in result.interactions] == ["ibuprofen"]


def test_all_unknown() -> None:
    result = check_interactions(["foo", "bar"])
    assert result.interactions == ()
    assert result.unknown == ("foo", "bar")


def test_pairs_without_compiled_knowledge_are_reported_as_not_checked() -> None:
    result = check_interactions(["sertraline", "tramadol", "duloxetine"])
    assert ("sertraline", "tramadol") in result.not_checked
    assert all("duloxetine" not in pair for pair in result.not_checked)


def test_the_same_medicine_twice_is_a_duplicate() -> None:
    result = check_interactions(["duloxetine", "Cymbalta"])
    assert result.duplicates == (("duloxetine", "Cymbalta"),)
    assert result.interactions == ()


def test_no_interaction_for_an_unrelated_known_pair() -> None:
    result = check_interactions(["duloxetine", "pregabalin"])
    assert result.interactions == () and result.unknown == ()


def test_empty_name_is_invalid_input_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_interactions(["duloxetine", "  "])
    assert caught.value.problems[0].field == "drugs[1]"


def test_result_dict_shape() -> None:
    data = check_interactions(["duloxetine", "warfarin", "x"]).to_dict()
    assert set(data) >= {"interactions", "unknown"}
    assert set(data["interactions"][0]) >= {"drugs", "severity", "effect", "action", "source"}
    assert data["unknown"] == ["x"]
