"""The evidence file, its pooled discontinuation ratio, and the ``evidence`` commands."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from painpath.kit.errors import ConfigurationError
from painpath.response.cli import evidence_app
from painpath.response.domain.meta import PoolMethod
from painpath.response.evidence import (
    discontinuation_effects,
    evidence_view,
    load_evidence,
    parse_evidence,
    pooled_discontinuation,
)
from tests.unit.test_evidence_meta import bcg

runner = CliRunner()


def test_discontinuation_counts_are_the_reference_numbers() -> None:
    counts = {c.study_id: c for c in load_evidence().discontinuation}
    assert set(counts) == {"skljarevski-2009", "skljarevski-2010a", "skljarevski-2010b"}
    s2009 = counts["skljarevski-2009"]
    assert (s2009.events_duloxetine, s2009.n_duloxetine) == (17, 116)
    assert (s2009.events_placebo, s2009.n_placebo) == (10, 117)
    assert not s2009.derived_from_percentages
    s2010b = counts["skljarevski-2010b"]
    assert (s2010b.events_duloxetine, s2010b.n_duloxetine) == (30, 198)
    assert (s2010b.events_placebo, s2010b.n_placebo) == (11, 203)
    s2010a = counts["skljarevski-2010a"]
    assert s2010a.derived_from_percentages
    assert s2010a.label == "P"
    # reconstructed counts reproduce the published 13.9% of 115 and 5.8% of 121
    assert round(100 * s2010a.events_duloxetine / s2010a.n_duloxetine, 1) == 13.9
    assert round(100 * s2010a.events_placebo / s2010a.n_placebo, 1) == 5.8
    assert (s2010a.n_duloxetine, s2010a.n_placebo) == (115, 121)


def test_log_risk_ratios_of_stopping_for_adverse_events() -> None:
    effects = {e.study_id: e for e in discontinuation_effects()}
    assert math.exp(effects["skljarevski-2009"].yi) == pytest.approx((17 / 116) / (10 / 117))
    assert effects["skljarevski-2010b"].vi == pytest.approx(1 / 30 - 1 / 198 + 1 / 11 - 1 / 203)


def test_pooled_discontinuation_ratio_is_close_to_the_published_meta_analysis() -> None:
    pooled = pooled_discontinuation(PoolMethod.REML)
    assert pooled.k == 3
    risk_ratio = math.exp(pooled.estimate)
    # our three trials: about 2.3; the published 9-RCT OA/CLBP pool: 2.31 (1.81 to 2.94)
    assert 2.0 < risk_ratio < 2.6
    assert math.exp(pooled.ci_low) > 1.0  # more stopping on duloxetine


def test_evidence_view_keeps_published_estimates_as_published() -> None:
    view = evidence_view()
    meta = {m["id"]: m for m in view["meta_analyses"]}
    birkinshaw = meta["birkinshaw-2023"]["estimates"][0]
    assert (birkinshaw["value"], birkinshaw["ci_low"], birkinshaw["ci_high"]) == (1.79, 1.67, 1.91)
    ferreira = {e["outcome"]: e for e in meta["ferreira-2021"]["estimates"]}
    assert ferreira["SNRIs, back pain, 3-13 weeks, pain 0-100"]["value"] == -5.30
    alev = {p["id"]: p for p in view["pooled_analyses"]}["alev-2017"]["results"][0]
    assert (alev["duloxetine_percent"], alev["placebo_percent"]) == (59.7, 47.8)
    assert meta["bafail-2024"]["label"] == "P"


def test_bottom_line_says_small_benefit_off_label_ng59_and_limited_sciatica_evidence() -> None:
    lines = {b["id"]: b for b in evidence_view()["bottom_line"]}
    assert "0.5–0.8 points" in lines["small-average-benefit"]["text"]
    assert "off-label" in lines["off-label-uk"]["text"]
    assert "do not offer SSRIs, SNRIs or TCAs" in lines["nice-ng59"]["text"]
    assert "never be presented as NICE-recommended" in lines["nice-ng59"]["text"]
    assert "very limited" in lines["sciatica-limited"]["text"]
    assert all(b["label"] in {"V", "P"} for b in lines.values())


def test_every_trial_and_review_has_a_citation_and_a_label() -> None:
    raw = load_evidence().raw
    for trial in raw["trials"]:
        assert trial["citation"] and trial["primary_result_label"] in {"V", "P"}
    for review in raw["meta_analyses"] + raw["pooled_analyses"]:
        assert review["citation"] and review["label"] in {"V", "P"}


def test_malformed_evidence_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="has no 'trials'"):
        parse_evidence("version: 1\n")
    bad = """
version: 1
trials:
  - id: x
    name: X
    discontinuation_for_adverse_events:
      duloxetine: {events: 20, n: 10}
      placebo: {events: 1, n: 10}
      derived_from_percentages: false
      label: V
      source: s
"""
    with pytest.raises(ConfigurationError, match="more events than people"):
        parse_evidence(bad)


# --- the commands ---------------------------------------------------------------------


def write_bcg_csv(path: Path) -> Path:
    yi, vi = bcg()
    rows = [f"trial {i + 1},{y!r},{v!r}" for i, (y, v) in enumerate(zip(yi, vi, strict=True))]
    lines = ["study,yi,vi", *rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_pool_command_prints_the_contract_fields(tmp_path: Path) -> None:
    csv_path = write_bcg_csv(tmp_path / "bcg.csv")
    result = runner.invoke(evidence_app, ["pool", "--input", str(csv_path), "--method", "REML"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    for key in ("estimate", "se", "ci_low", "ci_high", "tau2", "i2", "pi_low", "pi_high", "k"):
        assert key in payload
    assert payload["k"] == 13
    assert payload["estimate"] == pytest.approx(-0.7145, abs=5e-5)
    assert payload["tau2"] == pytest.approx(0.3132, abs=5e-5)

    result = runner.invoke(evidence_app, ["pool", "--input", str(csv_path), "--method", "DL"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tau2"] == pytest.approx(0.3088, abs=5e-5)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("study,yi,vi\na,0.1,0.02\nb,abc,0.03\n", "line 3, column yi"),
        ("study,yi,vi\na,0.1,0.02\nb,0.2,-0.03\n", "line 3, column vi"),
        ("study,yi,vi\na,0.1,0.02\nb,0.2\n", "line 3, column vi"),
        ("study,effect,vi\na,0.1,0.02\n", "line 1: missing column(s) yi"),
        ("study,yi,vi\na,0.1,0.02\n", "at least 2 studies"),
        ("", "the file is empty"),
    ],
)
def test_pool_command_rejects_bad_csv_with_line_and_column(
    tmp_path: Path, content: str, expected: str
) -> None:
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text(content, encoding="utf-8")
    result = runner.invoke(evidence_app, ["pool", "--input", str(csv_path)])
    assert result.exit_code == 2
    assert expected in result.stderr
    assert result.stdout == ""


def test_pool_command_rejects_an_unknown_method(tmp_path: Path) -> None:
    csv_path = write_bcg_csv(tmp_path / "bcg.csv")
    result = runner.invoke(evidence_app, ["pool", "--input", str(csv_path), "--method", "PM"])
    assert result.exit_code == 2
    assert "use REML or DL" in result.stderr


def test_pool_command_reports_a_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(evidence_app, ["pool", "--input", str(tmp_path / "none.csv")])
    assert result.exit_code == 2
    assert "cannot read the file" in result.stderr


def test_show_command_prints_the_evidence() -> None:
    result = runner.invoke(evidence_app, ["show"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {t["id"] for t in payload["trials"]} >= {"skljarevski-2009", "konno-2016"}
    pooled = payload["discontinuation_for_adverse_events"]["pooled"]
    assert pooled["k"] == 3 and pooled["method"] == "REML"
    assert 2.0 < pooled["risk_ratio"] < 2.6
