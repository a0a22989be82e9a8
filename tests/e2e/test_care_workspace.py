"""The clinician workspace in a real browser (demo patients 7 and 8): an administrator
frees the specialist, the GP refers, the specialist accepts and sees the patient, the GP
acknowledges an alert with a note and records a review decision. axe-core on every page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Axe, Server
from tests.e2e.test_sign_in import sign_in


def sign_out(page: Page, axe: Axe) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("load")
    axe.check()


def test_refer_accept_acknowledge_and_review(page: Page, axe: Axe, server: Server) -> None:
    patient7 = server.account("patient", "patient7@")
    patient8 = server.account("patient", "patient8@")
    name7, name8 = patient7["name"], patient8["name"]
    specialist = server.account("clinician", "specialist@")
    gp = server.account("clinician", "gp@")

    # The demo has patient 7 under the specialist already: the administrator takes them out.
    sign_in(page, axe, server, server.account("admin", "admin@"))
    axe.check()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Care teams").click()
    axe.check()
    page.get_by_label("Find a patient by name").fill(name7)
    page.get_by_role("button", name="Search").click()
    axe.check()
    team = page.get_by_role("region", name=name7)
    remove = team.get_by_role("button", name=f"Remove {specialist['name']}")
    if remove.count():
        remove.click()
        axe.check()
        expect(page.get_by_role("status")).to_contain_text("removed from the care team")
    members = page.get_by_role("region", name=name7).get_by_role("list")
    expect(members).to_contain_text(gp["name"])
    expect(members).not_to_contain_text(specialist["name"])
    sign_out(page, axe)

    # The GP refers patient 7 to the specialist from the patient's record.
    sign_in(page, axe, server, gp)
    axe.check()
    page.get_by_role("link", name=name7).click()
    axe.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(name7)
    page.get_by_role("button", name="Send referral").click()
    axe.check()
    expect(page.get_by_role("alert")).to_contain_text("Choose the specialist to refer to.")
    page.get_by_label("Specialist").select_option(label=specialist["name"])
    page.get_by_label("Reason for referral").fill(
        "Persistent leg pain on duloxetine; please advise."
    )
    page.get_by_role("button", name="Send referral").click()
    axe.check()
    expect(page.get_by_role("status")).to_contain_text("Referral sent")
    expect(page.locator("#referrals")).to_contain_text(
        f"referred to {specialist['name']} (pending)"
    )
    sign_out(page, axe)

    # The specialist accepts and then sees the patient.
    sign_in(page, axe, server, specialist)
    axe.check()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Referrals").click()
    axe.check()
    referral = page.locator(".referral-item", has_text=name7)
    expect(referral).to_contain_text("Persistent leg pain on duloxetine")
    referral.get_by_label(re.compile("Note to the referring clinician")).fill("Will see next week")
    referral.get_by_role("button", name=f"Accept the referral of {name7}").click()
    axe.check()
    expect(page.get_by_role("status")).to_contain_text("Referral accepted")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Caseload").click()
    axe.check()
    page.get_by_role("link", name=name7).click()
    axe.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(name7)
    expect(page.locator("#referrals")).to_contain_text("(accepted)")
    sign_out(page, axe)

    # The GP acknowledges patient 8's open alert with a note.
    sign_in(page, axe, server, gp)
    axe.check()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    axe.check()
    alert = page.locator(".alert-item", has=page.get_by_role("link", name=name8, exact=True)).first
    expect(alert).to_contain_text("Status: open")
    alert.get_by_label(re.compile("Note")).fill(
        "Phoned: mild dizziness, reassured; continue the taper."
    )
    alert.get_by_role("button", name=f"Acknowledge the alert for {name8}").first.click()
    axe.check()
    expect(page.get_by_role("status")).to_contain_text("Alert acknowledged")
    page.get_by_role("link", name="Acknowledged").click()
    axe.check()
    expect(page.locator(".alert-item", has_text="Phoned: mild dizziness").first).to_contain_text(
        f"Acknowledged by {gp['name']}"
    )

    # ... and records a review decision for patient 7.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Caseload").click()
    axe.check()
    page.get_by_role("link", name=name7).click()
    axe.check()
    page.get_by_role("link", name="Record a review decision").click()
    axe.check()
    expect(page.get_by_text("Doses taken, last 28 days")).to_be_visible()
    page.get_by_role("button", name="Record decision").click()
    axe.check()
    expect(page.get_by_role("alert")).to_contain_text("Choose a decision.")
    page.get_by_label("Continue").check()
    page.get_by_label("Reason").fill("Pain well down from baseline; few side effects.")
    page.get_by_role("button", name="Record decision").click()
    axe.check()
    expect(page.get_by_role("status")).to_contain_text("Review decision recorded")
    expect(page.locator("#reviews")).to_contain_text("Pain well down from baseline")
    page.get_by_role("link", name="Follow-ups").first.click()
    axe.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Follow-ups for {name7}")
