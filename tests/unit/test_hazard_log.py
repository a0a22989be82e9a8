"""The hazard log is evidence only while every test it names exists."""

from __future__ import annotations

from pathlib import Path

from painpath.safety import check_log, risk

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
