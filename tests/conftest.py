"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from PAINPATH_TEST_POSTGRES_URL (default: the local server,
user postgres); the tests create their own database and drop it afterwards.
When CI=true and PostgreSQL cannot be reached the run fails; otherwise the
PostgreSQL half is skipped with a loud warning.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from painpath import migrate
from painpath.db import make_engine

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


def _pg_admin_url() -> str:
    return os.environ.get("PAINPATH_TEST_POSTGRES_URL", DEFAULT_PG)


def _pg_dsn(url: str, database: str | None = None) -> str:
    u = make_url(url)
    if database:
        u = u.set(database=database)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_reachable() -> str | None:
    try:
        with psycopg.connect(_pg_dsn(_pg_admin_url()), connect_timeout=3):
            return None
    except Exception as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def pytest_configure(config: pytest.Config) -> None:
    problem = _pg_reachable()
    config.stash[_PG_PROBLEM] = problem
    if problem and os.environ.get("CI", "").lower() == "true":
        raise pytest.UsageError(
            f"PostgreSQL is not reachable at {make_url(_pg_admin_url()).render_as_string()}"
            f" ({problem}) and CI=true: the PostgreSQL half of the suite cannot be skipped"
        )


_PG_PROBLEM = pytest.StashKey[str | None]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problem = config.stash.get(_PG_PROBLEM, None)
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec else None
        if backend in BACKENDS:
            item.add_marker(getattr(pytest.mark, backend))
            if backend == "postgresql" and problem:
                item.add_marker(pytest.mark.skip(reason=f"PostgreSQL unreachable: {problem}"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts: dict[str, dict[str, int]] = {b: {} for b in BACKENDS}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") not in ("call", "setup"):
                continue
            if outcome == "passed" and report.when != "call":
                continue
            for backend in BACKENDS:
                if (
                    f"[{backend}" in report.nodeid
                    or f"-{backend}]" in report.nodeid
                    or (f"-{backend}-" in report.nodeid)
                ):
                    counts[backend][outcome] = counts[backend].get(outcome, 0) + 1
    terminalreporter.section("tests per database")
    for backend in BACKENDS:
        c = counts[backend]
        terminalreporter.write_line(
            f"{backend}: {c.get('passed', 0)} passed, {c.get('failed', 0)} failed, "
            f"{c.get('skipped', 0)} skipped, {c.get('error', 0)} errors"
        )
    problem = terminalreporter.config.stash.get(_PG_PROBLEM, None)
    if problem:
        terminalreporter.write_line(
            f"WARNING: PostgreSQL was unreachable ({problem}); its tests were SKIPPED.",
            red=True,
            bold=True,
        )


@dataclass
class Database:
    backend: str
    url: str
    engine: Engine


def _create_pg_database(prefix: str) -> tuple[str, str]:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_pg_dsn(_pg_admin_url()), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)
    return name, url


def _drop_pg_database(name: str) -> None:
    with psycopg.connect(_pg_dsn(_pg_admin_url()), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def fresh_database_url(backend: str, tmp: Path) -> tuple[str, object]:
    """A new empty database on ``backend``; returns (url, cleanup token)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'painpath.db'}", None
    name, url = _create_pg_database("painpath_test")
    return url, name


def drop_database(token: object) -> None:
    if isinstance(token, str):
        _drop_pg_database(token)


@pytest.fixture(scope="session")
def migrated_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A database migrated to head once per backend for the session."""
    url, token = fresh_database_url(backend, tmp_path_factory.mktemp(f"db-{backend}"))
    migrate.upgrade(url)
    engine = make_engine(url, pool_size=5)
    yield Database(backend=backend, url=url, engine=engine)
    engine.dispose()
    drop_database(token)


@pytest.fixture()
def session_factory(migrated_db: Database) -> Iterator[sessionmaker[Session]]:
    """Sessions bound to one connection whose outer transaction is rolled back after
    the test: commits inside the test become savepoints, so tests never see each other."""
    connection = migrated_db.engine.connect()
    outer = connection.begin()
    factory = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    try:
        yield factory
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture()
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    try:
        yield session
    finally:
        session.close()
