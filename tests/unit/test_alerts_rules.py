"""The alert rules and the caseload figures (pure functions, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from painpath.alerts import domain
from painpath.care import domain as care

TODAY = date(2026, 3, 15)


def obs(days_ago: int, status: str = "missed") -> domain.DoseObservation:
    return domain.DoseObservation(TODAY - timedelta(days=days_ago), status)


def test_every_rule_names_a_source_and_an_urgency() -> None:
    for rule in domain.RULES.values():
        assert rule.urgency in domain.URGENCIES
        assert rule.source.strip() and rule.title.strip()


def test_blood_pressure_alerts_only_at_the_level_the_care_team_set() -> None:
    """The reference gives no number, so PainPath has no level of its own."""
    assert domain.blood_pressure_cause("r", 210, 125, TODAY, None, None) is None
    assert domain.blood_pressure_cause("r", 159, 99, TODAY, 160, 100) is None
    at = domain.blood_pressure_cause("r1", 160, 80, TODAY, 160, 100)
    assert at is not None and at.rule == "blood-pressure" and at.urgency == "urgent"
    assert at.key == "blood-pressure:r1"
    assert "160/80 mmHg on 2026-03-15: systolic 160 at or above 160" in at.summary
    both = domain.blood_pressure_cause("r2", 170, 105, TODAY, 160, 100)
    assert both is not None
    assert "systolic 170 at or above 160 and diastolic 105 at or above 100" in both.summary
    only_diastolic = domain.blood_pressure_cause("r3", 120, 100, TODAY, None, 100)
    assert only_diastolic is not None and "diastolic 100" in only_diastolic.summary
    assert "§1.8" in at.source and "gives no number" in at.source


def test_three_missed_doses_in_seven_days_raise_one_cause() -> None:
    assert domain.missed_doses([obs(0), obs(3)], TODAY) is None
    cause = domain.missed_doses([obs(0), obs(3), obs(6)], TODAY)
    assert cause is not None and cause.rule == "missed-doses" and cause.urgency == "routine"
    assert cause.key == f"missed-doses:{(TODAY - timedelta(days=6)).isoformat()}"
    assert domain.missed_doses([obs(0), obs(3), obs(7)], TODAY) is None  # 8 days ago
    # a dose logged late on the same day is not a missed day
    assert domain.missed_doses([obs(0), obs(3), obs(6), obs(6, "late")], TODAY) is None
    # two events for one day count once
    assert domain.missed_doses([obs(0), obs(0), obs(3)], TODAY) is None


@given(st.lists(st.tuples(st.integers(0, 20), st.sampled_from(["taken", "missed", "late"]))))
def test_missed_doses_is_deterministic_and_counts_the_window(
    events: list[tuple[int, str]],
) -> None:
    observations = [obs(d, s) for d, s in events]
    first = domain.missed_doses(observations, TODAY)
    assert first == domain.missed_doses(list(reversed(observations)), TODAY)
    days = domain.missed_days(observations, TODAY - timedelta(days=6), TODAY)
    assert (first is not None) == (len(days) >= 3)


def test_questionnaire_flags() -> None:
    causes = domain.questionnaire_causes("r1", "phq9", ["self-harm"])
    assert [(c.rule, c.urgency, c.key) for c in causes] == [
        ("phq9-item9", "urgent", "phq9-item9:r1")
    ]
    ces = domain.questionnaire_causes("r2", "redflags", ["cauda-equina", "red-flag"])
    assert [(c.rule, c.urgency) for c in ces] == [("red-flag-cauda-equina", "emergency")]
    other = domain.questionnaire_causes("r3", "redflags", ["red-flag"])
    assert [(c.rule, c.urgency) for c in other] == [("red-flag", "urgent")]
    assert domain.questionnaire_causes("r4", "phq9", []) == []


@pytest.mark.parametrize(
    ("level", "urgency"),
    [("self-care", None), ("routine", None), ("urgent", "urgent"), ("emergency", "emergency")],
)
def test_side_effects_alert_when_urgent_or_emergency(level: str, urgency: str | None) -> None:
    cause = domain.side_effect_cause("s1", "nausea", level)
    assert (cause.urgency if cause else None) == urgency


def test_withdrawal_symptoms_during_a_taper() -> None:
    terms = domain.withdrawal_terms(
        ["agitation or anxiety", "sensory disturbances (pins and needles, especially in the head)"],
        ["brain zaps"],
    )
    assert terms == [
        "agitation",
        "anxiety",
        "sensory disturbances",
        "pins and needles",
        "brain zaps",
    ]
    taper = domain.TaperWindow("t1", TODAY - timedelta(days=10), TODAY - timedelta(days=3))
    reports = [
        domain.SymptomReport("a", "Brain zaps at night", "mild", TODAY),
        domain.SymptomReport("b", "pins and needles", "severe", TODAY - timedelta(days=2)),
        domain.SymptomReport("c", "rash", "mild", TODAY),
        domain.SymptomReport("d", "anxiety", "mild", TODAY - timedelta(days=30)),
        domain.SymptomReport("e", "anxious", "mild", TODAY),  # a different word
    ]
    causes = domain.withdrawal_during_taper(reports, [taper], terms)
    assert [(c.key, c.urgency) for c in causes] == [
        ("withdrawal-in-taper:a", "routine"),
        ("withdrawal-in-taper:b", "urgent"),
    ]
    late = domain.SymptomReport("f", "anxiety", "mild", TODAY + timedelta(days=12))
    assert domain.withdrawal_during_taper([late], [taper], terms) == []


def test_non_response_and_overdue_follow_ups() -> None:
    assert domain.non_response("p", "moderate", -35.0) is None
    cause = domain.non_response("p", "minimal", -12.4)
    assert cause is not None and "-12%" in cause.summary and cause.key == "non-response:p"
    assert domain.non_response("p", "insufficient-data", None) is None
    fus = [
        domain.FollowUpObservation("late", TODAY - timedelta(days=8), "review", "scheduled"),
        domain.FollowUpObservation("grace", TODAY - timedelta(days=7), "review", "scheduled"),
        domain.FollowUpObservation("done", TODAY - timedelta(days=30), "review", "done"),
    ]
    assert [c.key for c in domain.overdue_follow_ups(fus, TODAY)] == ["overdue-follow-up:late"]


def test_alert_transitions_and_order() -> None:
    assert domain.check_transition("open", "acknowledged") is None
    assert domain.check_transition("acknowledged", "resolved") is None
    assert domain.check_transition("open", "resolved") is None
    assert domain.check_transition("resolved", "acknowledged") == "this alert is already resolved"
    assert domain.check_transition("acknowledged", "acknowledged") is not None
    assert domain.check_transition("open", "open") is not None
    t = datetime(2026, 1, 1, tzinfo=UTC)
    alerts = [("routine", t), ("urgent", t + timedelta(1)), ("urgent", t), ("emergency", t)]
    assert sorted(alerts, key=lambda a: domain.alert_order(*a)) == [
        ("emergency", t),
        ("urgent", t),
        ("urgent", t + timedelta(1)),
        ("routine", t),
    ]


def test_the_default_follow_up_schedule() -> None:
    plan = care.default_follow_ups(date(2026, 1, 31))
    assert [(p.key, p.due) for p in plan] == [
        ("2w", date(2026, 2, 14)),
        ("4w", date(2026, 2, 28)),
        ("12w", date(2026, 4, 25)),
        ("6m", date(2026, 7, 31)),
        ("9m", date(2026, 10, 31)),
        ("12m", date(2027, 1, 31)),
    ]
    assert "blood pressure" in plan[0].kind
    assert all("reference.md §1.11" in p.source for p in plan)
    assert care.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)


def test_caseload_figures() -> None:
    steps = [
        care.Step(TODAY - timedelta(days=40), Decimal(30)),
        care.Step(TODAY - timedelta(days=33), Decimal(60)),
    ]
    assert care.dose_on(steps, TODAY) == Decimal(60)
    assert care.dose_on(steps, TODAY - timedelta(days=50)) == Decimal(0)
    assert care.days_on_treatment(steps, TODAY) == 41
    diary = [(TODAY - timedelta(days=40 + d), 8) for d in range(1, 15)]
    diary += [(TODAY - timedelta(days=40 + 15), 0)]  # before the baseline window
    diary += [(TODAY - timedelta(days=d), 4 + d % 2) for d in range(7)]
    base = care.baseline_pain(diary, TODAY - timedelta(days=40))
    recent = care.recent_pain(diary, TODAY)
    assert (base, recent) == (8.0, 4.4)
    assert care.percent_change(base, recent) == -45
    doses = [(TODAY - timedelta(days=d), "taken") for d in range(1, 29)]
    doses[3] = (doses[3][0], "missed")
    doses[4] = (doses[4][0], "late")
    adh = care.adherence(steps, doses, TODAY)
    assert (adh.taken_days, adh.planned_days, adh.percent) == (27, 28, 96)
    assert care.adherence([], doses, TODAY).percent is None
    nxt = care.next_follow_up([(TODAY - timedelta(days=1), "4-week review", "scheduled")], TODAY)
    assert nxt is not None and nxt.overdue
    assert care.next_follow_up([(TODAY, "x", "done")], TODAY) is None
    assert care.format_mg(Decimal("60.000")) == "60 mg"
