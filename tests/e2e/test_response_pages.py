""" "Does it help?" in the browser with the demo data: patient1 (a substantial responder)
sees the result in plain words with the chart and the trials beside it; patient2 (a
non-responder, mid-taper) sees theirs and their data; the GP opens patient1's course
and sees the compact summary; the evidence page shows the forest plot. axe-core runs on
every page."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Axe, Server
from tests.e2e.test_sign_in import sign_in


def assert_image_loaded(image: Locator) -> None:
    """The chart really arrived: an SVG image the browser decoded, with a text alternative."""
    expect(image).to_be_visible()
    image.page.wait_for_function("img => img.complete", arg=image.element_handle())
    assert image.evaluate("img => img.naturalWidth") > 0
    alt = image.get_attribute("alt") or ""
    assert alt.startswith(("Chart of", "Charts of", "Forest plot of"))


def test_patient1_sees_the_result_in_plain_words_with_the_chart(
    page: Page, axe: Axe, server: Server
) -> None:
    sign_in(page, axe, server, server.account("patient", "patient1@"))
    axe.check()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My result").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Is it helping?")
    axe.check()
    course = page.locator("section.course").first
    expect(course.get_by_role("heading", level=2)).to_contain_text("Duloxetine, started")
    expect(course.locator(".headline")).to_have_text(
        re.compile("A big improvement|A moderate improvement")
    )
    expect(course.locator(".patient-summary")).to_contain_text(
        re.compile(r"Your average pain has gone from \d+\.\d to \d+\.\d, a \d+% reduction\.")
    )
    assert_image_loaded(course.get_by_role("img"))
    beside = course.locator(".beside-the-trials")
    expect(beside).to_contain_text(
        "In the trials, about 60 in 100 people on duloxetine and 48 in 100 on placebo"
    )
    expect(beside).to_contain_text("You did.")
    expect(beside).to_contain_text("One person's course is not a trial")
    expect(page.get_by_role("heading", name="What the research says")).to_be_visible()
    expect(page.get_by_text("NICE, which advises the NHS")).to_be_visible()


def test_patient2_sees_no_meaningful_change_and_the_taper_in_my_data(
    page: Page, axe: Axe, server: Server
) -> None:
    sign_in(page, axe, server, server.account("patient", "patient2@"))
    axe.check()
    page.goto(server.base_url + "/my-result")
    axe.check()
    course = page.locator("section.course").first
    expect(course.locator(".beside-the-trials")).to_contain_text("You did not.")
    assert_image_loaded(course.get_by_role("img"))
    expect(course.locator(".caveats")).to_contain_text("Your dose changed during the days")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My data")
    axe.check()
    assert_image_loaded(page.locator("figure.chart img"))
    taper = page.get_by_role("table", name="Taper plan: how your dose comes down")
    expect(taper).to_contain_text("30 mg")
    expect(
        page.get_by_role("table", name=re.compile("Your medicine's daily dose"))
    ).to_contain_text("60 mg")
    page.get_by_text(re.compile(r"Show all \d+ pain scores")).click()
    expect(page.get_by_role("table", name="Your average pain each day (0 to 10)")).to_be_visible()
    axe.check()


def test_the_gp_sees_the_compact_summary_for_patient1(page: Page, axe: Axe, server: Server) -> None:
    patient1 = server.account("patient", "patient1@")
    sign_in(page, axe, server, server.account("clinician", "gp@"))
    axe.check()
    page.goto(f"{server.base_url}/patients/{patient1['patient_id']}/response")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Does it help?")
    axe.check()
    page.get_by_role("link", name=re.compile("^Duloxetine from")).click()
    axe.check()
    summary = page.locator("section.response-summary")
    expect(summary.get_by_role("heading", level=2)).to_contain_text("Does it help? Duloxetine")
    expect(summary).to_contain_text(re.compile("IMMPACT: (substantial|moderate)"))
    expect(summary.locator(".clinician-summary")).to_contain_text(re.compile(r"Mean NRS \d"))
    expect(summary.get_by_role("table", name=re.compile("Average pain"))).to_contain_text(
        "Baseline"
    )
    assert_image_loaded(summary.get_by_role("img"))
    expect(summary).to_contain_text("placebo")


def test_the_evidence_page_shows_the_forest_plot(page: Page, axe: Axe, server: Server) -> None:
    sign_in(page, axe, server, server.account("patient", "patient1@"))
    axe.check()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Evidence").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("what the research says")
    axe.check()
    assert_image_loaded(page.locator("#forest ~ figure img"))
    table = page.get_by_role(
        "table", name="Stopping because of side effects, duloxetine vs placebo"
    )
    expect(table).to_contain_text("Skljarevski 2010b")
    expect(page.get_by_text(re.compile(r"Pooled \(3 trials, REML\)"))).to_be_visible()
