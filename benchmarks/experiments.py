"""One-off experiments behind the analysis in docs/benchmarks.md: what a proposed change
would buy, measured on the same machine with the same load generator. They patch the
running server (in a wrapper, never the code) and are not part of `make bench`.

    .venv/bin/python benchmarks/experiments.py inline-seal    # audit events sealed in the request
    .venv/bin/python benchmarks/experiments.py gc-freeze      # caseload with gc.freeze()

``inline-seal`` compares the server as shipped (audit events sealed after the request)
with the same server sealing each request's events in the request, under the chain's
lock, as PainPath did before migration 0009. ``gc-freeze`` needs the scale database
kept by ``benchmarks/run.py --only scale --keep``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scale
import bench_writes
import population
from common import fresh_pg_database, log, open_sessions, run_loadgen, serve

SERVE = (
    "import uvicorn; from painpath.app import create_app; app = create_app(); "
    "uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning', access_log=False)"
)
INLINE_SEAL = (
    "import painpath.audit.service as s; _append = s._append; "
    "s._append = lambda db, **kw: (_append(db, **kw), s.seal(db))[0]; " + SERVE
)
GC_FREEZE = SERVE.replace(
    "app = create_app(); ", "app = create_app(); import gc; gc.collect(); gc.freeze(); "
)


def inline_seal(duration: float = 10.0) -> dict[str, Any]:
    from painpath.auth.passwords import hash_password

    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo("Europe/London")).date()
    url = fresh_pg_database("painpath_bench_writes")
    bench_writes._prepare(url, today, now, hash_password("experiment-only-password"))
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = {"PAINPATH_DATABASE_URL": url, "PAINPATH_DATA_DIR": str(workdir)}
        half = bench_writes.WRITE_PATIENTS // 2
        for name, source, patients in (
            ("as shipped", SERVE, range(0, half)),
            ("sealed in the request, under the chain lock", INLINE_SEAL, range(half, 2 * half)),
        ):
            clients = bench_writes._clients(url, patients, today)
            with serve(env, workdir, python=source, tag="experiment") as server:
                common = {
                    "host": "127.0.0.1",
                    "port": server.port,
                    "concurrency": bench_writes.CLIENTS,
                    "duration": duration,
                    "warmup": 2,
                }
                out[name] = {
                    "healthz": run_loadgen({**common, "kind": "healthz"}, workdir),
                    "diary": run_loadgen({**common, "kind": "diary", "clients": clients}, workdir),
                    "dose": run_loadgen({**common, "kind": "dose", "clients": clients}, workdir),
                }
            log(f"{name}: " + json.dumps({k: v["throughput_rps"] for k, v in out[name].items()}))
    return out


def gc_freeze(requests: int = 60) -> dict[str, Any]:
    url = bench_scale.existing_url()
    token = open_sessions(url, [population.BENCH_GP.user_id], hours=1)[0]
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = {"PAINPATH_DATABASE_URL": url, "PAINPATH_DATA_DIR": str(workdir)}
        for name, source in (("as shipped", SERVE), ("gc.freeze() after start-up", GC_FREEZE)):
            with serve(env, workdir, python=source, tag="experiment") as server:
                out[name] = bench_scale.measure_caseload(server, token, requests)
            log(f"{name}: " + json.dumps({k: v["p95_ms"] for k, v in out[name].items()}))
    return out


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else ""
    if which == "inline-seal":
        result = inline_seal()
    elif which == "gc-freeze":
        result = gc_freeze()
    else:
        sys.exit(__doc__)
    print(json.dumps(result, indent=1))
