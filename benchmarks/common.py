"""What every benchmark needs: the machine, databases, a server, sessions, statistics."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PAINPATH = str(VENV_BIN / "painpath")
PYTHON = str(VENV_BIN / "python")
# A superuser connection that may create and drop the benchmark databases.
ADMIN_URL = os.environ.get(
    "PAINPATH_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def log(message: str) -> None:
    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    sys.stderr.write(f"[{stamp}] {message}\n")
    sys.stderr.flush()


# ------------------------------------------------------------------------ machine


def machine() -> dict[str, Any]:
    """nproc, memory, CPU model, the load just now and the software versions."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    pg = "unknown"
    with contextlib.suppress(Exception), admin_connection() as conn:
        values = {}
        for name in (
            "server_version",
            "shared_buffers",
            "work_mem",
            "max_connections",
            "synchronous_commit",
        ):
            row = conn.execute(f"SHOW {name}").fetchone()
            values[name] = row[0] if row else "?"
        version = values.pop("server_version")
        pg = f"{version} ({', '.join(f'{k}={v}' for k, v in values.items())})"
    import sqlite3

    return {
        "nproc": os.cpu_count() or 0,
        "cpu": cpu,
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "load": load_average(),
        "python": platform.python_version(),
        "postgresql": pg,
        "sqlite": sqlite3.sqlite_version,
        "kernel": platform.release(),
    }


def load_average() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


# ------------------------------------------------------------------------ databases


def _dsn(url: str, database: str | None = None) -> str:
    u = make_url(url)
    if database:
        u = u.set(database=database)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def admin_connection() -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(_dsn(ADMIN_URL), autocommit=True, connect_timeout=5) as conn:
        yield conn


def pg_url(name: str) -> str:
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


# The planner settings of the benchmark databases (see docs/benchmarks.md, "PostgreSQL
# settings"): the server's own defaults, except random_page_cost for SSD storage.
DATABASE_SETTINGS = {"random_page_cost": "1.1"}


def fresh_pg_database(name: str) -> str:
    """Drop and create ``name`` with DATABASE_SETTINGS; its SQLAlchemy URL."""
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        for setting, value in DATABASE_SETTINGS.items():
            conn.execute(f'ALTER DATABASE "{name}" SET {setting} = {value}')
    return pg_url(name)


def pg_database_exists(name: str) -> bool:
    with admin_connection() as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        return found is not None


def drop_pg_database(name: str) -> None:
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_database_size(name: str) -> int:
    with admin_connection() as conn:
        row = conn.execute("SELECT pg_database_size(%s)", (name,)).fetchone()
        return int(row[0]) if row else 0


def migrate_db(url: str) -> None:
    from painpath import migrate

    migrate.upgrade(url)


# ------------------------------------------------------------------------ sessions


def open_sessions(url: str, user_ids: Sequence[uuid.UUID], hours: int = 12) -> list[str]:
    """A signed-in session for each account, made directly in the database.

    Signing in (argon2id, 64 MiB) is not what these benchmarks measure and would
    take minutes for hundreds of accounts; the tokens work exactly like the ones
    ``POST /api/v1/auth/login`` returns (the same table, the same SHA-256).
    """
    from painpath.auth.models import UserSession
    from painpath.auth.service import hash_token
    from painpath.db import make_engine, make_session_factory, unit_of_work

    engine = make_engine(url, pool_size=1)
    now = datetime.now(UTC)
    tokens: list[str] = []
    with unit_of_work(make_session_factory(engine)) as db:
        for user_id in user_ids:
            token = secrets.token_urlsafe(32)
            tokens.append(token)
            db.add(
                UserSession(
                    token_hash=hash_token(token),
                    user_id=user_id,
                    csrf_token=secrets.token_urlsafe(16),
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + timedelta(hours=hours),
                    reauth_at=now,
                )
            )
    engine.dispose()
    return tokens


# ------------------------------------------------------------------------ the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def descendants(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc/*/stat)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    out: list[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def vm_rss_kib(pid: int) -> int:
    """VmRSS of a process from /proc/PID/status (psutil is not installed)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        """The serve process and its worker processes."""
        return [self.process.pid, *descendants(self.process.pid)]

    def rss_by_process(self) -> list[int]:
        return [vm_rss_kib(pid) for pid in self.pids()]

    def rss_kib(self) -> int:
        return sum(self.rss_by_process())


@contextlib.contextmanager
def serve(
    env: dict[str, str],
    workdir: Path,
    *,
    workers: int = 1,
    tag: str = "serve",
    python: str | None = None,
) -> Iterator[Server]:
    """``painpath serve`` in its own process, until the block ends (``python``: run this
    Python source instead, with ``{port}`` filled in: for experiments)."""
    port = free_port()
    log_path = workdir / f"{tag}-{port}.log"
    args = [PAINPATH, "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        args += ["--workers", str(workers)]
    if python is not None:
        args = [PYTHON, "-c", python.replace("{port}", str(port))]
    full_env = {**os.environ, **env}
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            args, env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, port, log_path)
    try:
        wait_ready(server, workers)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_ready(server: Server, workers: int, timeout: float = 240.0) -> None:
    import httpx2

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"painpath serve exited ({server.process.returncode}): "
                + server.log_path.read_text()[-2000:]
            )
        with contextlib.suppress(Exception):
            if httpx2.get(f"{server.base}/healthz", timeout=2).status_code == 200:
                if workers > 1:
                    time.sleep(3.0)  # every worker process has started
                return
        time.sleep(0.3)
    raise RuntimeError("painpath serve did not answer /healthz in time")


# ------------------------------------------------------------------------ statistics


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class Timings:
    """Latencies in milliseconds."""

    values: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.values.append(seconds * 1000)

    def summary(self) -> dict[str, float]:
        v = self.values
        return {
            "n": len(v),
            "p50_ms": round(percentile(v, 50), 2),
            "p95_ms": round(percentile(v, 95), 2),
            "p99_ms": round(percentile(v, 99), 2),
            "mean_ms": round(statistics.fmean(v), 2) if v else 0.0,
            "max_ms": round(max(v), 2) if v else 0.0,
        }


def run_loadgen(spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Run benchmarks/loadgen.py in another process with ``spec``; its JSON result."""
    path = workdir / f"loadgen-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(spec))
    done = subprocess.run(
        [PYTHON, str(Path(__file__).with_name("loadgen.py")), str(path)],
        capture_output=True,
        check=False,
        timeout=float(spec.get("duration", 10)) + float(spec.get("warmup", 2)) + 120,
    )
    path.unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(f"loadgen failed: {done.stderr.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result
