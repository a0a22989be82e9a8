"""The whole pathway for a new patient, each person in their own browser: the GP invites
the patient and refers them to the pain specialist; the specialist accepts, prescribes
duloxetine with a titration (the default follow-ups planned with it), sees a side-effect
alert arrive after the patient reports it, acknowledges it, records a review decision and
plans a taper. The specialist records the clinical facts the checks need first. axe-core
on every page."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Axe, Server
from tests.e2e.test_joining import invite, join_and_record_episode
from tests.e2e.test_sign_in import sign_in


def test_refer_prescribe_alert_acknowledge_review_and_taper(
    page: Page, axe: Axe, server: Server, browser: Browser
) -> None:
    name = f"Petra Pathway {uuid.uuid4().hex[:4]}"
    email = f"pathway.{uuid.uuid4().hex[:8]}@painpath.example"
    specialist = server.account("clinician", "specialist@")

    # The GP invites the patient, who joins on their phone.
    link = invite(page, axe, server, name, email)
    patient = browser.new_page(viewport={"width": 390, "height": 844})
    on_phone = Axe(patient)
    join_and_record_episode(patient, on_phone, link, email, "Sciatica", "2026-03-02", "Left leg")

    # The GP refers the new patient to the specialist from the record.
    page.goto(server.base_url + "/caseload")
    axe.check()
    page.get_by_role("link", name=name).click()
    axe.check()
    page.get_by_label("Specialist").select_option(label=specialist["name"])
    page.get_by_label("Reason for referral").fill("Sciatica for 9 months; please advise.")
    page.get_by_role("button", name="Send referral").click()
    axe.check()
    expect(page.get_by_role("status")).to_contain_text("Referral sent")

    # The specialist accepts and prescribes duloxetine with the default titration.
    desk = browser.new_page()
    checker = Axe(desk)
    sign_in(desk, checker, server, specialist)
    checker.check()
    desk.get_by_role("navigation", name="Main").get_by_role("link", name="Referrals").click()
    checker.check()
    referral = desk.locator(".referral-item", has_text=name)
    referral.get_by_role("button", name=f"Accept the referral of {name}").click()
    checker.check()
    expect(desk.get_by_role("status")).to_contain_text("Referral accepted")
    desk.get_by_role("navigation", name="Main").get_by_role("link", name="Caseload").click()
    checker.check()
    desk.get_by_role("link", name=name).click()
    checker.check()
    record = desk.url
    # the facts the prescribing checks need, recorded first
    desk.get_by_role("link", name="Clinical facts").click()
    checker.check()
    desk.get_by_label("Creatinine clearance (mL/min)").fill("92")
    desk.get_by_role("group", name="Liver impairment").get_by_label("No", exact=True).check()
    desk.get_by_role("group", name="Uncontrolled high blood pressure").get_by_label(
        "No", exact=True
    ).check()
    desk.get_by_role("button", name="Save the facts").click()
    checker.check()
    expect(desk.get_by_role("status")).to_contain_text("Clinical facts saved.")
    desk.goto(record)
    checker.check()
    desk.get_by_role("link", name="Prescribe").click()
    checker.check()
    expect(desk.get_by_label("Step 1 daily dose (mg)")).to_have_value("30")
    expect(desk.get_by_label("Step 2 daily dose (mg)")).to_have_value("60")
    expect(desk.get_by_label("Plan the default follow-ups from the first dose")).to_be_checked()
    expect(desk.locator(".med-facts")).to_contain_text("92 mL/min")
    desk.get_by_role("button", name="Prescribe").click()
    checker.check()
    expect(desk.get_by_role("status")).to_contain_text("The prescription has been saved.")
    expect(desk.get_by_role("cell", name="prescribed: titration step 2 of 2")).to_be_visible()

    # The patient takes the first dose and reports a side effect that needs help now.
    patient.goto(server.base_url + "/medicine")
    on_phone.check()
    dose = patient.locator(".med-dose", has_text="30 mg today")
    dose.get_by_role("button", name="I took it", exact=True).click()
    on_phone.check()
    patient.get_by_label("What have you noticed?").select_option(
        label="Difficulty passing urine (peeing)"
    )
    patient.get_by_label("Mild").check()
    patient.get_by_role("button", name="Send my report").click()
    on_phone.check()
    expect(patient.get_by_role("alert")).to_contain_text("Your care team has been told.")

    # The alert is waiting for the specialist, who acknowledges it with a note.
    desk.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    checker.check()
    alert = desk.locator(".alert-item", has=desk.get_by_role("link", name=name, exact=True))
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("Status: open")
    alert.get_by_label(re.compile("Note")).fill("Phoned: sent to A&E; seen, no cauda equina.")
    alert.get_by_role("button", name=f"Acknowledge the alert for {name}").click()
    checker.check()
    expect(desk.get_by_role("status")).to_contain_text("Alert acknowledged")

    # A review decision to taper, then the taper plan.
    desk.goto(record)
    checker.check()
    desk.get_by_role("link", name="Record a review decision").click()
    checker.check()
    desk.get_by_label("Taper").check()
    desk.get_by_label("Reason").fill("Urinary symptoms on starting; stop with a taper.")
    desk.get_by_role("button", name="Record decision").click()
    checker.check()
    expect(desk.get_by_role("status")).to_contain_text("Review decision recorded")
    expect(desk.locator("#reviews")).to_contain_text("stop with a taper")
    desk.get_by_role("link", name="Medicine and doses").click()
    checker.check()
    course = desk.locator("section.med-prescription").first
    course.get_by_text("Plan a taper (never stop abruptly)").click()
    course.get_by_label("Weeks to reduce over").fill("4")
    course.get_by_label("Why", exact=True).last.fill("Review decision: taper and stop.")
    course.get_by_role("button", name="Plan the taper").click()
    checker.check()
    expect(desk.get_by_role("status")).to_contain_text("The taper plan has been saved")
    expect(desk.get_by_role("heading", name=re.compile("Taper plan from"))).to_be_visible()
    desk.goto(record.rstrip("/") + "/follow-ups")
    checker.check()
    expect(
        desk.get_by_role("cell", name="12-week response review: does it help?", exact=True)
    ).to_be_visible()
    desk.close()
    patient.close()
