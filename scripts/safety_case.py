"""The safety case from the hazard log and test results.

`make safety-case`: run every test the hazard log names, then write
docs/safety/safety-case.md. `make test` (scripts/test) calls it with `--from-junit` on the
results of the whole run: it writes the case beside them and fails when a test the log
names did not pass on every database it ran on (failed, skipped or not run at all).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from painpath.safety import check_log, junit_results, referenced_tests, render_case

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "docs" / "safety" / "hazard-log.yaml"
OUT = ROOT / "docs" / "safety" / "safety-case.md"


def run_named_tests(tests: list[str], xml: Path) -> None:
    files = sorted({t.split("::")[0] for t in tests})
    names = sorted({t.split("::")[1].split("[")[0] for t in tests})
    subprocess.run(  # noqa: S603 (fixed arguments)
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--junitxml={xml}", "-o", "junit_family=xunit1", "-k", " or ".join(names), *files],
        cwd=ROOT, check=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-junit", type=Path, help="results of a run already made")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    problems = check_log(ROOT, LOG)
    if problems:
        for p in problems:
            print(f"hazard log: {p}", file=sys.stderr)
        return 1
    tests = referenced_tests(LOG)
    if args.from_junit:
        results = junit_results(args.from_junit)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            xml = Path(tmp) / "results.xml"
            run_named_tests(tests, xml)
            results = junit_results(xml)
    args.out.write_text(render_case(LOG, results))
    failed = [t for t in tests if results.get(t.split("[")[0]) != "passed"]
    shown = args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out
    print(f"safety case {shown}: {len(tests) - len(failed)}/{len(tests)} tests passed")
    for t in failed:
        print(f"  not passed: {t} ({results.get(t.split('[')[0], 'not run')})", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
