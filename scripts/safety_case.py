"""`make safety-case`: run every test the hazard log names, then write the safety case."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from painpath.safety import check_log, junit_results, referenced_tests, render_case

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "docs" / "safety" / "hazard-log.yaml"
OUT = ROOT / "docs" / "safety" / "safety-case.md"


def main() -> int:
    problems = check_log(ROOT, LOG)
    if problems:
        for p in problems:
            print(f"hazard log: {p}", file=sys.stderr)
        return 1
    tests = referenced_tests(LOG)
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "results.xml"
        files = sorted({t.split("::")[0] for t in tests})
        names = sorted({t.split("::")[1].split("[")[0] for t in tests})
        subprocess.run(  # noqa: S603 (fixed arguments)
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             f"--junitxml={xml}", "-o", "junit_family=xunit1", "-k", " or ".join(names), *files],
            cwd=ROOT, check=False,
        )
        results = junit_results(xml)
    OUT.write_text(render_case(LOG, results))
    failed = [t for t in tests if results.get(t.split("[")[0]) != "passed"]
    print(f"wrote {OUT.relative_to(ROOT)}: {len(tests) - len(failed)}/{len(tests)} tests passed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
