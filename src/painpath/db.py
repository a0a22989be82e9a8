"""Database engine, the UTC column type, the declarative base and the unit of work.

SQLite follows SQLAlchemy's documented recipe for pysqlite (no implicit
transactions, ``BEGIN IMMEDIATE`` on begin) with WAL, ``synchronous=FULL``,
foreign keys and a busy timeout, and the transactions of one process take turns at
SQLite's writer lock in the order they asked (:class:`WriterQueue`). PostgreSQL uses
psycopg 3.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Engine,
    MetaData,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from painpath.kit.errors import ConfigurationError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC on every engine; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: PainPath stores times with a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


WRITER_QUEUE_SECONDS = 15.0


class WriterQueue:
    """Turns at SQLite's one writer lock for the transactions of one process, first come
    first served.

    Every PainPath transaction on SQLite starts with ``BEGIN IMMEDIATE`` (even a read
    writes its audit event). Left to SQLite, a transaction that finds the lock taken
    sleeps and retries in SQLite's busy handler, which serves nobody in order: under 16
    concurrent clients most requests took 8 ms and a few waited more than a second
    (docs/benchmarks.md). Here the waiting is done in order, in this process, and only
    the transaction whose turn it is asks SQLite; other processes (the worker, a second
    server) still meet the busy handler. A transaction that waits longer than
    ``WRITER_QUEUE_SECONDS`` goes to SQLite without its turn, as before."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: deque[tuple[object, threading.Event]] = deque()
        self._holder: object | None = None

    def acquire(self, owner: object, timeout: float = WRITER_QUEUE_SECONDS) -> bool:
        with self._lock:
            if self._holder is None and not self._waiting:
                self._holder = owner
                return True
            turn = threading.Event()
            self._waiting.append((owner, turn))
        if turn.wait(timeout):
            return True
        with self._lock:
            if turn.is_set():  # handed over just as the wait ended
                return True
            self._waiting.remove((owner, turn))
            return False

    def release(self, owner: object) -> None:
        """Pass the turn on, if ``owner`` holds it (a no-op otherwise)."""
        with self._lock:
            if self._holder is not owner:
                return
            if self._waiting:
                self._holder, turn = self._waiting.popleft()
                turn.set()
            else:
                self._holder = None


# each SQLite engine's queue, by its dialect (one per engine; gone with the engine)
_WRITER_QUEUES: weakref.WeakKeyDictionary[Dialect, WriterQueue] = weakref.WeakKeyDictionary()


def writer_queue(engine: Engine) -> WriterQueue | None:
    """The queue of a SQLite engine's transactions (None on PostgreSQL)."""
    return _WRITER_QUEUES.get(engine.dialect)


def _dbapi(connection: Any) -> object:
    return getattr(connection, "dbapi_connection", None) or connection


def _take_sqlite_turns(engine: Engine) -> None:
    queue = WriterQueue()
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def on_begin(conn: Any) -> None:
        queue.acquire(_dbapi(conn.connection))
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            queue.release(_dbapi(dbapi_connection))

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            queue.release(_dbapi(dbapi_connection))

    def on_close(dbapi_connection: Any, _record: Any) -> None:
        queue.release(dbapi_connection)

    _WRITER_QUEUES[dialect] = queue
    event.listen(engine, "begin", on_begin)
    event.listen(engine.pool, "close", on_close)
    event.listen(engine.pool, "invalidate", lambda c, _r, _e: queue.release(c))
    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]


def make_engine(url: str, *, pool_size: int = 20) -> Engine:
    """Create the engine for ``url`` (no connection is made yet). A URL that is not a
    SQLite or PostgreSQL URL is a :class:`ConfigurationError` (the URL, which may hold a
    password, is not repeated)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(
            "PAINPATH_DATABASE_URL is not a database URL: use one like "
            "postgresql+psycopg://USER@HOST:5432/DATABASE"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigurationError(
            f"PAINPATH_DATABASE_URL names a {parsed.get_backend_name()!r} database: PainPath "
            "runs on PostgreSQL (postgresql+psycopg://USER@HOST:5432/DATABASE) or SQLite"
        )
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 15},
            pool_size=pool_size,
            max_overflow=10,
            pool_timeout=30,
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        _take_sqlite_turns(engine)
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=10,
        pool_timeout=30,
        pool_pre_ping=True,
    )


def backend_name(engine: Engine) -> str:
    return "postgresql" if engine.dialect.name == "postgresql" else "sqlite"


def check_durability(engine: Engine) -> None:
    """Refuse to run on settings that could lose acknowledged writes."""
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
                sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
                fks = conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
                if str(mode).lower() != "wal":
                    raise ConfigurationError(f"SQLite journal_mode is {mode}, PainPath needs wal")
                if int(sync or 0) != 2:
                    raise ConfigurationError(
                        f"SQLite synchronous is {sync}, PainPath needs 2 (FULL)"
                    )
                if int(fks or 0) != 1:
                    raise ConfigurationError("SQLite foreign_keys is off, PainPath needs it on")
                busy = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
                if int(busy or 0) <= 0:
                    raise ConfigurationError(
                        "SQLite busy_timeout is 0: a second writer would fail at once instead "
                        "of waiting; PainPath needs a busy timeout"
                    )
            else:
                fsync = conn.execute(text("SHOW fsync")).scalar()
                sc = conn.execute(text("SHOW synchronous_commit")).scalar()
                fpw = conn.execute(text("SHOW full_page_writes")).scalar()
                if fsync != "on":
                    raise ConfigurationError("PostgreSQL fsync is off; PainPath needs fsync=on")
                # The battery's R-4: on, or remote_apply where there are standbys.
                if sc not in ("on", "remote_apply"):
                    raise ConfigurationError(
                        f"PostgreSQL synchronous_commit is {sc}; PainPath needs on (or "
                        "remote_apply)"
                    )
                if fpw != "on":
                    raise ConfigurationError("PostgreSQL full_page_writes is off; needs on")
    except OperationalError as exc:
        raise ConfigurationError(
            f"cannot reach the database ({describe_url(str(engine.url))}): "
            f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}"
        ) from None


def describe_url(url: str) -> str:
    """The database URL without any password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def utcnow() -> datetime:
    return datetime.now(UTC)
