"""Reliability tests: real server and worker processes, SIGKILL, SIGTERM and races.

The slow ones (a minute or more per database) carry the ``slow`` mark:
``pytest -m "not slow"`` leaves them out of a quick run; `make test` runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.reliability.harness import FreshDatabase, World, fresh_database, world_on

COUNTS = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: a reliability test that runs real processes for a minute or more"
    )


@pytest.fixture()
def fresh(backend: str, tmp_path: Path) -> Iterator[FreshDatabase]:
    """A new database at the current schema on ``backend``, dropped afterwards."""
    with fresh_database(backend, tmp_path) as db:
        yield db


@pytest.fixture(scope="session")
def world(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A live server with two patients in two care teams (see harness.World), one per
    database for the whole run (the idempotency and concurrency tests share it)."""
    with world_on(backend, tmp_path_factory.mktemp(f"world-{backend}")) as w:
        yield w


@pytest.fixture()
def report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Keep a line of counts for the end of the run (shown even when the test passes)."""
    lines = request.config.stash.setdefault(COUNTS, [])
    return lambda line: lines.append(line.strip())


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    lines = config.stash.get(COUNTS, [])
    if lines:
        terminalreporter.section("reliability counts")
        for line in lines:
            terminalreporter.write_line(line)
