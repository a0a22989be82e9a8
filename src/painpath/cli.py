"""The ``painpath`` command. Results are JSON on stdout; bad input exits 2 with a
message on stderr and writes nothing."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from painpath.config import Settings
from painpath.kit.cliutil import emit, fail, fail_from, settings_or_fail
from painpath.kit.errors import ConfigurationError, PainPathError

app = typer.Typer(
    help="PainPath: a chronic back pain and sciatica medicine pathway.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Accounts.", no_args_is_help=True)
patients_app = typer.Typer(help="Patients (administration).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(patients_app, name="patients")

WORKER_STARTUP_SECONDS = 120  # uvicorn's health check of a starting worker (default 5)


def _settings() -> Settings:
    return settings_or_fail()


def _prepare_data_dir(settings: Settings) -> None:
    if settings.database_url:
        return
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigurationError(
            f"the data folder {path} (PAINPATH_DATA_DIR) is not writable: {exc.strerror}"
        ) from None


def _engine(settings: Settings, *, check_schema: bool = True) -> Engine:
    """An engine that works: reachable, durable and (if asked) at the current schema."""
    from painpath import migrate
    from painpath.db import check_durability, make_engine

    _prepare_data_dir(settings)
    engine = make_engine(settings.resolved_database_url)
    check_durability(engine)
    if check_schema:
        current, head = migrate.current_revision(engine), migrate.head_revision()
        if current != head:
            raise ConfigurationError(
                f"the database schema is at {current or 'nothing'}, PainPath needs {head}: "
                "run `painpath db upgrade`"
            )
    return engine


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the current schema."""
    from painpath import migrate
    from painpath.partitions import ensure_partitions

    settings = _settings()
    try:
        engine = _engine(settings, check_schema=False)
        try:
            migrate.upgrade(settings.resolved_database_url)
            partitions = ensure_partitions(engine)
        finally:
            engine.dispose()
        result: dict[str, object] = {
            "schema": migrate.head_revision(),
            "database": settings.backend,
        }
        if partitions.created:
            result["partitions_created"] = partitions.created
        if partitions.left_in_default:
            result["partitions_left_in_default"] = partitions.left_in_default
        emit(result)
    except ConfigurationError as exc:
        fail(str(exc))


def _say_serving(host: str, port: int, settings: Settings) -> None:
    sys.stderr.write(f"PainPath on http://{host}:{port} ({settings.backend} database)\n")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL).")] = 1,
    in_process_worker: Annotated[
        bool, typer.Option(help="Also send reminders from this process (for make run).")
    ] = False,
) -> None:
    """Run the web application."""
    import uvicorn

    settings = _settings()
    bind_host = host or settings.host
    bind_port = port or settings.port
    if workers > 1:
        # Each worker builds its own application. This process only checks what would stop
        # them (the configuration, the database and its schema, the medicines knowledge)
        # and keeps none of it: building the whole application here too cost about
        # 250 MiB more for the life of the server (docs/benchmarks.md).
        from painpath.config import check_production_config
        from painpath.medication.domain.knowledge import load_knowledge

        try:
            check_production_config(settings)
            load_knowledge()
            _engine(settings).dispose()
        except ConfigurationError as exc:
            fail(str(exc))
        _say_serving(bind_host, bind_port, settings)
        os.environ["PAINPATH_DATABASE_URL"] = settings.resolved_database_url
        uvicorn.run(
            "painpath.app:create_served_app",
            factory=True,
            host=bind_host,
            port=bind_port,
            workers=workers,
            log_level="warning",
            access_log=False,
            # A worker first imports the application (17 s on a loaded 2-core machine,
            # docs/benchmarks.md); uvicorn's default 5 s health check killed and restarted
            # the workers for ever.
            timeout_worker_healthcheck=WORKER_STARTUP_SECONDS,
        )
        return
    from painpath.app import create_app, freeze_startup_objects

    try:
        engine = _engine(settings)
        application = create_app(settings, engine=engine)
    except ConfigurationError as exc:
        fail(str(exc))
    freeze_startup_objects()
    _say_serving(bind_host, bind_port, settings)
    stop_worker = None
    if in_process_worker:
        from painpath.reminders.worker import start_in_process_worker

        stop_worker = start_in_process_worker(settings, engine)
    try:
        uvicorn.run(
            application,
            host=bind_host,
            port=bind_port,
            log_level="warning",
            access_log=False,
        )
    finally:
        if stop_worker is not None:
            stop_worker()


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed for the synthetic population.")] = 7,
    json_out: Annotated[bool, typer.Option("--json", help="Print the demo accounts.")] = False,
    patients: Annotated[int, typer.Option(help="How many demo patients.")] = 10,
) -> None:
    """Load demo data (idempotent for a seed)."""
    from painpath.db import make_session_factory, unit_of_work
    from painpath.demo.service import load_demo
    from painpath.kit.clock import SystemClock, local_today

    settings = _settings()
    if not 1 <= patients <= 1000:
        fail("--patients must be between 1 and 1000 (use the benchmark loader for more)")
    try:
        engine = _engine(settings)
    except ConfigurationError as exc:
        fail(str(exc))
    today = local_today(SystemClock(), settings.default_timezone)
    with unit_of_work(make_session_factory(engine)) as db:
        accounts = load_demo(db, seed=seed, today=today, patients=patients)
    if json_out:
        emit(accounts)
    else:
        emit({"loaded": True, "seed": seed, "accounts": len(accounts)})


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Sign-in email.")],
    role: Annotated[str, typer.Option(help="patient, clinician or admin.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    password: Annotated[
        str | None,
        typer.Option(help="At least 12 characters; read from PAINPATH_NEW_PASSWORD if omitted."),
    ] = None,
    clinician_kind: Annotated[str, typer.Option(help="gp or pain-specialist.")] = "gp",
) -> None:
    """Create an account (clinicians and admins get a TOTP secret, printed once)."""
    from painpath.auth.domain import Role
    from painpath.care.service import create_account
    from painpath.db import make_session_factory, unit_of_work

    try:
        role_value = Role(role)
    except ValueError:
        fail(f"--role must be one of patient, clinician, admin (got {role!r})")
    secret = password or os.environ.get("PAINPATH_NEW_PASSWORD")
    if not secret:
        fail("give --password or set PAINPATH_NEW_PASSWORD")
    settings = _settings()
    try:
        engine = _engine(settings)
        with unit_of_work(make_session_factory(engine)) as db:
            result = create_account(
                db,
                email=email,
                password=secret,
                role=role_value,
                name=name,
                clinician_kind=clinician_kind,
            )
    except ConfigurationError as exc:
        fail(str(exc))
    except PainPathError as exc:
        fail_from(exc)
    emit(result)


@patients_app.command("list")
def patients_list() -> None:
    """All patients, for administration: id and name only."""
    from painpath.care.repository import all_patients
    from painpath.db import make_session_factory, unit_of_work

    settings = _settings()
    try:
        engine = _engine(settings)
    except ConfigurationError as exc:
        fail(str(exc))
    with unit_of_work(make_session_factory(engine)) as db:
        emit([{"id": str(p.id), "name": p.name} for p in all_patients(db)])


@app.command()
def backup(out: Annotated[Path, typer.Option("--out", help="Where to write the backup.")]) -> None:
    """A consistent online backup of the whole database (with a verification manifest)."""
    from painpath import backup as backups

    settings = _settings()
    try:
        engine = _engine(settings)
        emit(backups.backup(engine, settings.resolved_database_url, out))
    except ConfigurationError as exc:
        fail(str(exc))
    except PainPathError as exc:
        fail_from(exc)


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A file made by `painpath backup`.")],
) -> None:
    """Restore a backup into an empty database and verify row counts and checksums."""
    from painpath import backup as backups

    settings = _settings()
    try:
        engine = _engine(settings, check_schema=False)
        result = backups.restore(engine, settings.resolved_database_url, file)
    except ConfigurationError as exc:
        fail(str(exc))
    except PainPathError as exc:
        fail_from(exc)
    emit(result)
    if not result["verified"]:
        fail(f"restored, but these tables do not match the backup: {result['mismatched']}", 1)


# The commands defined in this module. Anything else is an area's command, and the areas
# are only imported when one of theirs is asked for (or the help lists them all): they
# import the statistics, chart, PDF and FHIR libraries, about 230 MiB and several seconds,
# which `painpath serve --workers N`'s supervising process and `painpath db upgrade` do
# not need.
CORE_COMMANDS = frozenset({"db", "serve", "demo", "user", "patients", "backup", "restore"})
_mounted = False


def mount_area_commands() -> None:
    """Each clinical area brings its own sub-commands (once)."""
    global _mounted
    if _mounted:
        return
    _mounted = True
    from painpath.interop.cli import export_app, import_app, report_app
    from painpath.medication.cli import interactions_app, medicines_app, taper_app
    from painpath.questionnaires.cli import app as instruments_app
    from painpath.response.cli import evidence_app, response_app

    app.add_typer(instruments_app, name="instruments")
    app.add_typer(response_app, name="response")
    app.add_typer(evidence_app, name="evidence")
    app.add_typer(medicines_app, name="medicines")
    app.add_typer(taper_app, name="taper")
    app.add_typer(interactions_app, name="interactions")
    app.add_typer(export_app, name="export")
    app.add_typer(import_app, name="import")
    app.add_typer(report_app, name="report")

    from painpath.reminders.cli import worker_command

    app.command("worker")(worker_command)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if len(sys.argv) < 2 or sys.argv[1] not in CORE_COMMANDS:
        mount_area_commands()
    app()


if __name__ == "__main__":
    main()
