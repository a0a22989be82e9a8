"""``painpath worker [--once] [--now DATETIME]``: reminders and scheduled work.

Register with ``app.command("worker")(worker_command)``. Without ``--once`` it runs until
SIGTERM or SIGINT (a run in progress finishes first); with ``--once`` it does what is due
at that moment, prints the counts as JSON and exits.
"""

from __future__ import annotations

import signal
import sys
import threading
from datetime import UTC, datetime
from types import FrameType
from typing import Annotated

import typer
from sqlalchemy import Engine

from painpath.config import Settings
from painpath.kit.cliutil import emit, fail, settings_or_fail
from painpath.kit.errors import ConfigurationError
from painpath.medication.domain.knowledge import load_knowledge


def parse_now(text: str) -> datetime:
    """An ISO 8601 date and time; without an offset it is taken as UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--now must be an ISO 8601 date and time such as 2026-03-29T08:00:00+01:00 "
            f"(got {text!r})"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def open_engine(settings: Settings) -> Engine:
    """An engine that works: reachable, durable and at the schema this code needs."""
    from painpath import migrate
    from painpath.db import check_durability, make_engine

    if not settings.database_url and not (settings.data_dir / "painpath.db").exists():
        raise ConfigurationError(
            f"there is no database in {settings.data_dir} (PAINPATH_DATA_DIR): "
            "run `painpath db upgrade` first"
        )
    engine = make_engine(settings.resolved_database_url, pool_size=5)
    check_durability(engine)
    current, head = migrate.current_revision(engine), migrate.head_revision()
    if current != head:
        engine.dispose()
        raise ConfigurationError(
            f"the database schema is at {current or 'nothing'}, PainPath needs {head}: "
            "run `painpath db upgrade`"
        )
    return engine


def worker_command(
    once: Annotated[
        bool, typer.Option("--once", help="Do what is due now, print the counts, and exit.")
    ] = False,
    now: Annotated[
        str | None,
        typer.Option(
            help="With --once: the moment to act for (ISO 8601; without an offset, UTC). "
            "Default: the clock."
        ),
    ] = None,
    interval: Annotated[
        float, typer.Option(help="Seconds between runs when running continuously.", min=1)
    ] = 60.0,
) -> None:
    """Run reminders and scheduled work (continuously, or once with --once)."""
    stop = threading.Event()
    if not once:  # from the start, so a signal during start-up also stops cleanly

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)

    from painpath.db import make_session_factory
    from painpath.reminders.worker import run_forever, run_once

    moment: datetime | None = None
    if now is not None:
        if not once:
            fail("--now only goes with --once")
        try:
            moment = parse_now(now)
        except ValueError as exc:
            fail(str(exc))
    settings = settings_or_fail()
    try:
        load_knowledge()  # taper reminders name the doses: a malformed file stops here
        engine = open_engine(settings)
    except ConfigurationError as exc:
        fail(str(exc))
    factory = make_session_factory(engine)
    try:
        if once:
            emit(run_once(factory, settings, moment or datetime.now(UTC)))
            return
        sys.stderr.write(
            f"PainPath reminders worker running every {interval:g} s "
            f"({settings.backend} database); stop with Ctrl+C or SIGTERM\n"
        )
        sys.stderr.flush()
        run_forever(factory, settings, stop, interval=interval)
        emit({"stopped": True})
    finally:
        engine.dispose()
