"""Migrations build the schema from nothing on both engines and agree with the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import painpath.models  # noqa: F401
from painpath import migrate
from painpath.db import Base, make_engine
from painpath.partitions import include_name
from tests.conftest import drop_database, fresh_database_url


def test_upgrade_from_empty_matches_the_models_and_round_trips(
    backend: str, tmp_path: Path
) -> None:
    url, token = fresh_database_url(backend, tmp_path)
    engine = make_engine(url, pool_size=1)
    try:
        migrate.upgrade(url)
        assert migrate.current_revision(engine) == migrate.head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(
                    conn, opts={"compare_type": True, "include_name": include_name}
                ),
                Base.metadata,
            )
        assert diff == [], f"models and migrations differ: {diff}"
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        migrate.downgrade(url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(url)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
        drop_database(token)
