"""`painpath serve`: what it hands to uvicorn (uvicorn itself is not started here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from typer.testing import CliRunner

import painpath.app
from painpath.cli import WORKER_STARTUP_SECONDS, app
from tests.cli.conftest import run


@dataclass
class Served:
    runs: list[dict[str, Any]] = field(default_factory=list)
    freezes: int = 0


@pytest.fixture()
def served(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Served:
    assert run(env, "db", "upgrade").returncode == 0
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    seen = Served()

    def fake_run(target: Any, **options: Any) -> None:
        seen.runs.append({"target": target, **options})

    def fake_freeze() -> None:
        seen.freezes += 1

    monkeypatch.setattr("uvicorn.run", fake_run)
    monkeypatch.setattr(painpath.app, "freeze_startup_objects", fake_freeze)
    return seen


def test_one_process_serves_the_built_application_with_its_start_up_objects_frozen(
    served: Served,
) -> None:
    result = CliRunner().invoke(app, ["serve", "--port", "8765"])
    assert result.exit_code == 0, result.output
    assert served.freezes == 1
    (call,) = served.runs
    assert not isinstance(call["target"], str)  # the application object itself
    assert call["port"] == 8765 and "workers" not in call


def test_several_workers_each_build_a_frozen_application_and_get_time_to_start(
    served: Served,
) -> None:
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 0, result.output
    (call,) = served.runs
    assert call["target"] == "painpath.app:create_served_app" and call["factory"] is True
    assert call["workers"] == 2
    assert call["timeout_worker_healthcheck"] == WORKER_STARTUP_SECONDS == 120
