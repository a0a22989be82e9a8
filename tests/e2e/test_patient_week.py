"""A new patient's first week, on a phone (390×844) and on a desktop: invited by the GP,
joins (safety questions first), is prescribed duloxetine, keeps a week of diary (today and
six missed days filled in late, today's entry changed), takes a dose, reports a side
effect and records a physiotherapy session, then sees it all in My data. axe-core on
every page."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Axe, Server
from tests.e2e.test_joining import invite, join_and_record_episode

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


def choose_pain(page: Page, value: int) -> None:
    average = page.get_by_role("group", name=re.compile("average pain"))
    average.get_by_label(str(value), exact=True).check()


@pytest.mark.parametrize("screen", sorted(VIEWPORTS))
def test_a_new_patients_first_week(
    page: Page, axe: Axe, server: Server, browser: Browser, screen: str
) -> None:
    name = f"Wendy Week {uuid.uuid4().hex[:4]}"
    email = f"week.{uuid.uuid4().hex[:8]}@painpath.example"
    link = invite(page, axe, server, name, email)

    me = browser.new_page(viewport=VIEWPORTS[screen])  # type: ignore[arg-type]
    check = Axe(me)
    join_and_record_episode(
        me, check, link, email, "Chronic low back pain", "2025-11-03", "Lower back"
    )

    # The GP prescribes the default titration (30 mg for a week, then 60 mg).
    page.goto(server.base_url + "/caseload")
    axe.check()
    page.get_by_role("link", name=name).click()
    axe.check()
    page.get_by_role("link", name="Prescribe").click()
    axe.check()
    page.get_by_role("button", name="Prescribe").click()
    axe.check()
    expect(page.get_by_role("status")).to_contain_text("The prescription has been saved.")

    # A week of diary: today, then the six days before, marked late.
    me.goto(server.base_url + "/diary")
    check.check()
    choose_pain(me, 6)
    me.get_by_role("button", name="Save diary").click()
    check.check()
    expect(me.get_by_role("status")).to_contain_text("Saved")
    for n in range(6):
        me.get_by_role("link", name="Fill in a day you missed").click()
        check.check()
        choose_pain(me, 7 - n % 2)
        me.get_by_role("button", name="Save diary").click()
        check.check()
        expect(me.get_by_role("status")).to_contain_text("Saved")
    entries = me.get_by_role("table", name="Diary entries, newest first").locator("tbody tr")
    expect(entries).to_have_count(7)
    expect(me.locator("tbody .tag", has_text="late")).to_have_count(6)
    # today's entry can still be changed
    me.get_by_role("link", name="Change today's entry").click()
    check.check()
    choose_pain(me, 5)
    me.get_by_role("button", name="Save the change").click()
    check.check()
    expect(entries.first.locator("td").nth(1)).to_have_text("5")

    # Today's dose, a side effect and a physiotherapy session.
    me.get_by_role("navigation", name="Main").get_by_role("link", name="My medicine").click()
    check.check()
    dose = me.locator(".med-dose", has_text="30 mg today")
    dose.get_by_role("button", name="I took it", exact=True).click()
    check.check()
    expect(me.get_by_role("status")).to_contain_text("Thank you: your dose is logged")
    me.get_by_label("What have you noticed?").select_option(label="Feeling sick (nausea)")
    me.get_by_label("Mild").check()
    me.get_by_role("button", name="Send my report").click()
    check.check()
    triage = me.locator(".med-triage")
    expect(triage).to_contain_text("nausea")  # triaged, with advice and its source
    expect(triage.locator(".med-source")).to_contain_text("Source:")
    me.get_by_role("navigation", name="Main").get_by_role("link", name="Activities").click()
    check.check()
    me.get_by_label("What did you do?").select_option(label="Physiotherapy")
    me.get_by_label("How many minutes?").fill("30")
    me.get_by_label("Pain before (0 to 10)").fill("6")
    me.get_by_label("Pain after (0 to 10)").fill("4")
    me.get_by_role("button", name="Save").click()
    check.check()
    expect(me.get_by_role("cell", name="Physiotherapy")).to_be_visible()

    # Everything on one time axis, with the same figures as a table.
    me.get_by_role("navigation", name="Main").get_by_role("link", name="My data").click()
    check.check()
    expect(me.get_by_role("heading", level=1)).to_be_visible()
    me.close()
