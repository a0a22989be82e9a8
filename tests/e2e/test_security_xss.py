"""V-3: stored XSS. Hostile payloads go into every free-text field (names, diary and
therapy notes, side-effect reports, requests, clinical notes, reviews, follow-ups,
referrals, tapers, alert notes, break-glass reasons); every page that shows them is
rendered in headless Chromium, as the clinician and as the patient. No script may run:
no dialog, no ``window.__xss`` flag, no injected element or event-handler attribute,
and no Content-Security-Policy violation (which would mean markup got through and
only the CSP stopped it).

The people are made for this test (a clinician, a patient and an administrator of its
own, through the command line and the API); the demo population is not touched.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page

from tests.e2e.conftest import Axe, Server, painpath
from tests.factories import unused_totp_code

PASSWORD = "hostile payload passphrase 1"
# Short enough for a 200-character name; each vector sets the same flag.
NAME = '<img src=x onerror="window.__xss=1">"><svg onload=alert(1)>'
PAYLOADS = [
    "<script>window.__xss=1;alert(1)</script>",
    '<img src=x onerror="window.__xss=1;alert(2)">',
    '"><svg/onload=window.__xss=1>',
    '\'><iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    "</textarea></title><script>window.__xss=1</script>",
    '<a href="javascript:window.__xss=1">click</a>',
    "<details open ontoggle=window.__xss=1>",
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>",
    "{{7*7}} ${7*7} <%= 7*7 %>",
    "\u202e<script>window.__xss=1</script>",
]
TEXT = " ".join(PAYLOADS)


def _api(server: Server, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    """Call the API; a text field over its length limit is cut to fit and sent again."""
    for _ in range(5):
        try:
            return _call(server, method, path, token, body)
        except urllib.error.HTTPError as exc:
            detail = json.loads(exc.read() or b"{}")
            too_long = [
                (e["field"], int(re.findall(r"at most (\d+) characters", e["message"])[0]))
                for e in detail.get("errors", [])
                if "at most" in e.get("message", "")
            ]
            if exc.code != 422 or not too_long or not isinstance(body, dict):
                raise AssertionError(f"{method} {path}: {exc.code} {detail}") from None
            for name, limit in too_long:
                body[name] = body[name][:limit]
    raise AssertionError(f"{method} {path}: still refused")


def _call(server: Server, method: str, path: str, token: str | None, body: Any) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (the test's own server)
        server.base_url + path, data=data, method=method
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        raw = response.read()
    return json.loads(raw) if raw and raw[:1] in (b"{", b"[") else {}


def _account(server: Server, role: str, name: str) -> dict[str, Any]:
    email = f"xss.{role}.{uuid.uuid4().hex[:8]}@test.example"
    made = painpath(
        server.env,
        "user",
        "create",
        "--email",
        email,
        "--role",
        role,
        "--name",
        name,
        "--password",
        PASSWORD,
    )
    account: dict[str, Any] = json.loads(made.stdout)
    account["email"] = email
    account["password"] = PASSWORD
    return account


def _token(server: Server, account: dict[str, Any]) -> str:
    body = {"email": account["email"], "password": PASSWORD}
    if account.get("totp_secret"):
        body["totp"] = unused_totp_code(account["totp_secret"])
    return str(_api(server, "POST", "/api/v1/auth/login", body=body)["token"])


def _seed(server: Server) -> dict[str, Any]:
    gp = _account(server, "clinician", NAME)
    patient = _account(server, "patient", NAME)
    admin = _account(server, "admin", "XSS Admin")
    pid = patient["patient_id"]
    admin_token = _token(server, admin)
    _api(
        server,
        "POST",
        f"/api/v1/patients/{pid}/care-team",
        admin_token,
        {"clinician_id": gp["clinician_id"]},
    )
    _api(
        server,
        "POST",
        f"/api/v1/patients/{pid}/break-glass",
        admin_token,
        {"id": str(uuid.uuid4()), "reason": TEXT[:1000]},
    )
    gp_token, pt_token = _token(server, gp), _token(server, patient)
    base = f"/api/v1/patients/{pid}"
    today = datetime.now(UTC).date()
    rx = _api(
        server,
        "POST",
        f"{base}/prescriptions",
        gp_token,
        {
            "id": str(uuid.uuid4()),
            "medicine": "duloxetine",
            "schedule": [{"start": (today - timedelta(days=10)).isoformat(), "daily_dose_mg": 30}],
            "indication": TEXT[:500],
        },
    )
    for day in range(3):
        _api(
            server,
            "POST",
            f"{base}/diary-entries",
            pt_token,
            {
                "id": str(uuid.uuid4()),
                "date": (today - timedelta(days=day)).isoformat(),
                "pain": 5,
                "notes": TEXT,
            },
        )
    _api(
        server,
        "POST",
        f"{base}/therapy-sessions",
        pt_token,
        {
            "id": str(uuid.uuid4()),
            "date": today.isoformat(),
            "kind": "other",
            "notes": TEXT,
        },
    )
    report = _api(
        server,
        "POST",
        f"{base}/side-effect-reports",
        pt_token,
        {
            "id": str(uuid.uuid4()),
            "symptom": PAYLOADS[1],
            "severity": "moderate",
            "started_on": today.isoformat(),
            "description": TEXT,
            "prescription_id": rx["id"],
        },
    )
    _api(
        server,
        "POST",
        f"{base}/dose-change-requests",
        pt_token,
        {
            "id": str(uuid.uuid4()),
            "prescription_id": rx["id"],
            "reason": TEXT,
        },
    )
    _api(
        server,
        "POST",
        f"{base}/other-medicines",
        pt_token,
        {
            "id": str(uuid.uuid4()),
            "name": PAYLOADS[1],
            "is_pain_medicine": False,
        },
    )
    _api(server, "POST", f"{base}/notes", gp_token, {"id": str(uuid.uuid4()), "text": TEXT})
    _api(
        server,
        "POST",
        f"{base}/reviews",
        gp_token,
        {
            "id": str(uuid.uuid4()),
            "prescription_id": rx["id"],
            "decision": "continue",
            "reason": TEXT,
        },
    )
    _api(
        server,
        "POST",
        f"{base}/follow-ups",
        gp_token,
        {
            "id": str(uuid.uuid4()),
            "due": (today + timedelta(days=14)).isoformat(),
            "kind": PAYLOADS[2][:60],
            "notes": TEXT,
        },
    )
    _api(
        server,
        "POST",
        f"{base}/taper-plans",
        gp_token,
        {
            "id": str(uuid.uuid4()),
            "prescription_id": rx["id"],
            "start": (today + timedelta(days=30)).isoformat(),
            "weeks": 4,
            "reason": TEXT,
        },
    )
    alerts = _api(server, "GET", f"{base}/alerts", gp_token)
    return {
        "gp": gp,
        "patient": patient,
        "pid": pid,
        "rx": rx["id"],
        "report": report["id"],
        "alerts": alerts.get("items", []),
    }


class Watch:
    """Everything that would show a script ran, or was stopped only by the CSP."""

    def __init__(self, page: Page) -> None:
        self.events: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", lambda m: self._console(m.type, m.text))
        page.on("pageerror", lambda e: self.events.append(f"page error: {e}"))

    def _dialog(self, dialog: Any) -> None:
        self.events.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def _console(self, kind: str, text: str) -> None:
        if "Content Security Policy" in text or (kind == "error" and "xss" in text.lower()):
            self.events.append(f"console {kind}: {text}")

    def check(self, page: Page, where: str) -> None:
        page.wait_for_load_state("load")
        flag = page.evaluate("() => window.__xss === 1 || window.parent.__xss === 1")
        injected = page.evaluate(
            """() => {
                const bad = [];
                for (const el of document.querySelectorAll('*')) {
                  for (const a of el.attributes) {
                    if (/^on/i.test(a.name)) bad.push(el.tagName + '[' + a.name + ']');
                    if (/^javascript:/i.test(a.value)) bad.push(el.tagName + '[' + a.name + ']');
                  }
                }
                const tags = 'script:not([src]), iframe, svg svg, mglyph, details[ontoggle]';
                for (const s of document.querySelectorAll(tags)) bad.push(s.tagName);
                for (const i of document.querySelectorAll('img[src="x"]')) bad.push('IMG src=x');
                return bad;
            }"""
        )
        assert not flag, f"a script ran on {where}"
        assert not injected, f"markup from user text was rendered on {where}: {injected}"
        assert not self.events, f"on {where}: {self.events}"


def _sign_in(page: Page, axe: Axe, server: Server, account: dict[str, Any]) -> None:
    page.goto(server.base_url + "/")
    axe.check()
    page.get_by_label("Email address").fill(account["email"])
    page.get_by_label("Password").fill(PASSWORD)
    if account.get("totp_secret"):
        page.get_by_label("Security code").fill(unused_totp_code(account["totp_secret"]))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    axe.check()


def _visit(page: Page, axe: Axe, watch: Watch, server: Server, paths: list[str]) -> int:
    shown = 0
    for path in paths:
        response = page.goto(server.base_url + path)
        assert response is not None and response.status < 500, (path, response)
        watch.check(page, path)
        axe.check()
        if "onerror" in page.content() or "&lt;script&gt;" in page.content():
            shown += 1
    return shown


def test_hostile_text_never_runs_on_any_page(page: Page, axe: Axe, server: Server) -> None:
    seeded = _seed(server)
    pid, rx = seeded["pid"], seeded["rx"]
    watch = Watch(page)

    _sign_in(page, axe, server, seeded["gp"])
    watch.check(page, "the clinician's start page")
    clinician_pages = [
        "/caseload",
        f"/patients/{pid}",
        f"/patients/{pid}/medicine",
        f"/patients/{pid}/review",
        f"/patients/{pid}/follow-ups",
        f"/patients/{pid}/prescribe",
        f"/patients/{pid}/report",
        f"/patients/{pid}/response",
        f"/patients/{pid}/response/{rx}",
        f"/patients/{pid}/side-effect-reports/{seeded['report']}/yellow-card",
        "/alerts",
        "/referrals",
        "/account/password",
    ]
    shown = _visit(page, axe, watch, server, clinician_pages)
    page.goto(server.base_url + "/")  # sign out through the page's own form
    axe.check()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("load")
    axe.check()

    _sign_in(page, axe, server, seeded["patient"])
    watch.check(page, "the patient's start page")
    patient_pages = [
        "/today",
        "/diary",
        "/therapies",
        "/medicine",
        "/my-data",
        "/my-result",
        "/me/report",
        f"/patients/{pid}/report",
        "/my-record-access",
        "/account",
        "/questionnaires",
        "/settings/reminders",
    ]
    shown += _visit(page, axe, watch, server, patient_pages)
    assert shown >= 8, f"the payloads were shown (escaped) on only {shown} pages"


def test_the_watch_catches_a_script_that_runs(page: Page) -> None:
    """The check is real: an unescaped payload on a page without a CSP is caught."""
    import pytest

    watch = Watch(page)
    page.set_content(f"<html lang='en'><body><main>{PAYLOADS[1]}</main></body></html>")
    with pytest.raises(AssertionError):
        watch.check(page, "a test page")
