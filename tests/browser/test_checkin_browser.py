"""A daily check-in on a 390×844 phone, with JavaScript on and off: from the result page's "Check in today", through
the chat's own pages, to the saved day and the trend chart on the result page."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from .conftest import SHOULDERS_AND_HIPS, answer_through, start
from .test_quality import axe_violations

DAY = {"red_flags": ["none"], "pain": "6", "sleep": "4", "energy": "3", "interference": "5"}


def check_in(page: Page, tried_first_area: bool = True) -> list[str]:
    page.get_by_role("button", name=re.compile(r"^Check in (again )?today$")).tap()
    expect(page.locator("form#answer")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/checkin"))
    asked = answer_through(page, DAY, until="tried")
    area = page.locator("form#answer input[name=value]").first.get_attribute("value")  # this person's first area
    return asked + answer_through(page, {"tried": [area] if tried_first_area else ["none"]})


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_check_in_from_the_result_page_adds_a_day_to_the_chart(browser, browser_context_args, javascript, shot):
    context = browser.new_context(**browser_context_args, java_script_enabled=javascript)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    try:
        start(page)
        answer_through(page, SHOULDERS_AND_HIPS)
        expect(page).to_have_url(re.compile(r"/chat/result"))
        expect(page.locator("svg.trend-chart")).to_have_count(0)  # no check-in yet: the button alone
        asked = check_in(page)
        assert asked == ["red_flags", "pain", "sleep", "energy", "interference", "tried"]
        expect(page).to_have_url(re.compile(r"/checkin/done"))
        expect(page.get_by_role("heading", name="Today's check-in is saved")).to_be_visible()
        chart = page.locator("svg.trend-chart[role=img]")
        expect(chart).to_have_count(1)
        box = chart.bounding_box()
        assert box and box["width"] <= 390 and box["height"] > 60  # fits the phone, and is drawn
        shot(page, f"checkin-done-{'js' if javascript else 'nojs'}", full_page=True)

        page.get_by_role("link", name="Back to your result").tap()
        expect(page.locator("#diary svg.trend-chart")).to_have_count(1)
        expect(page.locator("#diary .trend-summary")).to_contain_text("Pain 6 on 1 day;")
        page.locator("#diary summary", has_text="The numbers, day by day").tap()
        expect(page.locator("#diary table tbody tr")).to_have_count(1)
        expect(page.locator("#diary table tbody td").first).to_have_text("6")
        numbers = page.locator("#diary .trend-numbers")  # every column on the phone, none scrolled out of sight
        assert numbers.evaluate("d => d.scrollWidth <= d.clientWidth"), "the table is wider than the phone"

        # again the same day: the button says so and that the new answers replace the first ones; still one day
        expect(page.locator("#diary")).to_contain_text("Your new answers will replace today's.")
        check_in(page, tried_first_area=False)
        page.get_by_role("link", name="Back to your result").tap()
        page.locator("#diary summary", has_text="The numbers, day by day").tap()
        expect(page.locator("#diary table tbody tr")).to_have_count(1)
        expect(page.locator("#diary table tbody tr td").last).to_have_text("none")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
        if javascript:  # axe runs as a script
            for scheme in ("light", "dark"):
                page.emulate_media(color_scheme=scheme)
                assert axe_violations(page, f"result-with-diary-{scheme}") == []
                page.goto("/checkin/done")
                assert axe_violations(page, f"checkin-done-{scheme}") == []
                page.goto("/chat/result")
        assert not problems, problems
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_warning_sign_in_a_check_in_stops_it_with_the_emergency_panel(browser, browser_context_args, javascript):
    context = browser.new_context(**browser_context_args, java_script_enabled=javascript)
    page = context.new_page()
    try:
        start(page)
        answer_through(page, SHOULDERS_AND_HIPS)
        page.get_by_role("button", name=re.compile(r"^Check in (again )?today$")).tap()
        expect(page.locator("form#answer")).to_be_visible()
        expect(page.locator("#progress-label")).to_have_text("Question 1 of about 6")
        answer_through(page, {"red_flags": ["chest_pain"]})
        expect(page.get_by_role("link", name=re.compile(r"Call \d+"))).to_be_visible()
    finally:
        context.close()


def test_a_phone_a_day_off_utc_checks_in_on_its_own_day(browser, browser_context_args):
    """A phone whose date is not the server's (UTC's): far west of UTC before 11:00 UTC, far east from 10:00 UTC.
    "Check in today" sends the phone's date, and the diary shows the check-in on that day."""
    zone = "Pacific/Kiritimati" if datetime.now(timezone.utc).hour >= 10 else "Pacific/Pago_Pago"  # UTC+14, UTC-11
    phone_day = datetime.now(ZoneInfo(zone)).date()
    assert phone_day != datetime.now(timezone.utc).date()
    context = browser.new_context(**browser_context_args, timezone_id=zone)
    page = context.new_page()
    try:
        start(page)
        answer_through(page, SHOULDERS_AND_HIPS)
        check_in(page)
        expect(page).to_have_url(re.compile(r"/checkin/done"))
        page.get_by_role("link", name="Back to your result").tap()
        page.locator("#diary summary", has_text="The numbers, day by day").tap()
        expect(page.locator("#diary table tbody th")).to_have_text(f"{phone_day.day} {phone_day:%b}")
    finally:
        context.close()
