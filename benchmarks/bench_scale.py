"""2, 3, 4 and 6 on one growing PostgreSQL database: the caseload of a GP with 2,000
patients at 10,000 and at 100,000 patients, "Does it help?", the appointment report
(PDF) and the bulk load against PostgreSQL's own COPY."""

from __future__ import annotations

import contextlib
import gc
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx2
import population
from common import (
    Server,
    Timings,
    fresh_pg_database,
    log,
    migrate_db,
    open_sessions,
    pg_database_size,
    pg_url,
    serve,
)
from sqlalchemy import Engine, func, select, text

from painpath.db import make_engine, make_session_factory
from painpath.demo import bulk

DATABASE = "painpath_bench_scale"


@dataclass(frozen=True)
class Scale:
    """How big: the first step, the second, and the history of everyone but the caseload."""

    small: int
    large: int
    other_days: int
    caseload_days: int = 365
    http_requests: int = 40

    def describe(self) -> str:
        return (
            f"{self.small:,} then {self.large:,} patients; the GP's {population.CASELOAD:,} "
            f"patients with {self.caseload_days} days of history each, every other patient "
            f"with {self.other_days} days"
        )


REDUCED = Scale(small=10_000, large=100_000, other_days=21)
FULL = Scale(small=10_000, large=100_000, other_days=365)


# ------------------------------------------------------------------ sizes


def table_counts(engine: Engine) -> dict[str, int]:
    out = {}
    with engine.connect() as conn:
        for table in ("patients", "diary_entries", "dose_events", "questionnaire_responses"):
            # the planner's estimate after ANALYZE: exact counts of 30 M rows take a while
            row = conn.execute(
                text("SELECT reltuples::bigint FROM pg_class WHERE relname = :t"), {"t": table}
            ).scalar()
            out[table] = int(row or 0)
        out["patients"] = int(conn.execute(text("SELECT count(*) FROM patients")).scalar() or 0)
    return out


# ------------------------------------------------------------------ HTTP timings


def _time_get(client: httpx2.Client, url: str, token: str, n: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/html,application/json"}
    for _ in range(3):  # warm the caches and the connection pool
        r = client.get(url, headers=headers)
        r.raise_for_status()
    timings = Timings()
    size = 0
    for _ in range(n):
        started = time.perf_counter()
        r = client.get(url, headers=headers)
        timings.add(time.perf_counter() - started)
        r.raise_for_status()
        size = len(r.content)
    return {**timings.summary(), "bytes": size}


def measure_caseload(server: Server, token: str, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with httpx2.Client(base_url=server.base, timeout=60) as client:
        out["dashboard page 1"] = _time_get(client, "/caseload", token, n)
        out["dashboard page 20"] = _time_get(client, "/caseload?page=20", token, n)
        out["dashboard needs attention"] = _time_get(client, "/caseload?attention=1", token, n)
        out["GET /api/v1/patients"] = _time_get(client, "/api/v1/patients", token, n)
        # a page deep in the list: follow "next" 10 times, then time that page
        url = "/api/v1/patients?limit=100"
        headers = {"Authorization": f"Bearer {token}"}
        for _ in range(10):
            nxt = client.get(url, headers=headers).json()["next"]
            if not nxt:
                break
            url = nxt.replace(server.base, "")
        out["GET /api/v1/patients, page 11 of 100"] = _time_get(client, url, token, n)
    return out


# ------------------------------------------------------------------ in process


def measure_cpu(url: str, token: str, n: int) -> dict[str, Any]:
    """The same pages in this process (routes called inline, no thread pool): wall time
    and this process's CPU time per request. CPU time hardly depends on what else runs
    on the machine, so it is the figure to compare across noisy runs."""
    import asyncio

    import fastapi.dependencies.utils
    import fastapi.routing

    from painpath.app import create_app
    from painpath.config import Settings

    async def inline(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    setattr(fastapi.routing, "run_in_threadpool", inline)  # noqa: B010
    setattr(fastapi.dependencies.utils, "run_in_threadpool", inline)  # noqa: B010
    app = create_app(Settings(database_url=url))
    headers = {"Authorization": f"Bearer {token}"}

    async def go(path: str, count: int) -> tuple[Timings, Timings]:
        wall, cpu = Timings(), Timings()
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as client:
            for _ in range(count):
                started, cpu_started = time.perf_counter(), time.process_time()
                r = await client.get(path, headers=headers)
                wall.add(time.perf_counter() - started)
                cpu.add(time.process_time() - cpu_started)
                r.raise_for_status()
        return wall, cpu

    out: dict[str, Any] = {}
    for name, path in (
        ("dashboard page 1", "/caseload"),
        ("GET /api/v1/patients", "/api/v1/patients"),
    ):
        asyncio.run(go(path, 3))
        wall, cpu = asyncio.run(go(path, n))
        out[name] = {
            "wall_p50_ms": wall.summary()["p50_ms"],
            "cpu_p50_ms": cpu.summary()["p50_ms"],
            "cpu_p95_ms": cpu.summary()["p95_ms"],
        }
    engine = app.state.painpath.engine
    engine.dispose()
    return out


@contextlib.contextmanager
def _session(engine: Engine) -> Iterator[Any]:
    factory = make_session_factory(engine)
    db = factory()
    try:
        yield db
    finally:
        db.rollback()
        db.close()


def _timed(fn: Callable[[], object], n: int) -> dict[str, float]:
    fn()  # warm
    timings = Timings()
    for _ in range(n):
        started = time.perf_counter()
        fn()
        timings.add(time.perf_counter() - started)
    return timings.summary()


def measure_response(
    engine: Engine, today: date, now: datetime, *, whole_caseload: bool, patients: int
) -> dict[str, Any]:
    """course_result for one patient with a year of data; for the whole caseload, the
    batch path the outcomes export runs (course_results), the same one patient at a time
    as before it, and the outcomes CSV itself."""
    from painpath.diary.models import DiaryEntry
    from painpath.response.service import course_result, course_results

    # This process has built the application (measure_cpu): freeze what is alive now out
    # of the collector's way, as `painpath serve` does once it has built it.
    gc.collect()
    gc.freeze()
    out: dict[str, Any] = {}
    index = 0  # patient 0 is in the caseload: a year of data
    pid, rx = population.patient_id(index), population.prescription_id(index)
    with _session(engine) as db:
        out["diary_days"] = db.scalar(
            select(func.count()).select_from(DiaryEntry).where(DiaryEntry.patient_id == pid)
        )
        out["one patient"] = _timed(lambda: course_result(db, pid, rx, today), 30)
    if not whole_caseload:
        return out
    members = [i for i in range(patients) if population.in_caseload(i)]
    courses = [(population.patient_id(i), population.prescription_id(i)) for i in members]
    with _session(engine) as db:
        started = time.perf_counter()
        results = course_results(db, courses, today=today)
        seconds = time.perf_counter() - started
    out["whole caseload"] = {
        "patients": len(members),
        "seconds": round(seconds, 2),
        "categories": _categories(results.values()),
        "path": "painpath.response.service.course_results (what the outcomes export runs)",
    }
    with _session(engine) as db:
        started = time.perf_counter()
        single = [course_result(db, p, r, today) for p, r in courses]
        seconds = time.perf_counter() - started
    out["one by one"] = {
        "patients": len(members),
        "seconds": round(seconds, 2),
        "same_categories": _categories(single) == out["whole caseload"]["categories"],
    }
    out["outcomes csv"] = measure_outcomes_csv(engine, now)
    return out


def _categories(results: Iterable[dict[str, Any]]) -> dict[str, int]:
    categories: dict[str, int] = {}
    for result in results:
        category = str(result.get("category"))
        categories[category] = categories.get(category, 0) + 1
    return dict(sorted(categories.items()))


def measure_outcomes_csv(engine: Engine, now: datetime) -> dict[str, Any]:
    """The caseload outcomes CSV of Dr Bench (GET /api/v1/caseload/outcomes.csv) in
    process: the caseload pages, "does it help?" and the CSV."""
    from painpath.auth.domain import Actor, Role
    from painpath.interop.service import caseload_outcomes_csv
    from painpath.kit.records import Ctx

    gp = population.BENCH_GP
    actor = Actor(
        user_id=gp.user_id, role=Role.CLINICIAN, display_name=gp.name, clinician_id=gp.clinician_id
    )
    with _session(engine) as db:
        started = time.perf_counter()
        text_csv = caseload_outcomes_csv(db, actor, Ctx(now=now, request_id="bench"))
        seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "rows": text_csv.count("\n") - 1}


def measure_report(engine: Engine, now: datetime) -> dict[str, Any]:
    """The appointment report (PDF) for a patient with a year of data."""
    try:
        from painpath.interop import service as interop
    except ImportError as exc:
        return {"measured": False, "why": f"painpath.interop is not there ({exc})"}
    export: Callable[..., bytes] | None = getattr(interop, "export_report_pdf", None)
    if export is None:
        return {"measured": False, "why": "painpath.interop has no export_report_pdf yet"}
    from painpath.kit.records import Ctx

    pid = population.patient_id(0)
    ctx = Ctx(now=now, request_id="bench")
    with _session(engine) as db:
        started = time.perf_counter()
        pdf = export(db, ctx, pid)
        first = time.perf_counter() - started
        timings = Timings()
        for _ in range(5):
            started = time.perf_counter()
            pdf = export(db, ctx, pid)
            timings.add(time.perf_counter() - started)
    return {
        "measured": True,
        "first_ms": round(first * 1000, 1),
        **timings.summary(),
        "bytes": len(pdf),
        "path": "painpath.interop.service.export_report_pdf (what `painpath report pdf` runs)",
    }


# ------------------------------------------------------------------ the COPY limit


def copy_limit(url: str, tables: tuple[str, ...], limit_rows: int) -> dict[str, Any]:
    """PostgreSQL's own COPY of rows already in the database into an empty table with the
    same columns, indexes and constraints (no foreign keys), as the upper bound."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    out: dict[str, Any] = {}
    with psycopg.connect(dsn) as conn:
        for table in tables:
            data = bytearray()
            with (
                conn.cursor() as cur,
                cur.copy(
                    f"COPY (SELECT * FROM {table} LIMIT {int(limit_rows)}) TO STDOUT".encode()  # noqa: S608
                ) as copy,
            ):
                for chunk in copy:
                    data += chunk
            rows = data.count(b"\n")
            clone = f"bench_copy_{table}"
            conn.execute(f"DROP TABLE IF EXISTS {clone}".encode())
            conn.execute(f"CREATE TABLE {clone} (LIKE {table} INCLUDING ALL)".encode())
            conn.commit()
            started = time.perf_counter()
            with conn.cursor() as cur, cur.copy(f"COPY {clone} FROM STDIN".encode()) as copy:
                view = memoryview(data)
                for i in range(0, len(view), 1 << 20):
                    copy.write(view[i : i + (1 << 20)])
            conn.commit()
            seconds = time.perf_counter() - started
            conn.execute(f"DROP TABLE {clone}".encode())
            conn.commit()
            out[table] = {
                "rows": rows,
                "seconds": round(seconds, 2),
                "rows_per_second": round(rows / seconds) if seconds else 0,
                "mib": round(len(data) / 1024 / 1024, 1),
            }
    return out


# ------------------------------------------------------------------ the run


def run(
    scale: Scale, today: date, now: datetime, password_hash: str, *, keep: bool
) -> dict[str, Any]:
    url = fresh_pg_database(DATABASE)
    migrate_db(url)
    engine = make_engine(url, pool_size=2)
    bulk.load_staff(engine, population.staff(scale.large), password_hash=password_hash, now=now)
    days = population.Days(others=scale.other_days, caseload=scale.caseload_days)
    result: dict[str, Any] = {"scale": scale.describe(), "steps": []}
    bench_gp_token = ""
    loads: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="painpath-bench-") as tmp:
        workdir = Path(tmp)
        env = {"PAINPATH_DATABASE_URL": url, "PAINPATH_DATA_DIR": str(workdir)}
        first = 0
        for target in (scale.small, scale.large):
            log(f"scale: loading patients {first:,}–{target - 1:,} ({days})")
            stats = population.load(
                engine,
                first=first,
                count=target - first,
                days=days,
                today=today,
                now=now,
                password_hash=password_hash,
                workers=2,
            )
            loads.append({**stats.as_dict(), "range": f"{first:,}–{target - 1:,}"})
            log(f"  loaded {stats.total_rows:,} rows in {stats.seconds:.0f} s")
            first = target
            started = time.perf_counter()
            bulk.analyze(engine)
            analyze_s = time.perf_counter() - started
            if not bench_gp_token:
                bench_gp_token = open_sessions(url, [population.BENCH_GP.user_id])[0]
            counts = table_counts(engine)
            step: dict[str, Any] = {
                "patients": target,
                "counts": counts,
                "database_mib": round(pg_database_size(DATABASE) / 1024 / 1024),
                "analyze_s": round(analyze_s, 1),
            }
            log(f"scale: {target:,} patients, {counts}; timing the caseload")
            with serve(env, workdir, tag=f"scale-{target}") as server:
                step["caseload"] = measure_caseload(server, bench_gp_token, scale.http_requests)
            step["caseload_cpu"] = measure_cpu(url, bench_gp_token, scale.http_requests)
            last = target == scale.large
            log("scale: Does it help?")
            step["response"] = measure_response(
                engine, today, now, whole_caseload=last, patients=target
            )
            if last:
                log("scale: the report (PDF)")
                step["report"] = measure_report(engine, now)
            result["steps"].append(step)
    log("scale: PostgreSQL's own COPY of the same rows")
    result["loads"] = loads
    result["copy_limit"] = copy_limit(url, bulk.DAILY_TABLES, 1_000_000)
    engine.dispose()
    if not keep:
        from common import drop_pg_database

        drop_pg_database(DATABASE)
    return result


def existing_url() -> str:
    return pg_url(DATABASE)
