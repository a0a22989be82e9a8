"""Running the `painpath` command against a fresh database per backend."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import drop_database, fresh_database_url

BIN = Path(sys.executable).parent / "painpath"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def base_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAINPATH_")}
    env["PAINPATH_DATA_DIR"] = str(tmp)
    return env


@pytest.fixture()
def env(backend: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    url, token = fresh_database_url(backend, tmp_path)
    environment = base_env(tmp_path)
    environment["PAINPATH_DATABASE_URL"] = url
    yield environment
    drop_database(token)
