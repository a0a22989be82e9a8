"""A clinician prescribes duloxetine with a titration (accepting the duplicate warning
with a reason); the patient sees today's dose in plain words, logs it and reports a side
effect; another patient logs a missed dose, asks for a change and hears the answer.

Demo patients used: patient5 and patient4 (and the demo GP, in every care team)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Axe, Server
from tests.e2e.test_sign_in import sign_in


def today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo("Europe/London")).date()


def patient_page(browser: Browser, server: Server, email_prefix: str) -> tuple[Page, Axe]:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    checker = Axe(page)
    sign_in(page, checker, server, server.account("patient", email_prefix))
    checker.check()
    page.goto(server.base_url + "/medicine")
    checker.check()
    return page, checker


def test_a_clinician_prescribes_a_titration_and_the_patient_logs_todays_dose(
    page: Page, axe: Axe, server: Server, browser: Browser
) -> None:
    patient5 = server.account("patient", "patient5@")
    sign_in(page, axe, server, server.account("clinician", "gp@"))
    axe.check()
    page.goto(f"{server.base_url}/patients/{patient5['patient_id']}/prescribe")
    axe.check()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Prescribe for")
    expect(page.locator(".med-offlabel")).to_contain_text("NICE NG59")
    expect(page.locator(".med-offlabel")).to_contain_text("off-label")
    expect(page.get_by_text("already in the medicine list")).to_be_visible()
    expect(page.get_by_text("Blocks until you give a reason")).to_be_visible()
    # The default titration from the knowledge file: 30 mg for 7 days, then 60 mg.
    expect(page.get_by_label("Step 1 daily dose (mg)")).to_have_value("30")
    expect(page.get_by_label("Step 2 daily dose (mg)")).to_have_value("60")
    expect(page.get_by_label("Step 2 starts on")).to_have_value(
        (today() + timedelta(days=7)).isoformat()
    )

    # a new course gets the default follow-ups unless the prescriber unticks it
    expect(page.get_by_label("Plan the default follow-ups from the first dose")).to_be_checked()

    page.get_by_role("button", name="Prescribe").click()
    axe.check()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("has not been saved")
    expect(summary).to_contain_text("two courses of the same medicine")
    expect(summary).to_contain_text("say why")

    reason = "Restarting with a titration; the earlier course is being replaced."
    page.get_by_label("Reason for accepting the warnings").fill(reason)
    page.get_by_role("button", name="Prescribe").click()
    axe.check()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Medicines:")
    expect(page.get_by_role("status")).to_contain_text("The prescription has been saved.")
    expect(page.get_by_text("Warnings accepted by the prescriber")).to_be_visible()
    expect(page.get_by_text(f"Reason: {reason}")).to_be_visible()
    expect(page.get_by_role("cell", name="prescribed: titration step 2 of 2")).to_be_visible()
    page.goto(f"{server.base_url}/patients/{patient5['patient_id']}/follow-ups")
    axe.check()
    expect(
        page.get_by_role("cell", name="12-week response review: does it help?", exact=True)
    ).to_be_visible()

    patient, checker = patient_page(browser, server, "patient5@")
    dose = patient.locator(".med-dose", has_text="30 mg today")
    expect(dose).to_contain_text("Take one 30 mg capsule once a day.")
    expect(dose).to_contain_text("Swallow the capsule whole")
    expect(dose).to_contain_text("Your usual time: 08:00")
    dose.get_by_role("button", name="I took it", exact=True).click()
    checker.check()
    expect(patient.get_by_role("status")).to_contain_text("Thank you: your dose is logged")
    expect(patient.locator(".med-dose", has_text="30 mg today")).to_contain_text(
        "Logged today: taken at"
    )

    patient.get_by_label("What have you noticed?").select_option(
        label="Difficulty passing urine (peeing)"
    )
    patient.get_by_label("Mild").check()
    patient.get_by_role("button", name="Send my report").click()
    checker.check()
    triage = patient.get_by_role("alert")
    expect(triage).to_contain_text("Get help now")
    expect(triage).to_contain_text("go to A&E now or call 999")
    expect(triage).to_contain_text("cauda equina")
    expect(triage).to_contain_text("Your care team has been told.")
    patient.close()


def test_a_missed_dose_gets_advice_and_a_request_gets_an_answer(
    page: Page, axe: Axe, server: Server, browser: Browser
) -> None:
    patient4 = server.account("patient", "patient4@")
    patient, checker = patient_page(browser, server, "patient4@")
    dose = patient.locator(".med-dose").first
    dose.get_by_role("button", name="I missed it").click()
    checker.check()
    result = patient.get_by_role("status")
    expect(result).to_contain_text("You logged a missed dose")
    expect(result).to_contain_text("Never take two doses")
    expect(patient.get_by_text("In the last 28 days you logged your medicine on")).to_be_visible()

    patient.get_by_role("button", name="Send my request").click()
    checker.check()
    expect(patient.get_by_role("alert")).to_contain_text("why you would like a change")
    patient.get_by_label("Why would you like a change?").fill("I feel sick <b>every</b> morning")
    patient.get_by_role("button", name="Send my request").click()
    checker.check()
    expect(patient.get_by_role("status")).to_contain_text("Keep taking your medicine")

    sign_in(page, axe, server, server.account("clinician", "gp@"))
    axe.check()
    page.goto(f"{server.base_url}/patients/{patient4['patient_id']}/medicine")
    axe.check()
    request = page.locator(".panel", has_text="Dose change request")
    expect(request).to_contain_text("I feel sick <b>every</b> morning")  # shown escaped
    request.get_by_label("Note for the patient").fill("Let's talk at your review on Friday.")
    request.get_by_role("button", name="Decline").click()
    axe.check()
    expect(page.get_by_role("status")).to_contain_text("the patient has been told")

    patient.goto(server.base_url + "/medicine")
    checker.check()
    answer = patient.locator(".panel", has_text="Your dose change request was declined")
    expect(answer).to_contain_text("Let's talk at your review on Friday.")
    patient.close()
