"""Alembic environment: runs against the engine of the settings (or one passed in)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import painpath.models  # noqa: F401  (registers every table)
from painpath.config import load_settings
from painpath.db import Base, make_engine
from painpath.partitions import include_name

config = context.config
target_metadata = Base.metadata


def run(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        _run_sqlite(connection)
        return
    _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_sqlite(connection: Connection) -> None:
    """SQLite's batch mode rebuilds a table (copy, DROP, rename). With foreign keys on,
    dropping a parent table deletes every row that points at it (ON DELETE CASCADE), so
    the migration runs with them off (only possible outside a transaction), and every
    foreign key is checked before they are switched on again."""
    raw = connection.connection.driver_connection
    if raw is None or connection.in_transaction():
        raise RuntimeError("SQLite migrations need a connection outside a transaction")
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        _run(connection)
        if connection.in_transaction():
            connection.commit()
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:5]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    url = config.attributes.get("url") or load_settings().resolved_database_url
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            run(conn)
            conn.commit()
    finally:
        engine.dispose()


main()
