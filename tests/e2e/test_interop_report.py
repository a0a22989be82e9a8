"""The appointment report's print page in a real browser: a hostile diary note is shown
as text and no script runs (demo patient 10 only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.e2e.conftest import Axe, Server
from tests.e2e.test_sign_in import sign_in

PAYLOAD = '<img src=x onerror="window.__pwned=1;alert(1)"><script>window.__pwned=2</script>'


def test_a_hostile_diary_note_prints_as_text_and_runs_nothing(
    page: Page, axe: Axe, server: Server
) -> None:
    patient = server.account("patient", "patient10@")
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    sign_in(page, axe, server, patient)
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    axe.check()
    token = json.loads(page.get_attribute("body", "hx-headers") or "{}")["X-CSRF-Token"]
    pid = patient["patient_id"]
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date().isoformat()
    base = f"{server.base_url}/api/v1/patients/{pid}/diary-entries"
    headers = {"X-CSRF-Token": token, "Content-Type": "application/json"}
    existing = page.request.get(f"{base}?from={today}&to={today}").json()["items"]
    if existing:
        saved = page.request.patch(
            f"{base}/{existing[0]['id']}", data=json.dumps({"notes": PAYLOAD}), headers=headers
        )
    else:
        body = {"id": "5d7f3b52-0c4f-4c0e-8a70-3f7c2c1e9a10", "date": today, "pain": 4}
        saved = page.request.post(
            base, data=json.dumps({**body, "notes": PAYLOAD}), headers=headers
        )
    assert saved.ok, saved.text()

    response = page.goto(server.base_url + "/me/report")
    if response is not None and response.status == 404:
        pytest.skip("the interop views are not included by app.py yet")
    axe.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Appointment report")
    expect(page.get_by_role("heading", name="Does it help?", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name=PAYLOAD)).to_be_visible()
    assert page.evaluate("() => window.__pwned === undefined")
    assert dialogs == []
    expect(page.get_by_role("link", name="Download this report as a PDF")).to_be_visible()
