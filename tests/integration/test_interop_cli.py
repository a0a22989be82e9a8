"""``painpath export fhir|ics``, ``painpath import fhir`` and ``painpath report pdf`` as a
script uses them: JSON on stdout, exit 2 with a message for bad input, nothing written."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from icalendar import Calendar
from sqlalchemy import func, select
from typer.testing import CliRunner

import painpath.models as m
from painpath import migrate
from painpath.db import make_engine, make_session_factory, unit_of_work
from painpath.demo.service import load_demo
from painpath.interop.cli import export_app, import_app, report_app
from tests.conftest import drop_database, fresh_database_url
from tests.unit.test_interop_pdftext import pdf_pages

root = typer.Typer()
root.add_typer(export_app, name="export")
root.add_typer(import_app, name="import")
root.add_typer(report_app, name="report")


@dataclass
class Setup:
    source: str
    target: str
    patient_id: str
    tmp: Path


@pytest.fixture()
def setup(backend: str, tmp_path: Path) -> Iterator[Setup]:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    source, token_a = fresh_database_url(backend, tmp_path / "a")
    target, token_b = fresh_database_url(backend, tmp_path / "b")
    for url in (source, target):
        migrate.upgrade(url)
    engine = make_engine(source, pool_size=1)
    with unit_of_work(make_session_factory(engine)) as db:
        accounts = load_demo(db, seed=7, today=datetime.now(UTC).date(), patients=1)
    engine.dispose()
    patient = next(a["patient_id"] for a in accounts if a["role"] == "patient")
    yield Setup(source, target, patient, tmp_path)
    drop_database(token_a)
    drop_database(token_b)


def run(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(root, list(args), env={"PAINPATH_DATABASE_URL": url})
    return result.exit_code, result.stdout, result.stderr


def patients(url: str) -> int:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(m.Patient)).scalar_one())
    finally:
        engine.dispose()


def test_export_import_report_and_calendar_from_the_command_line(setup: Setup) -> None:
    bundle = setup.tmp / "bundle.json"
    code, out, err = run(
        setup.source, "export", "fhir", "--patient", setup.patient_id, "--out", str(bundle)
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["written"] == str(bundle) and result["resources"] > 100
    assert len(json.loads(bundle.read_text())["entry"]) == result["resources"]

    code, out, err = run(setup.target, "import", "fhir", str(bundle))
    assert code == 0, err
    imported = json.loads(out)
    assert imported["patient_id"] == setup.patient_id and imported["patient_created"] is True
    code, out, _ = run(setup.target, "import", "fhir", str(bundle))
    assert json.loads(out)["created"] == 0 and patients(setup.target) == 1

    pdf = setup.tmp / "report.pdf"
    code, out, err = run(
        setup.target, "report", "pdf", "--patient", setup.patient_id, "--out", str(pdf)
    )
    assert code == 0, err
    assert json.loads(out)["bytes"] == pdf.stat().st_size
    pages = pdf_pages(pdf.read_bytes())
    assert len(pages) >= 2 and "Appointment report" in pages[0]

    ics = setup.tmp / "calendar.ics"
    code, out, err = run(
        setup.source, "export", "ics", "--patient", setup.patient_id, "--out", str(ics)
    )
    assert code == 0, err
    cal = Calendar.from_ical(ics.read_bytes())
    assert len(cal.walk("VEVENT")) == json.loads(out)["events"]


def test_bad_input_exits_2_with_a_message_and_writes_nothing(setup: Setup) -> None:
    out_file = setup.tmp / "never.json"
    code, _, err = run(
        setup.source, "export", "fhir", "--patient", "nobody", "--out", str(out_file)
    )
    assert code == 2 and "not a patient id" in err
    unknown = str(uuid.uuid4())
    code, _, err = run(setup.source, "export", "fhir", "--patient", unknown, "--out", str(out_file))
    assert code == 2 and f"no patient with id {unknown}" in err
    code, _, err = run(setup.source, "report", "pdf", "--patient", unknown, "--out", str(out_file))
    assert code == 2 and not out_file.exists()
    broken = setup.tmp / "broken.json"
    broken.write_text(
        '{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {}}]}'
    )
    code, _, err = run(setup.target, "import", "fhir", str(broken))
    assert code == 2 and "exactly one Patient" in err
    broken.write_text(
        '{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": '
        '{"resourceType": "Patient", "id": "x", "birthDate": "1970-13-45"}}]}'
    )
    code, _, err = run(setup.target, "import", "fhir", str(broken))
    assert code == 2 and "not a valid FHIR R4 Bundle" in err and "birthDate" in err
    code, _, err = run(setup.target, "import", "fhir", str(setup.tmp / "missing.json"))
    assert code == 2 and "cannot read the file" in err
    assert patients(setup.target) == 0
