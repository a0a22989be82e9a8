"""The synthetic population: deterministic, streaming, and shaped like the trials."""

from __future__ import annotations

import inspect
from collections import Counter
from datetime import date, timedelta
from statistics import mean

from painpath.demo.generator import RESPONSE_MIX, generate_patients, planned_dose

TODAY = date(2026, 11, 25)


def test_same_seed_same_population() -> None:
    a = list(generate_patients(7, TODAY, 5))
    b = list(generate_patients(7, TODAY, 5))
    assert a == b
    c = list(generate_patients(8, TODAY, 5))
    assert [p.name for p in a] != [p.name for p in c] or a[0].diary != c[0].diary


def test_patients_are_streamed_one_at_a_time() -> None:
    stream = generate_patients(7, TODAY, 100_000)
    assert inspect.isgenerator(stream)
    first = next(stream)
    assert first.index == 0
    # a patient depends only on (seed, index, today): a slice equals the same part of the whole
    assert (
        list(generate_patients(7, TODAY, 3, first=10)) == list(generate_patients(7, TODAY, 13))[10:]
    )


def test_histories_are_3_to_9_months_with_a_baseline_before_duloxetine() -> None:
    for p in generate_patients(7, TODAY, 50):
        span = (TODAY - p.diary[0].date).days
        assert 85 <= span <= 275
        baseline = [d for d in p.diary if p.start - timedelta(days=14) <= d.date < p.start]
        assert len(baseline) >= 4
        assert planned_dose(p, p.start) == 30
        assert planned_dose(p, p.start + timedelta(days=7)) == 60
        assert all(0 <= d.pain <= 10 for d in p.diary)


def test_response_mix_matches_the_pooled_trials() -> None:
    kinds = Counter(p.response_kind for p in generate_patients(3, TODAY, 4000))
    share = {k: n / 4000 for k, n in kinds.items()}
    # Alev 2017: 59.7% reach >=30% and 48.6% reach >=50% on duloxetine
    assert abs(share["substantial"] + share["moderate"] - 0.597) < 0.03
    assert abs(share["substantial"] - 0.486) < 0.03
    assert abs(sum(s for _, s, _ in RESPONSE_MIX) - 1.0) < 1e-9


def test_responders_diaries_fall_and_non_responders_do_not() -> None:
    for p in generate_patients(11, TODAY, 60):
        base = mean(d.pain for d in p.diary if d.date < p.start)
        late = [d.pain for d in p.diary if d.date >= p.start + timedelta(days=42)]
        if p.tapering_from:
            late = [
                d.pain for d in p.diary if p.start + timedelta(days=42) <= d.date < p.tapering_from
            ]
        if len(late) < 20:
            continue
        change = (mean(late) - base) / base
        if p.response_kind == "substantial":
            assert change < -0.3
        if p.response_kind == "worse":
            assert change > -0.05


def test_side_effects_follow_the_label_frequencies() -> None:
    counts: Counter[str] = Counter()
    n = 3000
    for p in generate_patients(5, TODAY, n):
        counts.update(s.symptom for s in p.side_effects)
    assert abs(counts["nausea"] / n - 0.23) < 0.03
    assert abs(counts["dry mouth"] / n - 0.13) < 0.03
