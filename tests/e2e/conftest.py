"""Browser tests: a real PainPath server (with the demo data) per database, driven in
Debian's headless Chromium, with axe-core run on every page a test visits."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import drop_database, fresh_database_url

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
BIN = Path(sys.executable).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)
            if not Path(CHROMIUM).exists():
                if os.environ.get("CI", "").lower() == "true":
                    raise pytest.UsageError(f"{CHROMIUM} is missing and CI=true")
                item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is not installed"))


# The suite runs on a small shared machine: give pages and assertions room to breathe.
expect.set_options(timeout=20_000)


@pytest.fixture(autouse=True)
def _generous_timeouts(request: pytest.FixtureRequest) -> None:
    if "page" in request.fixturenames:
        page: Page = request.getfixturevalue("page")
        page.set_default_timeout(60_000)
        page.set_default_navigation_timeout(60_000)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    return {
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@dataclass
class Server:
    backend: str
    base_url: str
    env: dict[str, str]
    accounts: list[dict[str, Any]]

    def account(self, role: str, email_prefix: str = "") -> dict[str, Any]:
        return next(
            a for a in self.accounts if a["role"] == role and a["email"].startswith(email_prefix)
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def painpath(
    env: dict[str, str], *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "painpath"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=300,
    )


@pytest.fixture(scope="session")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp(f"server-{backend}")
    url, token = fresh_database_url(backend, tmp)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAINPATH_")}
    env["PAINPATH_DATABASE_URL"] = url
    env["PAINPATH_DATA_DIR"] = str(tmp)
    painpath(env, "db", "upgrade")
    accounts = json.loads(painpath(env, "demo", "--seed", "7", "--json").stdout)
    port = _free_port()
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "painpath"), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp / "server.log").read_text()) from None
                time.sleep(0.2)
        yield Server(backend=backend, base_url=base, env=env, accounts=accounts)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        drop_database(token)


@dataclass
class Axe:
    """Runs axe-core on a page; the test fails on serious or critical violations, and
    on any page it visited without a check."""

    page: Page
    checked: set[str] = field(default_factory=set)
    visited: list[str] = field(default_factory=list)

    def check(self) -> None:
        self.page.wait_for_load_state("load")
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text())
        result = self.page.evaluate(
            "async () => await axe.run(document, {resultTypes: ['violations']})"
        )
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(n["target"]) for n in v["nodes"][:3])
            for v in result["violations"]
            if v.get("impact") in ("serious", "critical")
        ]
        assert not bad, f"axe-core on {self.page.url}:\n" + "\n".join(bad)
        self.checked.add(self.page.url)


@pytest.fixture()
def axe(page: Page) -> Iterator[Axe]:
    checker = Axe(page)
    page.on(
        "framenavigated",
        lambda frame: checker.visited.append(frame.url) if frame == page.main_frame else None,
    )
    yield checker
    unchecked = [u for u in checker.visited if u not in checker.checked and u != "about:blank"]
    assert not unchecked, f"pages visited without an axe-core check: {unchecked}"


def chromium_available() -> bool:
    return shutil.which("chromium") is not None or Path(CHROMIUM).exists()
