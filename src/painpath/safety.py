"""The clinical safety case (DCB0129 style): the hazard log, its checks and the report.

``docs/safety/hazard-log.yaml`` lists each hazard with its cause, effect, harm, the
initial and residual risk on the NHS 5×5 matrix, and its controls. A design or test
control names the automated tests that prove it (``tests/path.py::test_name``).
``check_log`` fails when a named test does not exist; ``render_case`` writes
``docs/safety/safety-case.md`` from the log and a JUnit XML result file.
"""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

SEVERITIES = ("minor", "significant", "considerable", "major", "catastrophic")
LIKELIHOODS = ("very low", "low", "medium", "high", "very high")
# NHS Digital clinical risk matrix (DCB0129/DCB0160): rows likelihood, columns severity.
MATRIX = {
    "very high": (3, 4, 4, 5, 5),
    "high": (2, 3, 3, 4, 5),
    "medium": (2, 2, 3, 3, 4),
    "low": (1, 2, 2, 3, 4),
    "very low": (1, 1, 2, 2, 3),
}
RATING = {1: "very low", 2: "low", 3: "medium", 4: "high", 5: "very high"}
CONTROL_KINDS = ("design", "test", "training", "documentation")
STATUSES = ("open", "controlled", "closed")


def risk(severity: str, likelihood: str) -> int:
    return MATRIX[likelihood][SEVERITIES.index(severity)]


@dataclass(frozen=True)
class Problem:
    hazard: str
    message: str

    def __str__(self) -> str:
        return f"{self.hazard}: {self.message}"


def load_log(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text())
    hazards = data.get("hazards") if isinstance(data, dict) else None
    if not isinstance(hazards, list):
        raise ValueError(f"{path}: expected a mapping with a 'hazards' list")
    return hazards


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            names.add(node.name)
    return names


def test_exists(root: Path, test_id: str) -> bool:
    file, _, name = test_id.partition("::")
    path = root / file
    if not name or not path.is_file():
        return False
    return name.split("[")[0] in _test_names(path)


def check_log(root: Path, path: Path) -> list[Problem]:
    """Everything wrong with the log: missing fields, bad ratings, tests that do not exist."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for hazard in load_log(path):
        hid = str(hazard.get("id", "?"))
        if hid in seen:
            problems.append(Problem(hid, "duplicate id"))
        seen.add(hid)
        for key in (
            "description",
            "cause",
            "effect",
            "harm",
            "initial",
            "residual",
            "controls",
            "status",
        ):
            if key not in hazard:
                problems.append(Problem(hid, f"missing '{key}'"))
        for key in ("initial", "residual"):
            rating = hazard.get(key) or {}
            if rating.get("severity") not in SEVERITIES:
                problems.append(Problem(hid, f"{key}.severity must be one of {SEVERITIES}"))
            if rating.get("likelihood") not in LIKELIHOODS:
                problems.append(Problem(hid, f"{key}.likelihood must be one of {LIKELIHOODS}"))
        if hazard.get("status") not in STATUSES:
            problems.append(Problem(hid, f"status must be one of {STATUSES}"))
        controls = hazard.get("controls") or []
        if not controls:
            problems.append(Problem(hid, "no controls"))
        for control in controls:
            kind = control.get("kind")
            if kind not in CONTROL_KINDS:
                problems.append(Problem(hid, f"control kind must be one of {CONTROL_KINDS}"))
            tests = control.get("tests") or []
            if kind in ("design", "test") and not tests:
                problems.append(
                    Problem(hid, f"{kind} control '{control.get('description')}' names no test")
                )
            for test_id in tests:
                if not test_exists(root, test_id):
                    problems.append(Problem(hid, f"test does not exist: {test_id}"))
    return problems


def referenced_tests(path: Path) -> list[str]:
    out: list[str] = []
    for hazard in load_log(path):
        for control in hazard.get("controls") or []:
            for test_id in control.get("tests") or []:
                if test_id not in out:
                    out.append(test_id)
    return out


def junit_results(xml_path: Path) -> dict[str, str]:
    """Outcome per test id prefix ("file::name") from pytest's JUnit XML; a test that ran
    on several backends passes only if every run passed."""
    results: dict[str, str] = {}
    tree = ET.parse(xml_path)  # noqa: S314 (our own pytest output)
    for case in tree.iter("testcase"):
        file = case.get("file") or (case.get("classname", "").replace(".", "/") + ".py")
        name = case.get("name", "").split("[")[0]
        key = f"{file}::{name}"
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        previous = results.get(key)
        if previous == "failed" or outcome == "failed":
            results[key] = "failed"
        elif previous == "passed" or outcome == "passed":
            results[key] = "passed"
        else:
            results[key] = outcome
    return results


def render_case(path: Path, results: dict[str, str], when: datetime | None = None) -> str:
    when = when or datetime.now(UTC)
    hazards = load_log(path)
    lines = [
        "# PainPath clinical safety case",
        "",
        "Generated by `scripts/safety_case.py` (run by `make test` and `make safety-case`) "
        "from `docs/safety/hazard-log.yaml` and the results of the tests it names, on "
        f"{when.strftime('%Y-%m-%d %H:%M UTC')}. Do not edit by hand.",
        "",
        "Risk ratings use the NHS 5×5 clinical risk matrix (likelihood × severity → 1 very "
        "low … 5 very high). Clinical limits come from `../shared/clinical/reference.md` and "
        "need sign-off by a named Clinical Safety Officer before production use.",
        "",
        "| hazard | initial risk | residual risk | status | tests passing |",
        "| --- | --- | --- | --- | --- |",
    ]
    for h in hazards:
        tests = [t for c in h.get("controls", []) for t in c.get("tests", [])]
        passing = sum(1 for t in tests if results.get(t.split("[")[0]) == "passed")
        ini = risk(h["initial"]["severity"], h["initial"]["likelihood"])
        res = risk(h["residual"]["severity"], h["residual"]["likelihood"])
        lines.append(
            f"| {h['id']} {h['title']} | {ini} ({RATING[ini]}) | {res} ({RATING[res]}) | "
            f"{h['status']} | {passing}/{len(tests)} |"
        )
    for h in hazards:
        lines += [
            "",
            f"## {h['id']}: {h['title']}",
            "",
            f"- **Hazard:** {h['description']}",
            f"- **Cause:** {h['cause']}",
            f"- **Effect:** {h['effect']}",
            f"- **Possible harm:** {h['harm']}",
            f"- **Initial risk:** {h['initial']['severity']} × {h['initial']['likelihood']} → "
            f"{risk(h['initial']['severity'], h['initial']['likelihood'])}",
            f"- **Residual risk:** {h['residual']['severity']} × {h['residual']['likelihood']} → "
            f"{risk(h['residual']['severity'], h['residual']['likelihood'])}",
            f"- **Status:** {h['status']}",
            "",
            "| control | kind | evidence | result |",
            "| --- | --- | --- | --- |",
        ]
        for c in h.get("controls", []):
            tests = c.get("tests") or []
            if not tests:
                lines.append(f"| {c['description']} | {c['kind']} | — | — |")
            for t in tests:
                outcome = results.get(t.split("[")[0], "not run")
                lines.append(f"| {c['description']} | {c['kind']} | `{t}` | {outcome} |")
    return "\n".join(lines) + "\n"
