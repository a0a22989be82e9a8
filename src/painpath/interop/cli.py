"""``painpath export``, ``painpath import`` and ``painpath report``.

* ``export fhir --patient ID --out FILE``: everything about one patient as a FHIR R4
  Bundle (JSON).
* ``export ics --patient ID --out FILE``: follow-ups, dose times and taper steps as
  iCalendar.
* ``import fhir FILE``: a Bundle back into the database (upsert by record id; creates the
  patient, without an account, if needed).
* ``report pdf --patient ID --out FILE``: the appointment report.

Results are JSON on stdout; bad input exits 2 with a message on stderr and writes
nothing. Uses the database of ``PAINPATH_DATABASE_URL`` / ``PAINPATH_DATA_DIR``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from painpath.db import check_durability, make_engine, make_session_factory, unit_of_work
from painpath.interop import service
from painpath.kit.cliutil import emit, fail, fail_from, settings_or_fail
from painpath.kit.clock import SystemClock
from painpath.kit.errors import ConfigurationError, PainPathError
from painpath.kit.records import Ctx

export_app = typer.Typer(help="Export a patient's data (FHIR R4, iCalendar).")
import_app = typer.Typer(help="Import a patient's data (FHIR R4).")
report_app = typer.Typer(help="The appointment report.")

PatientOption = Annotated[str, typer.Option("--patient", help="The patient's id (UUID).")]
OutOption = Annotated[Path, typer.Option("--out", help="The file to write.")]


@export_app.callback()
def _export() -> None:
    """Export a patient's data."""


@import_app.callback()
def _import() -> None:
    """Import a patient's data."""


@report_app.callback()
def _report() -> None:
    """Reports."""


@contextmanager
def _session() -> Iterator[Session]:
    from painpath import migrate

    settings = settings_or_fail()
    try:
        engine = make_engine(settings.resolved_database_url, pool_size=2)
    except ConfigurationError as exc:
        fail(str(exc))
    try:
        check_durability(engine)
        current, head = migrate.current_revision(engine), migrate.head_revision()
        if current != head:
            raise ConfigurationError(
                f"the database schema is at {current or 'nothing'}, PainPath needs {head}: "
                "run `painpath db upgrade`"
            )
        with unit_of_work(make_session_factory(engine)) as db:
            yield db
    except ConfigurationError as exc:
        fail(str(exc))
    finally:
        engine.dispose()


def _patient_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        fail(f"--patient: {value!r} is not a patient id (a UUID)")


def _ctx() -> Ctx:
    return Ctx(now=SystemClock().now(), request_id=f"cli-{uuid.uuid4().hex[:12]}")


def _check_out(out: Path) -> None:
    if out.exists() and out.is_dir():
        fail(f"--out: {out} is a folder; give a file name")
    if not out.parent.exists():
        fail(f"--out: the folder {out.parent} does not exist")


def _write(out: Path, body: bytes) -> None:
    try:
        out.write_bytes(body)
    except OSError as exc:
        fail(f"--out: cannot write {out}: {exc.strerror}")


@export_app.command("fhir")
def export_fhir(patient: PatientOption, out: OutOption) -> None:
    """Everything about one patient as a FHIR R4 Bundle."""
    pid = _patient_id(patient)
    _check_out(out)
    try:
        with _session() as db:
            text, count = service.export_fhir(db, _ctx(), pid)
    except PainPathError as exc:
        fail_from(exc)
    _write(out, text.encode())
    emit({"written": str(out), "resources": count})


@export_app.command("ics")
def export_ics(patient: PatientOption, out: OutOption) -> None:
    """Follow-ups, dose times and taper steps as iCalendar."""
    pid = _patient_id(patient)
    _check_out(out)
    try:
        with _session() as db:
            body, events = service.export_calendar(db, _ctx(), pid)
    except PainPathError as exc:
        fail_from(exc)
    _write(out, body)
    emit({"written": str(out), "events": events})


@import_app.command("fhir")
def import_fhir(
    file: Annotated[Path, typer.Argument(help="A FHIR R4 Bundle (JSON) from `export fhir`.")],
) -> None:
    """Read a FHIR R4 Bundle into the database (the same bundle twice changes nothing)."""
    try:
        text = file.read_bytes()
    except OSError as exc:
        fail(f"{file}: cannot read the file ({exc.strerror})")
    try:
        with _session() as db:
            result = service.import_fhir(db, _ctx(), text)
    except PainPathError as exc:
        fail_from(exc)
    emit({"read": str(file), **result})


@report_app.command("pdf")
def report_pdf(patient: PatientOption, out: OutOption) -> None:
    """The appointment report as PDF."""
    pid = _patient_id(patient)
    _check_out(out)
    try:
        with _session() as db:
            pdf = service.export_report_pdf(db, _ctx(), pid)
    except PainPathError as exc:
        fail_from(exc)
    _write(out, pdf)
    emit({"written": str(out), "bytes": len(pdf)})
