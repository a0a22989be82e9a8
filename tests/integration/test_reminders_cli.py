"""``painpath worker``: --once prints what it did as JSON, bad input exits 2, and the
continuous worker stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from painpath import migrate
from painpath.reminders.cli import worker_command
from tests.conftest import drop_database, fresh_database_url

cli = typer.Typer()
cli.command("worker")(worker_command)


@cli.callback()
def _root() -> None:
    """PainPath (test harness for the worker command)."""


@pytest.fixture()
def database(backend: str, tmp_path: Path) -> Iterator[str]:
    url, token = fresh_database_url(backend, tmp_path)
    migrate.upgrade(url)
    try:
        yield url
    finally:
        drop_database(token)


def test_worker_once_does_what_is_due_and_prints_the_counts(database: str) -> None:
    env = {"PAINPATH_DATABASE_URL": database, "PAINPATH_SMTP_HOST": ""}
    result = CliRunner().invoke(cli, ["worker", "--once", "--now", "2026-03-10T08:00:00Z"], env=env)
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert set(counts) >= {"planned", "in_app_sent", "emails_sent", "skipped", "unknown"}
    assert all(isinstance(v, int) for v in counts.values())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--once", "--now", "next tuesday"], "--now must be an ISO 8601 date and time"),
        (["--now", "2026-03-10T08:00:00Z"], "--now only goes with --once"),
    ],
)
def test_bad_input_exits_2_and_says_why(database: str, args: list[str], message: str) -> None:
    env = {"PAINPATH_DATABASE_URL": database}
    result = CliRunner().invoke(cli, ["worker", *args], env=env)
    assert result.exit_code == 2
    assert message in result.stderr


def test_the_continuous_worker_stops_cleanly_on_sigterm(database: str) -> None:
    script = textwrap.dedent(
        """
        import typer
        from painpath.reminders.cli import worker_command
        app = typer.Typer()
        app.command("worker")(worker_command)
        @app.callback()
        def root() -> None: ...
        app()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "worker", "--interval", "1"],
        env={**os.environ, "PAINPATH_DATABASE_URL": database, "PAINPATH_SMTP_HOST": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        started = proc.stderr.readline()
        assert "reminders worker running every 1 s" in started
        time.sleep(2)  # at least one run
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert json.loads(out) == {"stopped": True}
