"""The demo patient and the demo clinician sign in through the real page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Axe, Server
from tests.factories import unused_totp_code


def sign_in(page: Page, axe: Axe, server: Server, account: dict[str, str]) -> None:
    page.goto(server.base_url + "/")
    axe.check()
    page.get_by_label("Email address").fill(account["email"])
    page.get_by_label("Password").fill(account["password"])
    if account.get("totp_secret"):
        page.get_by_label("Security code").fill(unused_totp_code(account["totp_secret"]))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")


def test_patient_signs_in_and_sees_today(page: Page, axe: Axe, server: Server) -> None:
    patient = server.account("patient")
    sign_in(page, axe, server, patient)
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    expect(page.get_by_text(f"Signed in as {patient['name']}")).to_be_visible()
    axe.check()


def test_clinician_signs_in_with_a_security_code(page: Page, axe: Axe, server: Server) -> None:
    gp = server.account("clinician", "gp@")
    sign_in(page, axe, server, gp)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your caseload")
    # Every demo patient is in the GP's care (other browser tests may invite more into
    # the same shared server, so the caseload can hold more than the demo's ten).
    rows = page.locator("table tbody tr")
    demo_patients = [a for a in server.accounts if a["role"] == "patient"]
    assert len(demo_patients) == 10
    for patient in demo_patients:
        expect(rows.filter(has_text=patient["name"])).to_have_count(1)
    assert rows.count() >= len(demo_patients)
    axe.check()


def test_a_wrong_password_says_what_to_do(page: Page, axe: Axe, server: Server) -> None:
    patient = dict(server.account("patient"))
    patient["password"] = "not the right password"
    sign_in(page, axe, server, patient)
    expect(page.get_by_role("alert")).to_contain_text("Check them and try again")
    axe.check()


def test_the_axe_check_fails_on_an_inaccessible_page(page: Page, server: Server) -> None:
    """The accessibility check is real: a form field without a label is caught."""
    import pytest

    checker = Axe(page)
    page.set_content("<html lang='en'><body><main><input type='text'></main></body></html>")
    with pytest.raises(AssertionError, match="label"):
        checker.check()
