"""Database engine, the UTC column type, the declarative base and the unit of work.

SQLite follows SQLAlchemy's documented recipe for pysqlite (no implicit
transactions, ``BEGIN IMMEDIATE`` on begin) with WAL, ``synchronous=FULL``,
foreign keys and a busy timeout. PostgreSQL uses psycopg 3.
"""

from __future__ import annotations

import uuid
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


def _sqlite_on_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


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
        event.listen(engine, "begin", _sqlite_on_begin)
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
