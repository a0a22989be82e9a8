"""The Today page on a phone: today's dose with one tap, the diary, what is coming."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Axe, Server
from tests.e2e.test_sign_in import sign_in


def test_a_patient_logs_todays_dose_and_diary_on_a_phone(browser: Browser, server: Server) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    axe = Axe(page)
    patient = server.account("patient", "patient3@")
    sign_in(page, axe, server, patient)
    axe.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    medicine = page.get_by_role("heading", level=3).first
    expect(medicine).to_contain_text("mg a day")
    page.get_by_role("button", name="I took it", exact=True).first.click()
    axe.check()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    expect(page.get_by_text("You have logged today's dose: taken")).to_be_visible()

    page.get_by_role("link", name="Fill in today's diary").click()
    axe.check()
    average = page.get_by_role("group", name=re.compile("average pain"))
    average.get_by_label("4", exact=True).check()
    page.get_by_label("Notes").fill("<script>window.pwned=1</script> walked to the shop")
    page.get_by_role("button", name="Save diary").click()
    axe.check()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    expect(page.get_by_text("<script>window.pwned=1</script> walked to the shop")).to_be_visible()
    assert page.evaluate("() => window.pwned === undefined")
    page.goto(server.base_url + "/today")
    axe.check()
    expect(page.get_by_text("Done for today")).to_be_visible()
    page.close()


def test_the_diary_says_what_to_fix(browser: Browser, server: Server) -> None:
    page = browser.new_page()
    axe = Axe(page)
    sign_in(page, axe, server, server.account("patient", "patient3@"))
    page.goto(server.base_url + "/therapies")
    axe.check()
    page.get_by_label("How many minutes?").fill("30")
    page.get_by_role("button", name="Save").click()
    axe.check()
    expect(page.get_by_role("alert")).to_contain_text("What you did")
    page.get_by_label("What did you do?").select_option("physiotherapy")
    page.get_by_label("Pain before (0 to 10)").fill("6")
    page.get_by_label("Pain after (0 to 10)").fill("4")
    page.get_by_role("button", name="Save").click()
    axe.check()
    expect(page.get_by_role("cell", name="Physiotherapy").first).to_be_visible()
    page.close()


def test_a_missed_dose_from_today_shows_what_to_do_now(browser: Browser, server: Server) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    axe = Axe(page)
    sign_in(page, axe, server, server.account("patient", "patient9@"))
    axe.check()
    page.get_by_role("button", name="I missed it", exact=True).first.click()
    axe.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("My medicine")
    result = page.get_by_role("status").filter(has_text="You logged a missed dose")
    expect(result).to_be_visible()
    expect(result.get_by_role("heading", name="What to do now")).to_be_visible()
    expect(result).to_contain_text("Source:")
    # Another patient's dose id, or a made-up one, shows the ordinary page.
    page.goto(server.base_url + "/medicine?dose=00000000-0000-0000-0000-000000000000")
    axe.check()
    expect(page.get_by_text("You logged a missed dose")).to_have_count(0)
    page.close()
