"""A new patient joins from a clinician's invitation: password, consent, red-flag screen,
episode; a second use of the link is refused."""

from __future__ import annotations

import uuid

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Axe, Server
from tests.e2e.test_sign_in import sign_in


def invite(page: Page, axe: Axe, server: Server, name: str, email: str) -> str:
    sign_in(page, axe, server, server.account("clinician", "gp@"))
    axe.check()
    page.goto(server.base_url + "/patients/invite")
    axe.check()
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Send invitation").click()
    axe.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{name} is invited")
    link = page.locator("#invitation-link").get_attribute("href")
    assert link and "/join/" in link
    return link


def join(patient: Page, checker: Axe, link: str, email: str) -> None:
    patient.goto(link)
    checker.check()
    expect(patient.get_by_text(email)).to_be_visible()
    patient.get_by_label("Choose a password").fill("walking every morning")
    patient.get_by_label("Type the password again").fill("walking every morning")
    patient.get_by_label("I agree").check()
    patient.get_by_role("button", name="Create my account").click()
    checker.check()
    expect(patient.get_by_role("heading", level=1)).to_have_text("First, some safety questions")


def join_and_record_episode(
    patient: Page, checker: Axe, link: str, email: str, condition: str, onset: str, site: str
) -> None:
    """Join, answer no to every safety question, and record the episode."""
    join(patient, checker, link, email)
    for fieldset in patient.locator("fieldset").all():
        fieldset.get_by_label("No", exact=True).check()
    patient.get_by_role("button", name="Continue").click()
    checker.check()
    patient.get_by_label(condition, exact=True).check()
    patient.get_by_label("When did this pain start?").fill(onset)
    patient.get_by_label(site).check()
    patient.get_by_role("button", name="Save").click()
    checker.check()


def test_a_new_patient_joins_and_records_their_episode(
    page: Page, axe: Axe, server: Server, browser: Browser
) -> None:
    email = f"new.{uuid.uuid4().hex[:8]}@painpath.example"
    link = invite(page, axe, server, "Nadia New", email)

    patient = browser.new_page(viewport={"width": 390, "height": 844})
    checker = Axe(patient)
    patient.goto(link)
    checker.check()
    patient.get_by_label("Choose a password").fill("short")
    patient.get_by_label("Type the password again").fill("different")
    patient.get_by_role("button", name="Create my account").click()
    checker.check()
    summary = patient.get_by_role("alert")
    expect(summary).to_contain_text("at least 12 characters")
    expect(summary).to_contain_text("not the same")
    expect(summary).to_contain_text("agree")
    join(patient, checker, link, email)
    for fieldset in patient.locator("fieldset").all():
        fieldset.get_by_label("No").check()
    patient.get_by_role("button", name="Continue").click()
    checker.check()
    expect(patient.get_by_role("heading", level=1)).to_have_text("About your pain")
    patient.get_by_label("Sciatica", exact=True).check()
    patient.get_by_label("When did this pain start?").fill("2026-01-10")
    patient.get_by_label("Lower back").check()
    patient.get_by_label("Left leg").check()
    patient.get_by_label("Tingling").check()
    patient.get_by_role("button", name="Save").click()
    checker.check()
    expect(patient.get_by_text("it is called chronic pain")).to_be_visible()

    again = browser.new_page()
    again.goto(link)
    expect(again.get_by_role("heading", level=1)).to_have_text("This link does not work")
    Axe(again).check()
    again.close()
    patient.close()


def test_a_red_flag_at_joining_stops_the_flow(
    page: Page, axe: Axe, server: Server, browser: Browser
) -> None:
    email = f"flag.{uuid.uuid4().hex[:8]}@painpath.example"
    link = invite(page, axe, server, "Felix Flag", email)
    patient = browser.new_page()
    checker = Axe(patient)
    join(patient, checker, link, email)
    for i, fieldset in enumerate(patient.locator("fieldset").all()):
        fieldset.get_by_label("Yes" if i == 2 else "No").check()
    patient.get_by_role("button", name="Continue").click()
    checker.check()
    alert = patient.get_by_role("alert")
    expect(alert).to_contain_text("999")
    expect(alert).to_contain_text("cauda equina")
    expect(alert).to_contain_text("We have told your care team")
    patient.close()
