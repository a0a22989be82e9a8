"""A patient fills in a PHQ-9 on a phone, one question per screen, answers item 9 above
0 and sees the crisis signposting at once; the GP then sees the alert in the alert inbox
(demo patient 6).
axe-core runs on every page and after every question."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Axe, Server
from tests.e2e.test_sign_in import sign_in

PHONE = {"width": 375, "height": 740}
# One answer per PHQ-9 item (option labels); item 9 is "Several days" (score 1).
ANSWERS = [
    "Several days",
    "Not at all",
    "More than half the days",
    "Several days",
    "Not at all",
    "Several days",
    "Not at all",
    "Not at all",
    "Several days",
]


def test_phq9_item9_shows_crisis_signposting_and_alerts_the_gp(
    page: Page, axe: Axe, server: Server
) -> None:
    started = datetime.now(UTC)
    page.set_viewport_size(PHONE)
    patient = server.account("patient", "patient6@")
    sign_in(page, axe, server, patient)
    axe.check()
    page.get_by_role("link", name="Questionnaires").click()
    page.wait_for_load_state("load")
    axe.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Questionnaires")
    expect(page.get_by_role("heading", name="Due today")).to_be_visible()
    page.get_by_role("link", name="Mood (PHQ-9)", exact=True).click()
    page.wait_for_load_state("load")
    axe.check()

    for number, label in enumerate(ANSWERS, start=1):
        # one question on the screen, with its progress line
        expect(page.get_by_text(f"Question {number} of 9", exact=True)).to_be_visible()
        expect(page.locator("fieldset")).to_have_count(1)
        expect(page.locator("fieldset legend")).to_have_count(1)
        expect(page.get_by_role("radio")).to_have_count(4)
        if number == 9:
            expect(page.locator("legend")).to_have_text(
                "Thoughts that you would be better off dead, or of hurting yourself in some way"
            )
        if number == 2:
            # an answer is needed before moving on, and the error is announced
            page.get_by_role("button", name="Next question").click()
            expect(page.get_by_role("alert")).to_contain_text("Choose an answer")
            expect(page.get_by_text("Question 2 of 9", exact=True)).to_be_visible()
            axe.check()
        if number == 4:
            # keyboard only: focus is on the first answer; arrow down picks the next, and
            # Enter sends the step
            expect(page.get_by_role("radio", name="Not at all")).to_be_focused()
            page.keyboard.press("ArrowDown")
            expect(page.get_by_role("radio", name=label)).to_be_checked()
            page.keyboard.press("Enter")
        else:
            page.get_by_role("radio", name=label).check()
            button = "Send my answers" if number == 9 else "Next question"
            page.get_by_role("button", name=button).click()
        if number < 9:
            expect(page.get_by_text(f"Question {number + 1} of 9", exact=True)).to_be_visible()
            axe.check()

    page.wait_for_url(re.compile(r"/questionnaires/results/[0-9a-f-]{36}$"))
    page.wait_for_load_state("load")
    axe.check()
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Get help now if you are thinking of ending your life")
    expect(alert).to_contain_text("Samaritans free on 116 123")
    expect(alert).to_contain_text("call 999 or go to A&E now")
    expect(alert.get_by_role("link", name="Call Samaritans on 116 123")).to_have_attribute(
        "href", "tel:116123"
    )
    expect(alert.get_by_role("link", name="Call 999")).to_have_attribute("href", "tel:999")
    # the signposting comes first on the page, before the score
    box = alert.bounding_box()
    heading = page.get_by_role("heading", level=1).bounding_box()
    assert box is not None and heading is not None and box["y"] < heading["y"]
    expect(page.get_by_text(re.compile(r"^Your PHQ-9 score was 6 \(mild\)"))).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("load")
    axe.check()

    # The GP signs in and sees the self-harm alert in the alert inbox.
    page.set_viewport_size({"width": 1280, "height": 900})
    gp = server.account("clinician", "gp@")
    sign_in(page, axe, server, gp)
    axe.check()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    page.wait_for_load_state("load")
    axe.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    item9 = (
        page.get_by_role("listitem")
        .filter(has=page.get_by_role("link", name=patient["name"], exact=True))
        .filter(has_text="item 9 answered above 0")
    )
    expect(item9).to_have_count(1)
    expect(item9).to_contain_text("Urgent")
    expect(item9).to_contain_text("contact the patient today")
    expect(item9.get_by_role("button", name=re.compile("^Acknowledge"))).to_be_visible()
    # and exactly one alert was raised for this response
    reply = page.request.get(
        f"{server.base_url}/api/v1/patients/{patient['patient_id']}/alerts?status=open"
    )
    assert reply.ok, reply.text()
    raised = [
        a
        for a in reply.json()["items"]
        if a["rule"] == "phq9-item9"
        and datetime.fromisoformat(a["created_at"]) >= started.replace(microsecond=0)
    ]
    assert [(a["urgency"], a["patient_name"]) for a in raised] == [("urgent", patient["name"])]
