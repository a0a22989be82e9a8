"""Fixtures for the security tests: one seeded world per database and test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import sessionmaker

from tests.conftest import Database
from tests.security.world import World, build_world


@pytest.fixture(scope="module")
def world(migrated_db: Database) -> Iterator[World]:
    """The world, inside a transaction rolled back when the module's tests are done."""
    connection = migrated_db.engine.connect()
    outer = connection.begin()
    factory = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    try:
        yield build_world(migrated_db.url, connection, factory)
    finally:
        outer.rollback()
        connection.close()
