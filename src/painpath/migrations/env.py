"""Alembic environment: runs against the engine of the settings (or one passed in)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import painpath.models  # noqa: F401  (registers every table)
from painpath.config import load_settings
from painpath.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


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
