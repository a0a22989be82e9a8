"""Side-effect triage, including the cauda equina and crisis pathways."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from painpath.kit.errors import InvalidInput
from painpath.medication.domain.knowledge import load_knowledge
from painpath.medication.domain.triage import is_cauda_equina_symptom, triage

SEVERITIES = ["mild", "moderate", "severe"]

CAUDA_EQUINA_SYMPTOMS = [
    "difficulty passing urine",
    "I can't pass urine",
    "urinary retention",
    "urinary hesitancy",
    "hesitancy when I go",
    "trouble starting to pee",
    "incontinence",
    "I wet myself",
    "leaking urine",
    "bladder feels full but nothing comes",
    "I can't feel when I need a wee",
    "numbness around my genitals",
    "numb around my back passage",
    "tingling between my legs",
    "saddle numbness",
    "loss of erection",
    "erectile dysfunction",
    "can't ejaculate",
    "delayed ejaculation",
    "loss of genital sensation",
    "no feeling in my penis",
    "decreased libido",
    "orgasm problems",
    "lost control of my bowels",
    "bowel incontinence",
    "sciatica in both legs",
    "both legs are weak and numb",
    "dysuria",
    "nocturia",
    "anorgasmia",
    "premature ejaculation",
    "painful urination",
    "URINARY RETENTION!!",
]


@pytest.mark.parametrize("symptom", CAUDA_EQUINA_SYMPTOMS)
@pytest.mark.parametrize("severity", SEVERITIES)
def test_urinary_and_sexual_symptoms_are_always_cauda_equina(symptom: str, severity: str) -> None:
    result = triage(symptom, severity)
    assert result.level == "emergency"
    assert result.pathway == "cauda-equina"
    assert "cauda equina" in result.advice
    assert "A&E now" in result.advice and "999" in result.advice
    assert "side effect" in result.advice  # "do not assume it is a side effect"
    assert result.alert_care_team


_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,.", max_size=40)


@given(
    before=_words,
    symptom=st.sampled_from(CAUDA_EQUINA_SYMPTOMS),
    after=_words,
    severity=st.sampled_from(SEVERITIES),
    medicine=st.sampled_from(["duloxetine", "amitriptyline", "pregabalin", "gabapentin"]),
)
def test_cauda_equina_wins_whatever_surrounds_it(
    before: str, symptom: str, after: str, severity: str, medicine: str
) -> None:
    result = triage(f"{before} {symptom} {after}", severity, medicine)
    assert (result.level, result.pathway) == ("emergency", "cauda-equina")


@given(
    common=st.sampled_from(["nausea", "dry mouth", "headache", "feeling sleepy", "constipation"]),
    red_flag=st.sampled_from(CAUDA_EQUINA_SYMPTOMS),
)
def test_a_red_flag_beside_a_common_side_effect_is_not_explained_away(
    common: str, red_flag: str
) -> None:
    assert triage(f"{common} and {red_flag}", "mild").pathway == "cauda-equina"


@pytest.mark.parametrize(
    "symptom",
    [
        "I have thoughts of suicide",
        "I want to kill myself",
        "thinking about self-harm",
        "I feel I'd be better off dead",
    ],
)
def test_suicidal_thoughts_are_an_emergency_with_crisis_lines(symptom: str) -> None:
    result = triage(symptom, "mild")
    assert (result.level, result.pathway) == ("emergency", "crisis")
    assert "116 123" in result.advice and "999" in result.advice


@pytest.mark.parametrize(
    "symptom", ["nausea", "Dry mouth", "headache", "somnolence", "I feel drowsy", "dizzy"]
)
def test_common_mild_effects_are_self_care_and_often_settle(symptom: str) -> None:
    result = triage(symptom, "mild")
    assert result.level == "self-care"
    assert "settle within the first weeks" in result.advice
    assert result.source and not result.alert_care_team


def test_moderate_common_effect_is_routine() -> None:
    assert triage("nausea", "moderate").level == "routine"


def test_severe_common_effect_is_urgent() -> None:
    result = triage("nausea", "severe")
    assert result.level == "urgent" and result.alert_care_team


@pytest.mark.parametrize(
    ("symptom", "severity", "level", "matched"),
    [
        ("swelling of the lips and tongue", "mild", "emergency", "allergic reaction or angioedema"),
        (
            "my skin is peeling and blistering",
            "mild",
            "emergency",
            "severe skin reaction (Stevens-Johnson syndrome)",
        ),
        ("yellow eyes", "mild", "urgent", "possible liver injury"),
        ("dark urine", "mild", "urgent", "possible liver injury"),
        ("black stools", "moderate", "urgent", "abnormal bleeding"),
        ("vomiting blood", "severe", "emergency", "abnormal bleeding"),
        ("I had a fit", "mild", "emergency", "seizure"),
        ("confusion", "moderate", "urgent", "possible low sodium (hyponatraemia)"),
        ("hallucinations and twitching", "moderate", "urgent", "possible serotonin syndrome"),
        ("hallucinations and twitching", "severe", "emergency", "possible serotonin syndrome"),
        ("eye pain with haloes", "mild", "urgent", "possible acute angle-closure glaucoma"),
        ("very high blood pressure", "mild", "urgent", "marked blood pressure rise"),
        ("feeling manic, racing thoughts", "mild", "urgent", "possible mania or hypomania"),
        ("brain zaps", "mild", "routine", "withdrawal (discontinuation) symptoms"),
        ("brain zaps", "severe", "urgent", "withdrawal (discontinuation) symptoms"),
    ],
)
def test_serious_reactions(symptom: str, severity: str, level: str, matched: str) -> None:
    result = triage(symptom, severity)
    assert result.level == level
    assert matched in result.matched
    assert result.source


def test_dark_urine_is_a_liver_sign_but_difficulty_passing_urine_is_still_cauda_equina() -> None:
    assert triage("dark urine and I can't pass urine", "mild").pathway == "cauda-equina"


def test_words_containing_pee_do_not_trigger_the_pathway() -> None:
    assert triage("my skin is peeling", "mild").pathway == "serious-reaction"
    assert triage("a wee bit dizzy", "mild").pathway == "adverse-effect"


@pytest.mark.parametrize(
    ("severity", "level"), [("mild", "routine"), ("moderate", "routine"), ("severe", "urgent")]
)
def test_unknown_free_text_goes_to_a_clinician(severity: str, level: str) -> None:
    result = triage("purple elbows", severity)
    assert (result.level, result.pathway) == (level, "unrecognised")
    assert "clinician" in result.advice


def test_not_compiled_medicine_still_gets_red_flags_and_clinician_review() -> None:
    assert triage("nausea", "mild", "pregabalin").level == "routine"
    assert triage("nausea", "severe", "pregabalin").level == "urgent"


def test_triage_accepts_loaded_knowledge() -> None:
    med = load_knowledge().medicine("duloxetine")
    assert med is not None
    assert triage("nausea", "mild", med).level == "self-care"


@pytest.mark.parametrize(
    ("symptom", "severity", "field"),
    [("", "mild", "symptom"), ("nausea", "terrible", "severity"), ("x" * 3000, "mild", "symptom")],
)
def test_bad_input_names_the_field(symptom: str, severity: str, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        triage(symptom, severity)
    assert caught.value.problems[0].field == field


def test_built_in_patterns_cover_every_red_flag_term_in_the_knowledge_file() -> None:
    med = load_knowledge().medicine("duloxetine")
    assert med is not None
    flagged = [e for e in med.adverse_effects if e.red_flag == "cauda_equina"]
    assert flagged
    for effect in flagged:
        for term in (effect.name, *effect.terms):
            assert is_cauda_equina_symptom(term), term


def test_every_urinary_and_sexual_adverse_effect_is_flagged() -> None:
    med = load_knowledge().medicine("duloxetine")
    assert med is not None
    for effect in med.adverse_effects:
        sexual = any(w in effect.name for w in ("libido", "orgasm", "erect", "ejacul"))
        if effect.system in ("renal and urinary", "reproductive") or sexual:
            assert effect.red_flag == "cauda_equina", effect.name
