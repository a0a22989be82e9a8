"""The clinician decides at a review with the "does it help?" result in front of them."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Axe, Server
from tests.e2e.test_sign_in import sign_in


def test_the_review_form_shows_the_result_for_the_course(
    page: Page, axe: Axe, server: Server
) -> None:
    patient = server.account("patient", "patient1@")
    sign_in(page, axe, server, server.account("clinician", "gp@"))
    axe.check()
    page.goto(f"{server.base_url}/patients/{patient['patient_id']}/review")
    axe.check()
    expect(page.get_by_role("heading", name="Review decision", exact=False)).to_be_visible()
    summary = page.get_by_role("heading", name="Does it help?", exact=False).first
    expect(summary).to_be_visible()
    expect(page.locator("main")).to_contain_text("placebo")
    # the planned review points, each with its own result once reached
    points = page.get_by_role("table", name=re.compile("Result at each review point"))
    expect(points).to_be_visible()
    expect(points.get_by_role("rowheader", name="4 weeks")).to_be_visible()
