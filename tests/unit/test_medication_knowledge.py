"""The medicines knowledge files: every rule has a source, malformed files are refused."""

from __future__ import annotations

from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
import yaml

from painpath.kit.errors import ConfigurationError
from painpath.medication.domain.knowledge import (
    FREQUENCY_NOT_VERIFIED,
    RULE_VERIFICATIONS,
    load_knowledge,
    parse_knowledge_text,
    resolve_drug,
)

KNOWLEDGE_DIR = resources.files("painpath.medication") / "knowledge"


def _raw(name: str) -> dict[str, object]:
    data = yaml.safe_load((KNOWLEDGE_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _sourced(obj: object) -> None:
    source = getattr(obj, "source", "")
    verification = getattr(obj, "verification", "")
    assert isinstance(source, str) and source.strip(), f"{obj!r} has no source"
    assert verification in RULE_VERIFICATIONS, f"{obj!r} rests on an unverified fact"


def test_every_interaction_contraindication_and_dose_fact_has_a_source() -> None:
    kb = load_knowledge()
    checked = 0
    for med in kb.medicines:
        rules: list[object] = [
            *med.interactions,
            *med.contraindications,
            *med.cautions,
            *med.forms,
            *med.titrations,
            *med.advisory_limits,
            *med.licensing,
            *med.symptom_rules,
            *med.monitoring,
        ]
        for optional in (med.max_daily_dose, med.divided_doses, med.withdrawal, med.missed_dose):
            if optional is not None:
                rules.append(optional)
        if med.taper is not None:
            rules.append(med.taper)
            assert med.taper.minimum_source.strip()
            assert med.taper.minimum_verification in RULE_VERIFICATIONS
        for rule in rules:
            _sourced(rule)
            checked += 1
    assert checked > 50


@pytest.mark.parametrize(
    "section",
    [
        "interactions",
        "contraindications",
        "cautions",
        "forms",
        "titrations",
        "advisory_limits",
        "max_daily_dose",
        "divided_doses",
        "missed_dose",
        "withdrawal",
    ],
)
def test_raw_duloxetine_rule_entries_all_carry_source_and_label(section: str) -> None:
    entries = _raw("duloxetine")[section]
    if isinstance(entries, dict):
        entries = [entries]
    assert isinstance(entries, list) and entries
    for entry in entries:
        assert isinstance(entry, dict)
        assert str(entry.get("source", "")).strip(), entry
        assert entry.get("verification") in RULE_VERIFICATIONS, entry


def test_dose_facts_of_duloxetine() -> None:
    med = load_knowledge().medicine("duloxetine")
    assert med is not None and med.compiled
    assert med.whole_strengths_mg == (20, 30, 40, 60)
    assert all(f.whole_only for f in med.forms)
    assert "do not chew, crush or open" in med.forms[0].administration
    assert med.max_daily_dose is not None and med.max_daily_dose.daily_mg == Decimal(120)
    (advisory,) = med.advisory_limits
    assert advisory.code == "above-advised-for-clbp" and advisory.daily_mg == Decimal(60)
    (titration,) = med.titrations
    assert [(s.day, s.daily_dose_mg) for s in titration.steps] == [
        (0, Decimal(30)),
        (7, Decimal(60)),
    ]
    assert med.atc_code is not None and med.atc_code.value == "N06AX21"
    assert med.taper is not None and med.taper.minimum_weeks == 2
    renal = next(c for c in med.contraindications if c.kind == "renal")
    assert renal.crcl_below == Decimal(30)
    assert {c.kind for c in med.contraindications} >= {"renal", "hepatic", "blood_pressure"}


def test_nice_position_is_off_label_and_never_recommended_for_back_pain() -> None:
    med = load_knowledge().medicine("duloxetine")
    assert med is not None
    texts = {s.code: s.text for s in med.licensing}
    assert "do not offer SSRIs, SNRIs or TCAs" in texts["off-label-clbp"]
    assert "no recommendation" in texts["off-label-sciatica"]


def test_unverified_adverse_effect_bands_are_not_shown_as_bands() -> None:
    med = load_knowledge().medicine("duloxetine")
    assert med is not None
    for effect in med.adverse_effects:
        if effect.verification == "U":
            assert effect.frequency == FREQUENCY_NOT_VERIFIED, effect.name
        else:
            assert effect.frequency != FREQUENCY_NOT_VERIFIED, effect.name
    by_name = {e.name: e for e in med.adverse_effects}
    assert by_name["nausea"].frequency == "very common"
    assert by_name["constipation"].frequency == FREQUENCY_NOT_VERIFIED


@pytest.mark.parametrize("name", ["amitriptyline", "pregabalin", "gabapentin"])
def test_stub_medicines_are_not_compiled_and_invent_no_doses(name: str) -> None:
    med = load_knowledge().medicine(name)
    assert med is not None
    assert not med.compiled
    assert "not yet compiled" in med.not_compiled_reason
    assert med.forms == () and med.max_daily_dose is None and med.taper is None
    assert med.interactions == () and med.contraindications == ()
    raw = _raw(name)
    for key in ("forms", "max_daily_dose", "interactions", "contraindications", "taper"):
        assert raw[key] == "not_compiled"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Cymbalta", "duloxetine"),
        ("YENTREVE", "duloxetine"),
        ("duloxetine hydrochloride", "duloxetine"),
        ("  Duloxetine ", "duloxetine"),
        ("St John's Wort", "st john's wort"),
        ("st. johns wort", "st john's wort"),
        ("St John\u2019s wort", "st john's wort"),
        ("Hypericum", "st john's wort"),
        ("methylene blue", "methylthioninium chloride"),
        ("Meperidine", "pethidine"),
        ("chlorpheniramine", "chlorphenamine"),
        ("Amitriptyline", "amitriptyline"),
        ("Pregabalin", "pregabalin"),
    ],
)
def test_aliases_and_brands_resolve_case_insensitively(given: str, expected: str) -> None:
    assert resolve_drug(given) == expected


def test_unknown_names_do_not_resolve() -> None:
    assert resolve_drug("notadrug") is None
    assert resolve_drug("") is None


# ------------------------------------------------------------------ malformed files


def _write(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "knowledge"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


def _duloxetine_text() -> str:
    return (KNOWLEDGE_DIR / "duloxetine.yaml").read_text(encoding="utf-8")


def _mutated(change: str) -> str:
    data = yaml.safe_load(_duloxetine_text())
    if change == "interaction-without-source":
        del data["interactions"][0]["source"]
    elif change == "contraindication-without-source":
        del data["contraindications"][1]["source"]
    elif change == "max-dose-without-source":
        del data["max_daily_dose"]["source"]
    elif change == "unverified-interaction":
        data["interactions"][2]["verification"] = "U"
    elif change == "float-dose":
        data["max_daily_dose"]["daily_mg"] = 120.5
    elif change == "bad-severity":
        data["interactions"][0]["severity"] = "deadly"
    elif change == "typo-field":
        data["interactions"][0]["sorce"] = "x"
    elif change == "unverified-band":
        data["adverse_effects"][0]["verification"] = "U"
    elif change == "compiled-but-not-compiled-field":
        data["max_daily_dose"] = "not_compiled"
    elif change == "strength-not-whole":
        data["forms"][0]["strengths_mg"] = [20, "thirty"]
    return yaml.safe_dump(data, allow_unicode=True)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("interaction-without-source", "interactions[0].source"),
        ("contraindication-without-source", "contraindications[1].source"),
        ("max-dose-without-source", "max_daily_dose.source"),
        ("unverified-interaction", "interactions[2].verification"),
        ("float-dose", "max_daily_dose.daily_mg"),
        ("bad-severity", "interactions[0].severity"),
        ("typo-field", "interactions[0].sorce"),
        ("unverified-band", "adverse_effects[0].frequency"),
        ("compiled-but-not-compiled-field", "max_daily_dose"),
        ("strength-not-whole", "forms[0].strengths_mg[1]"),
    ],
)
def test_malformed_file_is_refused_naming_file_and_field(
    tmp_path: Path, change: str, field: str
) -> None:
    folder = _write(tmp_path, "duloxetine", _mutated(change))
    with pytest.raises(ConfigurationError) as caught:
        load_knowledge(folder)
    message = str(caught.value)
    assert message.startswith("duloxetine.yaml: "), message
    assert f" {field}: " in message, message


def test_invalid_yaml_is_refused_naming_the_file(tmp_path: Path) -> None:
    folder = _write(tmp_path, "duloxetine", "name: [unclosed\n")
    with pytest.raises(ConfigurationError, match=r"^duloxetine\.yaml: not valid YAML"):
        load_knowledge(folder)


def test_file_name_must_match_medicine_name(tmp_path: Path) -> None:
    folder = _write(tmp_path, "cymbalta", _duloxetine_text())
    with pytest.raises(ConfigurationError, match=r"^cymbalta\.yaml: name: "):
        load_knowledge(folder)


def test_a_name_claimed_by_two_medicines_is_refused(tmp_path: Path) -> None:
    folder = _write(tmp_path, "duloxetine", _duloxetine_text())
    stub = (KNOWLEDGE_DIR / "pregabalin.yaml").read_text(encoding="utf-8")
    (folder / "pregabalin.yaml").write_text(
        stub.replace("aliases: []", "aliases: [Cymbalta]"), encoding="utf-8"
    )
    with pytest.raises(ConfigurationError, match="Cymbalta"):
        load_knowledge(folder)


def test_valid_copy_loads_from_a_folder(tmp_path: Path) -> None:
    folder = _write(tmp_path, "duloxetine", _duloxetine_text())
    kb = load_knowledge(folder)
    assert kb.names() == ("duloxetine",)


def test_parse_text_reports_missing_top_level_field() -> None:
    data = yaml.safe_load(_duloxetine_text())
    del data["taper"]
    with pytest.raises(ConfigurationError, match=r"^duloxetine\.yaml: taper: missing"):
        parse_knowledge_text(yaml.safe_dump(data), "duloxetine.yaml")


def test_to_dict_is_json_ready_and_keeps_sources() -> None:
    import json

    med = load_knowledge().medicine("duloxetine")
    assert med is not None
    data = med.to_dict()
    text = json.dumps(data)
    assert data["max_daily_dose"]["daily_mg"] == 120
    assert all(i["source"] for i in data["interactions"])
    assert "N06AX21" in text


def test_a_malformed_packaged_file_stops_the_application_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``create_app`` (what ``painpath serve`` builds before it listens) reads the
    knowledge files, so a bad one is reported at start-up and not at the first
    prescription."""
    from painpath import app as app_module
    from painpath.config import Settings
    from painpath.medication.domain import knowledge

    folder = _write(tmp_path, "duloxetine", _mutated("bad-severity"))
    monkeypatch.setattr(knowledge, "_default_knowledge", lambda: knowledge._load_from(folder))
    with pytest.raises(ConfigurationError) as caught:
        app_module.create_app(Settings(data_dir=tmp_path / "data"))
    assert str(caught.value).startswith("duloxetine.yaml: interactions[0].severity: ")
