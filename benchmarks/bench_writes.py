"""1 and 5: writes by 16 concurrent clients next to the same server's /healthz, and the
server's resident memory under that load."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import population
from common import (
    Server,
    fresh_pg_database,
    log,
    migrate_db,
    open_sessions,
    run_loadgen,
    serve,
)

from painpath.db import make_engine
from painpath.demo import bulk

CLIENTS = 16
WRITE_PATIENTS = 2000  # each run uses its own half
BACKFILL = 8  # diary entries may be made for today and the 7 days before


@dataclass
class RssSampler:
    server: Server
    peak_kib: int = 0
    peak_process_kib: int = 0
    samples: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stop.is_set():
            each = self.server.rss_by_process()
            value = sum(each)
            self.samples.append(value)
            self.peak_kib = max(self.peak_kib, value)
            self.peak_process_kib = max(self.peak_process_kib, *each, 0)
            time.sleep(0.25)

    @contextmanager
    def sampling(self) -> Iterator[None]:
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._stop.set()
            thread.join()


def _prepare(url: str, today: date, now: datetime, password_hash: str) -> None:
    migrate_db(url)
    engine = make_engine(url, pool_size=2)
    bulk.load_staff(engine, population.staff(WRITE_PATIENTS), password_hash=password_hash, now=now)
    # Histories end 8 days ago, so each patient has 8 free diary dates up to today.
    population.load(
        engine,
        first=0,
        count=WRITE_PATIENTS,
        days=30,
        today=today - timedelta(days=BACKFILL),
        now=now,
        password_hash=password_hash,
        workers=2,
        progress=False,
    )
    bulk.analyze(engine)
    engine.dispose()


def _clients(url: str, patients: range, today: date) -> list[dict[str, Any]]:
    """16 clients; each goes round its own patients, each patient with their own token."""
    indexes = list(patients)
    tokens = open_sessions(url, [population.user_id(i) for i in indexes])
    dates = [(today - timedelta(days=d)).isoformat() for d in range(BACKFILL)]
    per_client: list[list[dict[str, Any]]] = [[] for _ in range(CLIENTS)]
    for n, (i, token) in enumerate(zip(indexes, tokens, strict=True)):
        patient = {"id": str(population.patient_id(i)), "dates": dates}
        per_client[n % CLIENTS].append({"token": token, "patients": [patient]})
    return [{"sessions": sessions} for sessions in per_client]


def run_one(
    label: str,
    env: dict[str, str],
    url: str,
    patients: range,
    today: date,
    workdir: Path,
    *,
    workers: int,
    duration: float,
) -> dict[str, Any]:
    clients = _clients(url, patients, today)
    log(f"writes on {label}: server up, {CLIENTS} clients, {duration:.0f} s per run")
    with serve(env, workdir, workers=workers, tag=label.split(",")[0]) as server:
        idle_kib = server.rss_kib()
        sampler = RssSampler(server)
        common = {
            "host": "127.0.0.1",
            "port": server.port,
            "concurrency": CLIENTS,
            "duration": duration,
            "warmup": 2,
        }
        with sampler.sampling():
            healthz = run_loadgen({**common, "kind": "healthz"}, workdir)
            diary = run_loadgen({**common, "kind": "diary", "clients": clients}, workdir)
            dose = run_loadgen({**common, "kind": "dose", "clients": clients}, workdir)
        result: dict[str, Any] = {
            "label": label,
            "workers": workers,
            "healthz": healthz,
            "diary": diary,
            "dose": dose,
            "rss_idle_mib": round(idle_kib / 1024, 1),
            "rss_peak_mib": round(sampler.peak_kib / 1024, 1),
            "rss_peak_process_mib": round(sampler.peak_process_kib / 1024, 1),
            "processes": len(server.pids()),
        }
    for kind in ("diary", "dose"):
        r = result[kind]
        r["ratio_to_healthz"] = (
            round(r["throughput_rps"] / healthz["throughput_rps"], 3)
            if healthz["throughput_rps"]
            else 0.0
        )
    log(
        f"  healthz {healthz['throughput_rps']}/s, diary {diary['throughput_rps']}/s "
        f"p99 {diary['p99_ms']} ms, dose {dose['throughput_rps']}/s p99 {dose['p99_ms']} ms, "
        f"RSS peak {result['rss_peak_mib']} MiB"
    )
    return result


def run(today: date, now: datetime, password_hash: str, *, duration: float) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory(prefix="painpath-bench-") as tmp:
        workdir = Path(tmp)
        # PostgreSQL: one process, then two worker processes, each on its own patients.
        url = fresh_pg_database("painpath_bench_writes")
        log("writes: loading 2,000 patients into PostgreSQL")
        _prepare(url, today, now, password_hash)
        env = {"PAINPATH_DATABASE_URL": url, "PAINPATH_DATA_DIR": str(workdir / "pg")}
        half = WRITE_PATIENTS // 2
        results.append(
            run_one(
                "PostgreSQL, 1 process",
                env,
                url,
                range(0, half),
                today,
                workdir,
                workers=1,
                duration=duration,
            )
        )
        results.append(
            run_one(
                "PostgreSQL, --workers 2",
                env,
                url,
                range(half, WRITE_PATIENTS),
                today,
                workdir,
                workers=2,
                duration=duration,
            )
        )
        # SQLite: the embedded default.
        data_dir = workdir / "sqlite"
        data_dir.mkdir()
        sqlite_url = f"sqlite:///{data_dir / 'painpath.db'}"
        log("writes: loading 2,000 patients into SQLite")
        _prepare(sqlite_url, today, now, password_hash)
        results.append(
            run_one(
                "SQLite, 1 process",
                {"PAINPATH_DATA_DIR": str(data_dir), "PAINPATH_DATABASE_URL": ""},
                sqlite_url,
                range(0, half),
                today,
                workdir,
                workers=1,
                duration=duration,
            )
        )
    return results


def now_utc() -> datetime:
    return datetime.now(UTC)
