"""Prescription checks and missed-dose advice."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from painpath.kit.errors import InvalidInput
from painpath.medication.domain.missed_dose import missed_dose_advice
from painpath.medication.domain.prescribing import PrescribingWarning, check_prescription

D0 = date(2025, 1, 6)
TITRATION = [(D0, 30), (D0 + timedelta(days=7), 60)]
ALL_RECORDED: dict[str, Any] = {
    "renal_crcl": 90,
    "hepatic_impairment": False,
    "bp_uncontrolled": False,
}


def _codes(warnings: list[PrescribingWarning]) -> list[str]:
    return [w.code for w in warnings]


def test_standard_clbp_titration_has_only_the_off_label_notice() -> None:
    warnings = check_prescription(
        "duloxetine", TITRATION, [], ["chronic low back pain"], **ALL_RECORDED
    )
    assert _codes(warnings) == ["off-label"]
    assert not warnings[0].blocking
    assert "NG59" in warnings[0].source
    assert "do not offer" in warnings[0].message


def test_above_maximum_is_blocking_and_sourced() -> None:
    warnings = check_prescription("Cymbalta", [(D0, 140)], **ALL_RECORDED)
    above = [w for w in warnings if w.code == "above-maximum"]
    assert len(above) == 1 and above[0].blocking and above[0].overridable
    assert "120 mg" in above[0].message and above[0].source


def test_above_60_for_clbp_is_advisory_only() -> None:
    warnings = check_prescription("duloxetine", [(D0, 120)], [], ["CLBP"], **ALL_RECORDED)
    (advisory,) = [w for w in warnings if w.code == "above-advised-for-clbp"]
    assert not advisory.blocking
    assert "US duloxetine label" in advisory.source
    assert "above-maximum" not in _codes(warnings)
    no_clbp = check_prescription("duloxetine", [(D0, 120)], **ALL_RECORDED)
    assert "above-advised-for-clbp" not in _codes(no_clbp)


def test_dose_that_whole_capsules_cannot_make_is_blocking_and_not_overridable() -> None:
    warnings = check_prescription("duloxetine", [(D0, 45)], **ALL_RECORDED)
    (bad,) = [w for w in warnings if w.code == "dose-not-achievable"]
    assert bad.blocking and not bad.overridable


@pytest.mark.parametrize(
    "other", ["fluvoxamine", "ciprofloxacin", "enoxacin", "linezolid", "phenelzine"]
)
def test_contraindicated_combination_blocks(other: str) -> None:
    warnings = check_prescription("duloxetine", TITRATION, [other], **ALL_RECORDED)
    (combo,) = [w for w in warnings if w.code == "contraindicated-combination"]
    assert combo.blocking and combo.severity == "contraindicated" and combo.source
    assert warnings[0] == combo  # blocking warnings come first


def test_serotonergic_and_bleeding_interactions_warn_without_blocking() -> None:
    warnings = check_prescription(
        "duloxetine", TITRATION, ["tramadol", "naproxen", "apixaban"], **ALL_RECORDED
    )
    interactions = [w for w in warnings if w.code == "interaction"]
    assert {w.severity for w in interactions} == {"serious", "moderate"}
    assert not any(w.blocking for w in interactions)


@pytest.mark.parametrize(
    ("kwargs", "conditions"),
    [
        ({"renal_crcl": 25, "hepatic_impairment": False, "bp_uncontrolled": False}, []),
        ({"renal_crcl": 90, "hepatic_impairment": True, "bp_uncontrolled": False}, []),
        ({"renal_crcl": 90, "hepatic_impairment": False, "bp_uncontrolled": True}, []),
        (ALL_RECORDED, ["Liver disease"]),
        (ALL_RECORDED, ["haemodialysis"]),
        (ALL_RECORDED, ["hypersensitivity to duloxetine"]),
    ],
)
def test_contraindicated_conditions_block(kwargs: dict[str, object], conditions: list[str]) -> None:
    warnings = check_prescription("duloxetine", TITRATION, [], conditions, **kwargs)  # type: ignore[arg-type]
    blocked = [w for w in warnings if w.code == "contraindicated-condition"]
    assert blocked and all(w.blocking and w.source for w in blocked)


def test_crcl_30_is_not_below_30() -> None:
    warnings = check_prescription(
        "duloxetine", TITRATION, renal_crcl=30, hepatic_impairment=False, bp_uncontrolled=False
    )
    assert "contraindicated-condition" not in _codes(warnings)


def test_uncontrolled_bp_only_blocks_at_initiation() -> None:
    warnings = check_prescription(
        "duloxetine",
        TITRATION,
        renal_crcl=90,
        hepatic_impairment=False,
        bp_uncontrolled=True,
        initiating=False,
    )
    assert "contraindicated-condition" not in _codes(warnings)
    assert "caution-condition" in _codes(warnings)


def test_missing_measurements_are_reminders() -> None:
    codes = _codes(check_prescription("duloxetine", TITRATION))
    assert {
        "renal-function-not-recorded",
        "hepatic-status-not-recorded",
        "blood-pressure-not-recorded",
    } <= set(codes)


def test_cautions_and_unrecognised_conditions() -> None:
    warnings = check_prescription(
        "duloxetine", TITRATION, [], ["bipolar disorder", "Hypertension", "gout"], **ALL_RECORDED
    )
    cautions = [w for w in warnings if w.code == "caution-condition"]
    assert len(cautions) == 2 and not any(w.blocking for w in cautions)
    (unknown,) = [w for w in warnings if w.code == "unrecognised-condition"]
    assert "gout" in unknown.message


def test_unknown_other_medicine_is_reported() -> None:
    warnings = check_prescription("duloxetine", TITRATION, ["zzzmab"], **ALL_RECORDED)
    (unknown,) = [w for w in warnings if w.code == "unknown-medicine"]
    assert "zzzmab" in unknown.message and not unknown.blocking


def test_duplicate_medicine_blocks() -> None:
    warnings = check_prescription("duloxetine", TITRATION, ["Cymbalta"], **ALL_RECORDED)
    (dup,) = [w for w in warnings if w.code == "duplicate-medicine"]
    assert dup.blocking


@pytest.mark.parametrize("medicine", ["amitriptyline", "pregabalin", "Gabapentin"])
def test_not_compiled_medicines_are_refused_with_a_reason(medicine: str) -> None:
    warnings = check_prescription(medicine, [(D0, 10)], [], ["sciatica"])
    (refusal,) = [w for w in warnings if w.code == "not-compiled"]
    assert refusal.blocking and not refusal.overridable
    assert "not yet compiled" in refusal.message
    assert refusal.source


def test_gabapentinoid_for_sciatica_shows_nice_position() -> None:
    warnings = check_prescription("pregabalin", [(D0, 75)], [], ["sciatica"])
    (guideline,) = [w for w in warnings if w.code == "guideline"]
    assert "do not offer gabapentinoids for sciatica" in guideline.message


def test_unknown_medicine_and_bad_schedule_are_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_prescription("notamedicine", TITRATION)
    assert caught.value.problems[0].field == "medicine"
    with pytest.raises(InvalidInput) as caught:
        check_prescription("duloxetine", [(D0, 60.0)])  # type: ignore[list-item]
    assert caught.value.problems[0].field == "schedule[0].daily_dose_mg"
    with pytest.raises(InvalidInput) as caught:
        check_prescription("duloxetine", TITRATION, renal_crcl=-1)
    assert caught.value.problems[0].field == "renal_crcl"


# ------------------------------------------------------------------------ missed dose


def test_missed_once_daily_dose_with_time_to_spare() -> None:
    advice = missed_dose_advice("duloxetine", 1, 14)
    assert advice.take_now is True
    assert "Never take two doses" in advice.advice
    assert "NHS website" in advice.source


def test_missed_once_daily_dose_close_to_the_next() -> None:
    advice = missed_dose_advice("duloxetine", 1, 11)
    assert advice.take_now is False
    assert advice.advice.startswith("Skip the missed dose")


def test_missed_dose_twelve_hours_exactly_is_taken() -> None:
    assert missed_dose_advice("duloxetine", 1, 12).take_now is True


def test_missed_dose_without_time_gives_the_rule() -> None:
    advice = missed_dose_advice("Cymbalta")
    assert advice.take_now is None and "less than 12 hours" in advice.advice


def test_missed_twice_daily_dose_uses_the_general_rule() -> None:
    advice = missed_dose_advice("duloxetine", 2, 3)
    assert advice.take_now is None and "Do not take two doses at once" in advice.advice


def test_missed_dose_errors_name_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        missed_dose_advice("pregabalin")
    assert caught.value.problems[0].field == "medicine"
    with pytest.raises(InvalidInput) as caught:
        missed_dose_advice("duloxetine", 1, 30)
    assert caught.value.problems[0].field == "hours_until_next"
    with pytest.raises(InvalidInput) as caught:
        missed_dose_advice("duloxetine", 5)
    assert caught.value.problems[0].field == "doses_per_day"
