"""Which questionnaire is due when (pure schedule functions) and results in plain words."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from painpath.kit.errors import InvalidInput
from painpath.questionnaires.domain import (
    DEFAULT_SCHEDULE,
    ScheduleFacts,
    ScheduleRule,
    completion,
    describe_rule,
    due_now,
    get_instrument,
    occasions,
    parse_schedule,
    result_meaning,
    result_sentence,
    schedule_rule_json,
)

D0 = date(2026, 1, 5)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def rule(code: str) -> ScheduleRule:
    return next(r for r in DEFAULT_SCHEDULE if r.instrument == code)


def facts(today: int, **completions: list[int]) -> ScheduleFacts:
    return ScheduleFacts(
        today=day(today),
        start=D0,
        completions={code: tuple(day(n) for n in ns) for code, ns in completions.items()},
    )


def test_the_defaults_follow_the_issue() -> None:
    by_code = {r.instrument: r for r in DEFAULT_SCHEDULE}
    assert set(by_code) == {"peg", "rmdq", "phq9", "gad7", "startback", "pgic"}
    assert by_code["peg"].every_days == 7
    for code in ("rmdq", "phq9", "gad7"):
        assert (by_code[code].every_days, by_code[code].at_baseline) == (28, True)
        assert by_code[code].at_reviews is True
    assert by_code["startback"].at_episode_start and by_code["startback"].every_days is None
    assert by_code["pgic"].at_reviews and not by_code["pgic"].at_baseline
    assert all(r.source for r in DEFAULT_SCHEDULE)


def test_a_new_patient_has_the_baselines_due_on_the_first_day() -> None:
    due = due_now(DEFAULT_SCHEDULE, facts(0))
    assert [(d.instrument, d.kind, d.due) for d in due] == [
        ("gad7", "baseline", D0),
        ("peg", "baseline", D0),
        ("phq9", "baseline", D0),
        ("rmdq", "baseline", D0),
    ]
    assert due[0].reason == "To see where you are starting from"


def test_peg_is_due_a_week_after_it_was_last_done() -> None:
    assert due_now([rule("peg")], facts(6, peg=[0])) == []
    due = due_now([rule("peg")], facts(7, peg=[0]))
    assert [(d.kind, d.due, d.reason) for d in due] == [("periodic", day(7), "Every week")]
    # done early (day 5): the week counts from then
    assert due_now([rule("peg")], facts(11, peg=[0, 5])) == []
    assert [d.due for d in due_now([rule("peg")], facts(12, peg=[0, 5]))] == [day(12)]


def test_phq9_is_due_every_4_weeks() -> None:
    assert due_now([rule("phq9")], facts(27, phq9=[0])) == []
    due = due_now([rule("phq9")], facts(28, phq9=[0]))
    assert [(d.kind, d.due, d.reason) for d in due] == [("periodic", day(28), "Every 4 weeks")]


def test_occasions_record_what_was_done_and_what_was_missed() -> None:
    found = occasions(rule("peg"), facts(27, peg=[0, 8, 20]))
    assert [(o.kind, o.due, o.completed_on) for o in found] == [
        ("baseline", day(0), day(0)),
        ("periodic", day(7), day(8)),
        ("periodic", day(15), day(20)),
        ("periodic", day(27), None),
    ]
    missed = occasions(rule("peg"), facts(21, peg=[0]))
    assert [(o.due, o.completed_on) for o in missed] == [
        (day(0), day(0)),
        (day(7), None),
        (day(14), None),
        (day(21), None),
    ]


def test_before_a_review_the_measures_and_pgic_are_due() -> None:
    review = day(40)
    base = ScheduleFacts(
        today=day(32),
        start=D0,
        reviews=(review,),
        completions={c: (day(28),) for c in ("phq9", "gad7", "rmdq")} | {"peg": (day(30),)},
    )
    assert due_now(DEFAULT_SCHEDULE, base) == []  # the review is 8 days away
    week_before = ScheduleFacts(
        today=day(33), start=D0, reviews=(review,), completions=base.completions
    )
    due = due_now(DEFAULT_SCHEDULE, week_before)
    assert [(d.instrument, d.kind, d.due, d.review) for d in due] == [
        ("gad7", "review", day(33), review),
        ("pgic", "review", day(33), review),
        ("phq9", "review", day(33), review),
        ("rmdq", "review", day(33), review),
    ]
    assert due[1].reason == "Before your review on 14 February 2026"
    # done in the week before the review: no longer due, even on the review day
    done = dict(week_before.completions) | {"phq9": (day(28), day(35)), "pgic": (day(36),)}
    on_the_day = ScheduleFacts(today=review, start=D0, reviews=(review,), completions=done)
    assert {d.instrument for d in due_now(DEFAULT_SCHEDULE, on_the_day)} == {
        "gad7",
        "rmdq",
        "peg",
    }


def test_start_back_is_due_once_per_episode() -> None:
    episode = ScheduleFacts(today=day(3), start=D0, episode_start=day(-200))
    due = due_now([rule("startback")], episode)
    assert [(d.kind, d.due, d.reason) for d in due] == [
        ("episode-start", D0, "At the start of this episode of back pain")
    ]
    done = ScheduleFacts(
        today=day(90), start=D0, episode_start=day(-200), completions={"startback": (day(1),)}
    )
    assert due_now([rule("startback")], done) == []
    new_episode = ScheduleFacts(
        today=day(90), start=D0, episode_start=day(80), completions={"startback": (day(1),)}
    )
    assert [d.due for d in due_now([rule("startback")], new_episode)] == [day(80)]
    assert due_now([rule("startback")], ScheduleFacts(today=day(3), start=D0)) == []


def test_completion_rates_count_what_was_due_in_the_window() -> None:
    # PHQ-9 done at baseline and at 4 weeks, missed at 8 weeks (27 days overdue)
    window = facts(83, phq9=[0, 28], peg=[0, 7, 14, 21, 28, 35, 42, 49, 56, 63, 70, 77])
    rates = {c.instrument: c for c in completion([rule("phq9"), rule("peg")], window, days=84)}
    assert (rates["phq9"].due, rates["phq9"].completed, rates["phq9"].rate) == (3, 2, 0.67)
    assert (rates["peg"].due, rates["peg"].completed, rates["peg"].rate) == (12, 12, 1.0)
    # an occasion open for less than a week is not counted yet
    fresh = facts(59, phq9=[0, 28])
    assert completion([rule("phq9")], fresh, days=84)[0].due == 2
    assert completion([rule("phq9")], facts(63, phq9=[0, 28]), days=84)[0].due == 3
    # nothing due: no rate
    assert completion([rule("pgic")], window, days=84)[0].rate is None
    with pytest.raises(InvalidInput):
        completion([rule("phq9")], window, days=0)


def test_a_care_plan_changes_the_schedule() -> None:
    rules = {
        r.instrument: r
        for r in parse_schedule(
            {
                "questionnaires": {
                    "peg": {"every_days": 14},
                    "gad7": False,
                    "rmdq": {"enabled": False},
                    "sleep": {"every_days": 7, "at_baseline": True},
                }
            }
        )
    }
    assert set(rules) == {"peg", "phq9", "startback", "pgic", "sleep"}
    assert rules["peg"].every_days == 14 and rules["peg"].at_baseline is True
    assert rules["sleep"].every_days == 7
    assert "care plan" in rules["peg"].source
    assert parse_schedule({}) == DEFAULT_SCHEDULE
    assert parse_schedule(None) == DEFAULT_SCHEDULE


@pytest.mark.parametrize(
    ("settings_", "field"),
    [
        ({"questionnaires": []}, "settings.questionnaires"),
        ({"questionnaires": {"bdi": {"every_days": 7}}}, "settings.questionnaires.bdi"),
        ({"questionnaires": {"peg": 7}}, "settings.questionnaires.peg"),
        ({"questionnaires": {"peg": {"every_days": 0}}}, "settings.questionnaires.peg.every_days"),
        (
            {"questionnaires": {"peg": {"every_days": 1.5}}},
            "settings.questionnaires.peg.every_days",
        ),
        ({"questionnaires": {"peg": {"weekly": True}}}, "settings.questionnaires.peg.weekly"),
        (
            {"questionnaires": {"peg": {"at_reviews": "yes"}}},
            "settings.questionnaires.peg.at_reviews",
        ),
        # scheduled, but nothing would ever make it due
        ({"questionnaires": {"sleep": {}}}, "settings.questionnaires.sleep"),
        (
            {"questionnaires": {"peg": {"every_days": None, "at_baseline": False}}},
            "settings.questionnaires.peg",
        ),
    ],
)
def test_a_bad_schedule_setting_names_the_setting(settings_: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_schedule(settings_)
    assert error.value.problems[0].field == field


dates = st.integers(min_value=0, max_value=200)


@settings(max_examples=200, deadline=None)
@given(
    today=dates,
    done=st.dictionaries(
        st.sampled_from(["peg", "phq9", "gad7", "rmdq", "startback", "pgic"]),
        st.lists(dates, max_size=30),
    ),
    reviews=st.lists(dates, max_size=5),
    episode=st.one_of(st.none(), st.integers(min_value=-300, max_value=200)),
    days=st.integers(min_value=1, max_value=365),
)
def test_schedules_never_crash_and_stay_consistent(
    today: int, done: dict[str, list[int]], reviews: list[int], episode: int | None, days: int
) -> None:
    f = ScheduleFacts(
        today=day(today),
        start=D0,
        episode_start=None if episode is None else day(episode),
        reviews=tuple(day(r) for r in reviews),
        completions={c: tuple(day(n) for n in ns) for c, ns in done.items()},
    )
    for r in DEFAULT_SCHEDULE:
        for o in occasions(r, f):
            assert o.due <= f.today
            if o.completed_on is not None:
                assert o.completed_on >= o.due or o.kind == "episode-start"
                assert o.closes is None or o.completed_on <= o.closes
    due = due_now(DEFAULT_SCHEDULE, f)
    assert len({d.instrument for d in due}) == len(due)
    assert all(d.due <= f.today for d in due)
    for c in completion(DEFAULT_SCHEDULE, f, days=days):
        assert 0 <= c.completed <= c.due
        assert c.rate is None or 0 <= c.rate <= 1


def test_a_result_in_plain_words_with_the_change_since_last_time() -> None:
    phq9 = get_instrument("phq9")
    assert result_sentence(phq9, 7, "mild", 11) == "Your PHQ-9 score was 7 (mild), down from 11."
    assert result_sentence(phq9, 12, "moderate", 7) == (
        "Your PHQ-9 score was 12 (moderate), up from 7."
    )
    assert (
        result_sentence(phq9, 7, "mild", 7)
        == "Your PHQ-9 score was 7 (mild), the same as last time."
    )
    assert result_sentence(phq9, 3, "none-minimal") == "Your PHQ-9 score was 3 (none or minimal)."
    peg = get_instrument("peg")
    assert result_sentence(peg, 5.3, None, 6.0) == "Your PEG score was 5.3, down from 6."
    pgic = get_instrument("pgic")
    assert result_sentence(pgic, 1, "much-improved") == (
        "You said things were much improved since you started treatment."
    )
    flags = get_instrument("redflags")
    assert result_sentence(flags, 0, "none") == "You answered no to every warning-sign question."
    assert result_sentence(flags, 2, "urgent") == "You answered yes to 2 warning-sign questions."
    meaning = result_meaning(phq9, "mild")
    assert "Scores go from 0 to 27" in meaning and "'mild'" in meaning
    assert "(NICE NG59)" in result_meaning(get_instrument("startback"), "high")


def test_a_schedule_in_plain_words_and_as_settings() -> None:
    rules = {r.instrument: r for r in DEFAULT_SCHEDULE}
    assert describe_rule(rules["peg"]) == "at the start; every 7 days"
    assert describe_rule(rules["phq9"]) == (
        "at the start; every 28 days; in the 7 days before each review"
    )
    assert describe_rule(rules["startback"]) == "at the start of each new episode"
    assert describe_rule(ScheduleRule("sleep", every_days=1)) == "every day"
    assert describe_rule(None) == "not scheduled"
    assert schedule_rule_json(None)["scheduled"] is False
    # the settings of a rule read back as the same rule
    for rule in DEFAULT_SCHEDULE:
        settings_ = {k: v for k, v in schedule_rule_json(rule).items() if k != "scheduled"}
        (back,) = [
            r
            for r in parse_schedule({"questionnaires": {rule.instrument: settings_}})
            if r.instrument == rule.instrument
        ]
        assert schedule_rule_json(back) == schedule_rule_json(rule)


def test_errors_are_named_under_the_callers_field() -> None:
    with pytest.raises(InvalidInput) as error:
        parse_schedule({"questionnaires": {"peg": {"every_days": 0}}}, base="instruments")
    assert error.value.problems[0].field == "instruments.peg.every_days"
