"""Tools for the reliability tests: real `painpath serve` / `painpath worker` processes on a
fresh database, people and prescriptions made through the services, HTTP clients that
retry with the same id and body, and storage checks (SQLite integrity_check, PostgreSQL
amcheck, the audit hash chain).

Everything talks to 127.0.0.1 only, and every wait has a deadline.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx2 as httpx
from sqlalchemy import Engine, inspect, text, update
from sqlalchemy.orm import Session, sessionmaker

from painpath import migrate
from painpath.auth.domain import Actor, Role
from painpath.auth.models import UserSession
from painpath.db import make_engine, make_session_factory
from painpath.kit.records import Ctx
from painpath.medication import service as medication
from painpath.medication.schemas import PrescriptionCreate, ScheduleStepIn
from tests.conftest import drop_database, fresh_database_url
from tests.factories import PASSWORD, Person, in_care_team, person, unused_totp_code

BIN = Path(sys.executable).parent
LONDON = ZoneInfo("Europe/London")
# Bytecode cached outside the working tree, in a folder only this user can write: a
# restarted server imports in a few seconds instead of compiling every module again (the
# suite may run with PYTHONDONTWRITEBYTECODE).
PYCACHE = Path(tempfile.gettempdir()) / f"painpath-reliability-pycache-{os.getuid()}"


def _pycache() -> str:
    PYCACHE.mkdir(mode=0o700, exist_ok=True)
    if PYCACHE.stat().st_uid != os.getuid() or PYCACHE.stat().st_mode & 0o022:
        raise RuntimeError(f"{PYCACHE} is not private to this user")
    return str(PYCACHE)


@cache
def openapi() -> dict[str, Any]:
    """The application's OpenAPI description (made without touching any database)."""
    from painpath.app import create_app
    from painpath.config import Settings

    spec: dict[str, Any] = create_app(Settings(database_url="sqlite:///unused.db")).openapi()
    return spec


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def london_today() -> date:
    return datetime.now(UTC).astimezone(LONDON).date()


# ----------------------------------------------------------------------------- databases


@dataclass
class FreshDatabase:
    backend: str
    url: str
    data_dir: Path
    token: object
    engines: list[Engine] = field(default_factory=list)

    def engine(self, pool_size: int = 5) -> Engine:
        engine = make_engine(self.url, pool_size=pool_size)
        self.engines.append(engine)
        return engine

    def factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine())

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a child process: this database and nothing else of ours."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAINPATH_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = _pycache()
        env["PAINPATH_DATABASE_URL"] = self.url
        env["PAINPATH_DATA_DIR"] = str(self.data_dir)
        env.update(extra)
        return env

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()
        drop_database(self.token)


@contextmanager
def fresh_database(backend: str, tmp: Path) -> Iterator[FreshDatabase]:
    """A new database at the current schema, dropped afterwards."""
    url, token = fresh_database_url(backend, tmp)
    fresh = FreshDatabase(backend, url, tmp, token)
    try:
        migrate.upgrade(url)
        yield fresh
    finally:
        fresh.close()


# ----------------------------------------------------------------------------- processes


class Process:
    """A `painpath` child process in its own process group, logging to a file."""

    def __init__(self, args: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.args = list(args)
        self.env = env
        self.log_path = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts + 1}: {' '.join(self.args)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.args,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.starts += 1

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum: int) -> None:
        if self.running and self.proc is not None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signum)

    def kill(self) -> None:
        """SIGKILL to the whole group: no cleanup, no rollback, no goodbye."""
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=30)

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not stop in time. The exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Server(Process):
    """`painpath serve` on 127.0.0.1:PORT."""

    def __init__(self, fresh: FreshDatabase, name: str = "server", *extra: str) -> None:
        self.port = free_port()
        super().__init__(
            [
                str(BIN / "painpath"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *extra,
            ],
            fresh.env(),
            fresh.data_dir / f"{name}.log",
        )
        self.base_url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 90) -> float:
        """Wait for /healthz to answer 200; the seconds it took."""
        began = time.monotonic()
        deadline = began + timeout
        while True:
            try:
                r = httpx.get(f"{self.base_url}/healthz", timeout=2)
                if r.status_code == 200:
                    return time.monotonic() - began
            except httpx.HTTPError:
                pass
            if not self.running:
                raise RuntimeError(f"the server stopped while starting:\n{self.log_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start in {timeout} s:\n{self.log_text()}")
            time.sleep(0.1)

    def restart(self) -> float:
        self.start()
        return self.wait_ready()


def worker_args(interval: float = 1.0) -> list[str]:
    """The continuous reminders worker: `painpath worker` when the command is wired in,
    else the same command function run through Typer directly."""
    from painpath.cli import app, mount_area_commands

    mount_area_commands()
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    if "worker" in names:
        return [str(BIN / "painpath"), "worker", "--interval", f"{interval:g}"]
    shim = (
        "import typer\n"
        "from painpath.reminders.cli import worker_command\n"
        "app = typer.Typer(add_completion=False)\n"
        "app.command()(worker_command)\n"
        "app()\n"
    )
    return [sys.executable, "-c", shim, "--interval", f"{interval:g}"]


# ----------------------------------------------------------------------------- people


@dataclass
class Population:
    clinicians: list[Person]
    patients: list[Person]
    prescriptions: dict[uuid.UUID, uuid.UUID]  # patient id -> prescription id
    admins: list[Person] = field(default_factory=list)


def clinician_actor(who: Person) -> Actor:
    return Actor(
        user_id=who.user_id,
        role=Role.CLINICIAN,
        display_name="Dr Reliability",
        clinician_id=who.clinician_id,
    )


def seed(
    fresh: FreshDatabase,
    patients: int,
    *,
    clinicians: int = 1,
    teams: int = 1,
    admins: int = 0,
    dose_time: str = "08:00",
) -> Population:
    """Patient i in the care team of clinician ``i % teams`` (clinicians from ``teams`` on
    are in no team), each patient with a duloxetine prescription at 60 mg a day taken at
    ``dose_time``; and ``admins`` administrators."""
    factory = fresh.factory()
    now = datetime.now(UTC)
    with factory() as db:
        staff = [person(db, Role.CLINICIAN, f"Dr Reliable {i}") for i in range(clinicians)]
        people = [person(db, Role.PATIENT, f"Patient Reliable {i}") for i in range(patients)]
        admin = [person(db, Role.ADMIN, f"Admin Reliable {i}") for i in range(admins)]
        for i, p in enumerate(people):
            in_care_team(db, p, staff[i % teams])
        db.commit()
    prescriptions: dict[uuid.UUID, uuid.UUID] = {}
    with factory() as db:
        for i, p in enumerate(people):
            assert p.patient_id
            rx, _ = medication.create_prescription(
                db,
                clinician_actor(staff[i % teams]),
                Ctx(now=now),
                p.patient_id,
                PrescriptionCreate(
                    id=uuid.uuid4(),
                    medicine="duloxetine",
                    schedule=[
                        ScheduleStepIn(start=london_today() - timedelta(days=30), daily_dose_mg=60)
                    ],
                    dose_times=[dose_time],
                    indication="chronic low back pain",
                ),
            )
            prescriptions[p.patient_id] = rx.id
        db.commit()
    return Population(staff, people, prescriptions, admin)


def login(base_url: str, who: Person) -> dict[str, str]:
    """Sign in over HTTP; the bearer header."""
    body: dict[str, str] = {"email": who.email, "password": PASSWORD}
    if who.totp_secret:
        body["totp"] = unused_totp_code(who.totp_secret)
    r = httpx.post(f"{base_url}/api/v1/auth/login", json=body, timeout=60)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


# ----------------------------------------------------------------------------- writes


@dataclass
class Write:
    """One client-made record: the same id and body on every attempt."""

    kind: str
    path: str
    body: dict[str, Any]
    attempts: int = 0
    status: int | None = None
    response: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        return str(self.body["id"])


def phq9_answers(rng: Any, self_harm: bool) -> list[int]:
    answers = [rng.randint(0, 3) for _ in range(8)]
    return [*answers, rng.randint(1, 3) if self_harm else 0]


def diary_write(pid: uuid.UUID, day: date, rng: Any) -> Write:
    return Write(
        "diary",
        f"/api/v1/patients/{pid}/diary-entries",
        {
            "id": str(uuid.uuid4()),
            "date": day.isoformat(),
            "pain": rng.randint(0, 10),
            "sleep_interference": rng.randint(0, 10),
            "notes": f"day {day.isoformat()}",
        },
    )


def dose_write(pid: uuid.UUID, rng: Any) -> Write:
    taken = datetime.now(UTC) - timedelta(minutes=rng.randint(5, 48 * 60))
    return Write(
        "dose",
        f"/api/v1/patients/{pid}/dose-events",
        {
            "id": str(uuid.uuid4()),
            "status": rng.choice(["taken", "taken", "taken", "missed", "late"]),
            "taken_at": taken.isoformat(timespec="seconds"),
        },
    )


def phq9_write(pid: uuid.UUID, rng: Any, self_harm: bool) -> Write:
    return Write(
        "phq9",
        f"/api/v1/patients/{pid}/questionnaire-responses",
        {"id": str(uuid.uuid4()), "instrument": "phq9", "answers": phq9_answers(rng, self_harm)},
    )


@dataclass
class Tally:
    """What one client saw."""

    attempted: int = 0
    requests: int = 0
    acknowledged: int = 0
    retried: int = 0  # writes that needed more than one attempt
    replayed: int = 0  # acknowledged with 200: an earlier attempt had been stored
    connection_errors: int = 0
    server_errors: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # 4xx: a defect in this harness or app

    def add(self, other: Tally) -> None:
        self.attempted += other.attempted
        self.requests += other.requests
        self.acknowledged += other.acknowledged
        self.retried += other.retried
        self.replayed += other.replayed
        self.connection_errors += other.connection_errors
        self.server_errors += other.server_errors
        self.refused += other.refused


class Journal:
    """An append-only file of acknowledged writes (one JSON line each, flushed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def acknowledged(self, write: Write) -> None:
        line = json.dumps({"kind": write.kind, "id": write.id, "status": write.status})
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        self._file.close()

    @staticmethod
    def read(paths: Sequence[Path]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for p in paths:
            out += [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
        return out


def send_until_acknowledged(
    client: httpx.Client,
    base_urls: Sequence[str],
    headers: dict[str, str],
    write: Write,
    tally: Tally,
    journal: Journal,
    deadline: float,
) -> bool:
    """POST the write, with the same id and body, until a 2xx arrives (or the deadline)."""
    tally.attempted += 1
    while time.monotonic() < deadline:
        base = base_urls[write.attempts % len(base_urls)]
        write.attempts += 1
        tally.requests += 1
        try:
            r = client.post(base + write.path, json=write.body, headers=headers, timeout=30)
        except httpx.HTTPError:
            tally.connection_errors += 1
            time.sleep(0.05 if len(base_urls) > 1 else 0.2)
            continue
        if 200 <= r.status_code < 300:
            write.status = r.status_code
            write.response = r.json()
            tally.acknowledged += 1
            if write.attempts > 1:
                tally.retried += 1
            if r.status_code == 200:
                tally.replayed += 1
            journal.acknowledged(write)
            return True
        if r.status_code >= 500:
            tally.server_errors.append(f"{r.status_code} {write.kind}: {r.text[:200]}")
            time.sleep(0.2)
            continue
        tally.refused.append(f"{r.status_code} {write.kind} {write.body}: {r.text[:300]}")
        return False
    return False


# ----------------------------------------------------------------------------- checks


def storage_problems(engine: Engine) -> list[str]:
    """SQLite: integrity_check and foreign_key_check. PostgreSQL: amcheck on every table
    and B-tree index of the schema. An empty list when the storage is sound."""
    problems: list[str] = []
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            result = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
            if result != ["ok"]:
                problems += [f"integrity_check: {r}" for r in result]
            problems += [
                f"foreign_key_check: {tuple(r)}"
                for r in conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            ]
            return problems
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
        conn.commit()
        indexes = conn.execute(
            text(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE a.amname = 'btree' AND n.nspname = 'public' AND c.relkind = 'i'"
            )
        ).scalars()
        for name in list(indexes):
            try:
                conn.execute(
                    text("SELECT bt_index_check(to_regclass(:n), true)"), {"n": f'public."{name}"'}
                )
            except Exception as exc:
                problems.append(f"bt_index_check {name}: {exc}")
                conn.rollback()
        # the tables that hold rows: plain tables and the partitions of partitioned ones
        tables = conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r'"
            )
        ).scalars()
        for name in list(tables):
            rows = conn.execute(
                text("SELECT blkno, msg FROM verify_heapam(to_regclass(:n))"),
                {"n": f'public."{name}"'},
            ).fetchall()
            problems += [f"verify_heapam {name}: block {b}: {m}" for b, m in rows]
        conn.commit()
    return problems


def as_decimal(value: Any) -> Decimal:
    return Decimal(str(value))


# ----------------------------------------------------------------------------- a small world


ROLES = ("patient", "clinician", "admin", "other_patient", "other_clinician")


@dataclass
class World:
    """A live server on a fresh database with two patients in two care teams: patient A
    (``patient``) with clinician ``clinician``, patient B (``other_patient``) with
    ``other_clinician``; spare clinicians in no team (``spare_clinician(0..7)``, and one
    more for the concurrency tests); an administrator."""

    fresh: FreshDatabase
    server: Server
    population: Population
    headers: dict[str, dict[str, str]]
    client: httpx.Client
    _engine: Engine | None = None
    counters: dict[str, int] = field(default_factory=dict)  # for tests that number records
    people: dict[str, Person] = field(default_factory=dict)

    @property
    def patient_a(self) -> uuid.UUID:
        pid = self.population.patients[0].patient_id
        assert pid
        return pid

    @property
    def patient_b(self) -> uuid.UUID:
        pid = self.population.patients[1].patient_id
        assert pid
        return pid

    def spare_clinician(self, n: int) -> uuid.UUID:
        cid = self.population.clinicians[2 + n].clinician_id
        assert cid
        return cid

    def base(self, patient: str = "a") -> str:
        pid = self.patient_a if patient == "a" else self.patient_b
        return f"{self.server.base_url}/api/v1/patients/{pid}"

    def request(
        self, method: str, who: str, url: str, *, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        if not url.startswith("http"):
            url = self.server.base_url + url
        r = self.client.request(
            method, url, headers={**self.headers[who], **(headers or {})}, timeout=60, **kw
        )
        if r.status_code == 401 and who in self.people:  # the session went idle: sign in again
            self.headers[who] = login(self.server.base_url, self.people[who])
            r = self.client.request(
                method, url, headers={**self.headers[who], **(headers or {})}, timeout=60, **kw
            )
        return r

    def new_prescription(self, patient: str = "a") -> str:
        """A further duloxetine course (the duplicate warning overridden with a reason)."""
        who = "clinician" if patient == "a" else "other_clinician"
        body = {
            "id": str(uuid.uuid4()),
            "medicine": "duloxetine",
            "schedule": [{"start": london_today().isoformat(), "daily_dose_mg": 30}],
            "dose_times": ["08:00"],
            "indication": "chronic low back pain",
            "override_reason": "second course for a reliability test",
        }
        r = self.request("POST", who, f"{self.base(patient)}/prescriptions", json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def proved_just_now(self) -> None:
        """Every session proved its password and code just now (a step-up): concurrent
        rounds change doses and tapers, which need one in the last 5 minutes, and send
        their headers as they are (no sign-in again on a 401)."""
        with self.engine().begin() as conn:
            conn.execute(update(UserSession).values(reauth_at=datetime.now(UTC)))

    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = self.fresh.engine(pool_size=2)
        return self._engine

    def row_counts(self) -> dict[str, int]:
        """Rows in every table (audit events too)."""
        engine = self.engine()
        with engine.connect() as conn:
            names = sorted(n for n in inspect(conn).get_table_names() if n != "alembic_version")
            return {
                n: int(conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar() or 0)  # noqa: S608
                for n in names
            }


@contextmanager
def world_on(backend: str, tmp: Path) -> Iterator[World]:
    with fresh_database(backend, tmp) as fresh:
        population = seed(fresh, 2, clinicians=11, teams=2, admins=1)
        server = Server(fresh, "world")
        server.start()
        try:
            server.wait_ready()
            people = {
                "patient": population.patients[0],
                "clinician": population.clinicians[0],
                "admin": population.admins[0],
                "other_patient": population.patients[1],
                "other_clinician": population.clinicians[1],
            }
            headers = {role: login(server.base_url, p) for role, p in people.items()}
            with httpx.Client() as client:
                yield World(fresh, server, population, headers, client, people=people)
        finally:
            server.stop()


# ----------------------------------------------------------------------------- what is stored

KINDS = ("diary", "dose", "phq9")
AUDIT_TYPES = {"diary": "diary-entry", "dose": "dose-event", "phq9": "questionnaire-response"}


@dataclass
class Stored:
    """What the database holds for some patients' diary entries, dose events and PHQ-9s."""

    ids: dict[str, Counter[str]]  # kind -> id -> rows with that id
    responses: list[Any]  # QuestionnaireResponse rows
    diary: dict[str, Any]
    doses: dict[str, Any]
    item9_alerts: Counter[str]  # cause key -> alerts
    creates: Counter[str]  # record id -> "create" audit events
    chain_break: int | None
    audit_events: int

    def found(self) -> dict[str, int]:
        return {k: sum(c.values()) for k, c in self.ids.items()}

    def self_harm(self) -> list[Any]:
        return [r for r in self.responses if r.answers[8] > 0]


def stored(factory: sessionmaker[Session], patient_ids: Sequence[uuid.UUID | None]) -> Stored:
    from sqlalchemy import func, select

    from painpath.alerts.models import Alert
    from painpath.audit import service as audit
    from painpath.audit.models import AuditEvent
    from painpath.diary.models import DiaryEntry
    from painpath.medication.models import DoseEvent
    from painpath.questionnaires.models import QuestionnaireResponse

    pids = [p for p in patient_ids if p is not None]
    with factory() as db:
        diary = {
            str(e.id): e
            for e in db.scalars(select(DiaryEntry).where(DiaryEntry.patient_id.in_(pids)))
        }
        doses = {
            str(e.id): e
            for e in db.scalars(select(DoseEvent).where(DoseEvent.patient_id.in_(pids)))
        }
        responses = list(
            db.scalars(
                select(QuestionnaireResponse).where(QuestionnaireResponse.patient_id.in_(pids))
            )
        )
        ids = {
            "diary": Counter(
                str(i)
                for i in db.scalars(select(DiaryEntry.id).where(DiaryEntry.patient_id.in_(pids)))
            ),
            "dose": Counter(
                str(i)
                for i in db.scalars(select(DoseEvent.id).where(DoseEvent.patient_id.in_(pids)))
            ),
            "phq9": Counter(str(r.id) for r in responses),
        }
        alerts = Counter(
            db.scalars(
                select(Alert.cause_key).where(
                    Alert.patient_id.in_(pids), Alert.rule == "phq9-item9"
                )
            )
        )
        creates = Counter(
            str(r)
            for r in db.scalars(
                select(AuditEvent.resource_id).where(
                    AuditEvent.action == "create",
                    AuditEvent.outcome == "allowed",
                    AuditEvent.resource_type.in_(AUDIT_TYPES.values()),
                    AuditEvent.patient_id.in_(pids),
                )
            )
        )
        chain_break = audit.verify(db)
        count = int(db.scalar(select(func.count()).select_from(AuditEvent)) or 0)
    return Stored(ids, responses, diary, doses, alerts, creates, chain_break, count)


def assert_consistent(
    state: Stored, writes: dict[str, Write], acknowledged: set[str], *, everything: bool
) -> None:
    """Every acknowledged write is stored exactly once and nothing unknown is stored;
    with ``everything``, every write was acknowledged. Each stored record is whole: it
    matches what was sent (and what the client was told), a PHQ-9 has nine answers with
    its total and band as scored, an alert exactly when item 9 is above 0, and one
    "create" audit event; and the audit chain is intact."""
    from painpath.questionnaires.domain import score

    for kind, counts in state.ids.items():
        mine = {i for i in acknowledged if writes[i].kind == kind}
        missing = mine - set(counts)
        doubled = [i for i, n in counts.items() if n != 1]
        unknown = set(counts) - {i for i, w in writes.items() if w.kind == kind}
        assert not missing, f"{len(missing)} acknowledged {kind} writes are missing"
        assert not doubled, f"{kind} stored more than once: {doubled}"
        assert not unknown, f"{kind} rows that no client sent: {unknown}"
        if everything:
            assert set(counts) == {i for i, w in writes.items() if w.kind == kind}
    for r in state.responses:
        sent = writes[str(r.id)]
        assert list(r.answers) == sent.body["answers"], f"stored answers differ: {r.id}"
        assert len(r.answers) == 9, f"partial questionnaire {r.id}: {r.answers}"
        expected = score("phq9", r.answers)
        assert as_decimal(r.total) == as_decimal(expected.total) == sum(r.answers), r.id
        assert r.band == expected.band, r.id
        assert ("self-harm" in r.flags) == (r.answers[8] > 0), r.id
        if sent.response is not None:
            assert as_decimal(sent.response["total"]) == as_decimal(r.total)
    for i, e in state.doses.items():
        assert e.status == writes[i].body["status"], i
    for i, e in state.diary.items():
        assert (e.date.isoformat(), e.pain) == (writes[i].body["date"], writes[i].body["pain"])
    expected_alerts = {f"phq9-item9:{r.id}" for r in state.self_harm()}
    assert set(state.item9_alerts) == expected_alerts, "a self-harm answer without its alert"
    assert all(n == 1 for n in state.item9_alerts.values()), state.item9_alerts
    every_record = {i for counts in state.ids.values() for i in counts}
    assert set(state.creates) == every_record, "a record without its audit event, or the reverse"
    assert all(n == 1 for n in state.creates.values()), "a record audited twice"
    assert state.chain_break is None, f"the audit hash chain breaks at event {state.chain_break}"


def at_once(
    calls: Sequence[tuple[str, str, dict[str, Any]]],
) -> list[httpx.Response | BaseException]:
    """Send several requests (method, url, keyword arguments) at the same moment, each on
    its own connection and thread; the responses (or errors) in order."""
    barrier = threading.Barrier(len(calls))
    results: list[httpx.Response | BaseException] = [
        RuntimeError("no answer in time") for _ in calls
    ]

    def send(i: int) -> None:
        method, url, kwargs = calls[i]
        try:
            with httpx.Client() as client:
                barrier.wait(timeout=30)
                results[i] = client.request(method, url, timeout=60, **kwargs)
        except BaseException as exc:  # returned to the caller
            results[i] = exc

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    return results
