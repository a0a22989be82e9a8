"""The care team sets which questionnaire is due when, in a real browser: the GP asks
demo patient 4 for the sleep questionnaire, the patient finds it due, and the GP restores
PainPath's defaults. axe-core on every page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Axe, Server
from tests.e2e.test_care_workspace import sign_out
from tests.e2e.test_sign_in import sign_in


def test_the_gp_schedules_a_questionnaire_and_the_patient_finds_it_due(
    page: Page, axe: Axe, server: Server
) -> None:
    patient = server.account("patient", "patient4@")
    sign_in(page, axe, server, server.account("clinician", "gp@"))
    axe.check()
    page.goto(f"{server.base_url}/patients/{patient['patient_id']}")
    axe.check()
    page.get_by_role("link", name="see or change the schedule").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Questionnaire schedule for {patient['name']}"
    )
    axe.check()
    sleep = "Sleep interference from pain (0-10)"
    page.get_by_label(f"{sleep}: asked").check()
    page.get_by_label(f"{sleep}: every how many days").fill("7")
    page.get_by_label(f"{sleep}: at the start", exact=True).check()
    page.get_by_role("button", name="Save the schedule").click()
    expect(page.get_by_role("status")).to_contain_text("Schedule saved.")
    expect(page.get_by_label(f"{sleep}: asked")).to_be_checked()
    axe.check()
    # a number that is not one is refused with what to fix, and the form keeps it
    page.get_by_label(f"{sleep}: every how many days").fill("400")
    page.get_by_role("button", name="Save the schedule").click()
    expect(page.get_by_role("alert")).to_contain_text("whole number from 1 to 365")
    axe.check()
    sign_out(page, axe)

    sign_in(page, axe, server, patient)
    axe.check()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Questionnaires").click()
    due = page.get_by_role("region", name="Due today")
    expect(due.get_by_role("heading", name="Sleep")).to_be_visible()
    axe.check()
    sign_out(page, axe)

    sign_in(page, axe, server, server.account("clinician", "gp@"))
    axe.check()
    page.goto(f"{server.base_url}/patients/{patient['patient_id']}/questionnaire-schedule")
    page.get_by_role("button", name="Restore PainPath's defaults").click()
    expect(page.get_by_role("status")).to_contain_text("defaults restored")
    expect(page.get_by_label(f"{sleep}: asked")).not_to_be_checked()
    axe.check()
