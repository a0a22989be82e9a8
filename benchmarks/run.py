"""Run the benchmarks, print the table and write the results into docs/benchmarks.md.

    .venv/bin/python benchmarks/run.py            # reduced scale (about 15 minutes)
    .venv/bin/python benchmarks/run.py --full     # 100,000 patients with a year each

Needs a PostgreSQL server where PAINPATH_BENCH_POSTGRES_URL (default: the local server,
user postgres) may create and drop the databases painpath_bench_writes and
painpath_bench_scale. SQLite needs nothing.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_scale  # noqa: E402
import bench_writes  # noqa: E402
import report  # noqa: E402
from common import ROOT, load_average, log, machine  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="full scale (takes hours)")
    parser.add_argument(
        "--only", default="writes,scale", help="comma-separated: writes, scale (default both)"
    )
    parser.add_argument("--duration", type=float, default=None, help="seconds per load run")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw results")
    parser.add_argument("--keep", action="store_true", help="keep the scale database")
    args = parser.parse_args()
    only = {x.strip() for x in args.only.split(",") if x.strip()}

    from painpath.auth.passwords import hash_password

    started = time.perf_counter()
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo("Europe/London")).date()
    # One hash for every bulk account, of a password nobody is told: they cannot sign in.
    password_hash = hash_password(secrets.token_urlsafe(24))
    scale = bench_scale.FULL if args.full else bench_scale.REDUCED
    duration = args.duration or (20.0 if args.full else 10.0)
    results: dict[str, Any] = {
        "started": now.strftime("%Y-%m-%d %H:%M UTC"),
        "scale_name": "full" if args.full else "reduced",
        "machine": machine(),
    }
    log(f"PainPath benchmarks, {results['scale_name']} scale: {scale.describe()}")
    log(f"machine: {results['machine']}")
    if "writes" in only:
        results["writes"] = bench_writes.run(today, now, password_hash, duration=duration)
    if "scale" in only:
        results["scale"] = bench_scale.run(scale, today, now, password_hash, keep=args.keep)
    results["load_at_end"] = load_average()
    results["wall_seconds"] = round(time.perf_counter() - started, 1)

    print(report.table(results))
    print(f"\n{results['scale_name']} scale: {scale.describe()}")
    print(f"wall time {results['wall_seconds'] / 60:.1f} minutes; load {results['load_at_end']}")
    report.write(args.out, results)
    log(f"results written to {args.out}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
