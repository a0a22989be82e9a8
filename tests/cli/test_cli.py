"""The `painpath` command as a script would use it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

import painpath.models as m
from painpath.db import make_engine
from tests.cli.conftest import base_env, run


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in m.Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def test_demo_prints_accounts_and_is_idempotent(env: dict[str, str]) -> None:
    assert run(env, "db", "upgrade").returncode == 0
    first = run(env, "demo", "--seed", "7", "--json")
    assert first.returncode == 0, first.stderr
    accounts = json.loads(first.stdout)
    roles = [a["role"] for a in accounts]
    assert roles.count("clinician") == 2 and roles.count("admin") == 1
    assert roles.count("patient") >= 8
    for account in accounts:
        assert len(account["password"]) >= 12
        if account["role"] == "clinician":
            assert account["totp_secret"]
        if account["role"] == "patient":
            assert account["patient_id"]
    before = counts(env["PAINPATH_DATABASE_URL"])
    assert before["diary_entries"] > 8 * 60
    second = run(env, "demo", "--seed", "7", "--json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == accounts
    assert counts(env["PAINPATH_DATABASE_URL"]) == before
    listed = json.loads(run(env, "patients", "list").stdout)
    assert {p["id"] for p in listed} == {
        a["patient_id"] for a in accounts if a["role"] == "patient"
    }


def test_user_create_and_its_errors(env: dict[str, str]) -> None:
    assert run(env, "db", "upgrade").returncode == 0
    ok = run(
        env,
        "user",
        "create",
        "--email",
        "new.gp@test.example",
        "--role",
        "clinician",
        "--name",
        "Dr New",
        "--password",
        "a long enough secret",
    )
    assert ok.returncode == 0, ok.stderr
    created = json.loads(ok.stdout)
    assert created["role"] == "clinician" and created["totp_secret"]
    again = run(
        env,
        "user",
        "create",
        "--email",
        "new.gp@test.example",
        "--role",
        "clinician",
        "--name",
        "Dr New",
        "--password",
        "a long enough secret",
    )
    assert again.returncode == 2
    assert "already exists" in again.stderr and again.stdout == ""
    short = run(
        env,
        "user",
        "create",
        "--email",
        "p@test.example",
        "--role",
        "patient",
        "--name",
        "P",
        "--password",
        "short",
    )
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    role = run(
        env,
        "user",
        "create",
        "--email",
        "p@test.example",
        "--role",
        "doctor",
        "--name",
        "P",
        "--password",
        "a long enough secret",
    )
    assert role.returncode == 2 and "--role must be one of" in role.stderr
    assert counts(env["PAINPATH_DATABASE_URL"])["users"] == 1


def test_an_old_schema_is_refused_with_one_line(env: dict[str, str]) -> None:
    result = run(env, "patients", "list")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "painpath db upgrade" in result.stderr


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    env["PAINPATH_DATABASE_URL"] = "postgresql+psycopg://postgres@127.0.0.1:1/none"
    result = run(env, "db", "upgrade")
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot reach the database")
    assert result.stderr.strip().count("\n") == 0
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_data_folder_is_one_clear_line_as_user(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    env = base_env(folder / "data")
    result = run(env, "db", "upgrade")
    assert result.returncode == 2
    assert "not writable" in result.stderr


def test_data_folder_that_is_a_file_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    env = base_env(blocker / "data")
    result = run(env, "db", "upgrade")
    assert result.returncode == 2
    assert "PAINPATH_DATA_DIR" in result.stderr and "not writable" in result.stderr
    assert result.stderr.strip().count("\n") == 0


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("PAINPATH_DATABASE_URL", "not a url", "PAINPATH_DATABASE_URL is not a database URL"),
        ("PAINPATH_DATABASE_URL", "mysql://u:secret@h/db", "names a 'mysql' database"),
        ("PAINPATH_PORT", "eighty", "PAINPATH_PORT: Input should be a valid integer"),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        ("db", "upgrade"),
        ("worker", "--once"),
        ("export", "ics", "--patient", "00000000-0000-0000-0000-000000000000", "--out", "x.ics"),
    ],
)
def test_bad_configuration_names_the_variable_in_one_line(
    tmp_path: Path, variable: str, value: str, says: str, command: tuple[str, ...]
) -> None:
    env = base_env(tmp_path)
    env[variable] = value
    result = run(env, *command)
    assert result.returncode == 2
    assert says in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "Traceback" not in result.stderr and "secret" not in result.stderr
