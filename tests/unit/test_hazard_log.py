"""The hazard log is evidence only while every test it names exists."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from painpath.safety import check_log, junit_results, render_case, risk

ROOT = Path(__file__).resolve().parents[2]
LOG = ROOT / "docs" / "safety" / "hazard-log.yaml"


def test_every_control_names_tests_that_exist() -> None:
    problems = check_log(ROOT, LOG)
    assert problems == [], "\n".join(map(str, problems))


def test_a_renamed_or_removed_test_is_caught(tmp_path: Path) -> None:
    log = tmp_path / "log.yaml"
    log.write_text(
        """
hazards:
  - id: H-X
    title: example
    description: d
    cause: c
    effect: e
    harm: h
    initial: {severity: major, likelihood: medium}
    residual: {severity: major, likelihood: low}
    status: controlled
    controls:
      - kind: test
        description: a test that was renamed
        tests: ["tests/unit/test_hazard_log.py::test_that_does_not_exist"]
      - kind: design
        description: a design control without evidence
"""
    )
    problems = [str(p) for p in check_log(ROOT, log)]
    assert any("test does not exist" in p for p in problems)
    assert any("names no test" in p for p in problems)


def test_the_nhs_matrix() -> None:
    assert risk("catastrophic", "very high") == 5
    assert risk("minor", "very low") == 1
    assert risk("major", "medium") == 3


JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.a" name="test_ok[sqlite]" file="tests/a.py" />
<testcase classname="tests.a" name="test_ok[postgresql]" file="tests/a.py" />
<testcase classname="tests.a" name="test_half[sqlite]" file="tests/a.py" />
<testcase classname="tests.a" name="test_half[postgresql]" file="tests/a.py">
  <failure message="x"/></testcase>
<testcase classname="tests.a" name="test_skipped" file="tests/a.py">
  <skipped message="no db"/></testcase>
<testcase classname="tests.a" name="test_broken" file="tests/a.py">
  <error message="fixture"/></testcase>
</testsuite></testsuites>
"""

SMALL_LOG = """
hazards:
  - id: H-X
    title: An example hazard
    description: d
    cause: c
    effect: e
    harm: h
    initial: {severity: major, likelihood: medium}
    residual: {severity: major, likelihood: low}
    status: controlled
    controls:
      - kind: design
        description: the control that works
        tests: ["tests/a.py::test_ok", "tests/a.py::test_half"]
      - kind: test
        description: the control nobody ran
        tests: ["tests/a.py::test_never_run"]
"""


def test_junit_results_pass_a_test_only_when_no_database_failed_it(tmp_path: Path) -> None:
    xml = tmp_path / "results.xml"
    xml.write_text(JUNIT)
    assert junit_results(xml) == {
        "tests/a.py::test_ok": "passed",
        "tests/a.py::test_half": "failed",
        "tests/a.py::test_skipped": "skipped",
        "tests/a.py::test_broken": "failed",
    }


def test_the_safety_case_shows_each_control_with_its_latest_result(tmp_path: Path) -> None:
    log = tmp_path / "log.yaml"
    log.write_text(SMALL_LOG)
    xml = tmp_path / "results.xml"
    xml.write_text(JUNIT)
    text = render_case(log, junit_results(xml), when=datetime(2026, 12, 4, 10, 0, tzinfo=UTC))
    assert "on 2026-12-04 10:00 UTC. Do not edit by hand." in text
    assert "| H-X An example hazard | 3 (" in text and "| controlled | 1/3 |" in text
    assert "| the control that works | design | `tests/a.py::test_ok` | passed |" in text
    assert "| the control that works | design | `tests/a.py::test_half` | failed |" in text
    assert "| the control nobody ran | test | `tests/a.py::test_never_run` | not run |" in text
