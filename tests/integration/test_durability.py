"""PainPath refuses to start on storage settings that could lose acknowledged writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, event

from painpath.db import check_durability, make_engine
from painpath.kit.errors import ConfigurationError
from tests.conftest import drop_database, fresh_database_url


def _sqlite_with(tmp_path: Path, *pragmas: str):  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{tmp_path / 'weak.db'}")

    @event.listens_for(engine, "connect")
    def _set(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        for pragma in pragmas:
            dbapi_connection.execute(pragma)

    return engine


def test_the_embedded_defaults_pass(tmp_path: Path) -> None:
    check_durability(make_engine(f"sqlite:///{tmp_path / 'ok.db'}"))


@pytest.mark.parametrize(
    ("pragmas", "complaint"),
    [
        (
            ("PRAGMA journal_mode=DELETE", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"),
            "journal_mode",
        ),
        (
            ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"),
            "synchronous",
        ),
        (
            ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=OFF"),
            "foreign_keys",
        ),
        (
            (
                "PRAGMA journal_mode=WAL",
                "PRAGMA synchronous=FULL",
                "PRAGMA foreign_keys=ON",
                "PRAGMA busy_timeout=0",
            ),
            "busy_timeout",
        ),
    ],
)
def test_each_weak_sqlite_setting_stops_start_up(
    tmp_path: Path, pragmas: tuple[str, ...], complaint: str
) -> None:
    with pytest.raises(ConfigurationError, match=complaint):
        check_durability(_sqlite_with(tmp_path, *pragmas))


def test_an_unreachable_server_is_one_clear_line() -> None:
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    with pytest.raises(ConfigurationError) as caught:
        check_durability(engine)
    message = str(caught.value)
    assert message.startswith("cannot reach the database")
    assert "\n" not in message


@pytest.mark.parametrize("backend", ["postgresql"])
@pytest.mark.parametrize("setting", ["off", "local", "remote_write"])
def test_postgresql_without_synchronous_commit_on_stops_start_up(
    backend: str, tmp_path: Path, setting: str
) -> None:
    url, token = fresh_database_url(backend, tmp_path)
    ok = make_engine(url, pool_size=1)
    weak = create_engine(url, connect_args={"options": f"-c synchronous_commit={setting}"})
    try:
        check_durability(ok)  # the server's own setting: on
        with pytest.raises(ConfigurationError, match=f"synchronous_commit is {setting}"):
            check_durability(weak)
    finally:
        ok.dispose()
        weak.dispose()
        drop_database(token)
