"""The conversation's safety and its way back, on a 390×844 phone with JavaScript on and off: a same-day answer said
at once, the adults-only stop, Back (button and the phone's), edits that keep later answers, the mistake link, where
a no-JS page lands, and choices that read as choices."""
from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect

from .conftest import SHOULDERS_AND_HIPS, answer_one, answer_through, current_question, start

pytestmark = pytest.mark.browser

SCREEN = 844
BOTH = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])


@contextmanager
def phone(browser, browser_context_args, javascript: bool):
    context = browser.new_context(**browser_context_args, java_script_enabled=javascript)
    try:
        yield context.new_page()
    finally:
        context.close()


def on_screen(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= SCREEN


# --- said at once -----------------------------------------------------------------------------------------------------

@BOTH
def test_a_same_day_answer_is_said_at_once_and_the_person_can_finish(browser, browser_context_args, javascript, shot):
    story = dict(SHOULDERS_AND_HIPS, red_flags=["limb_swollen_hot"])
    with phone(browser, browser_context_args, javascript) as page:
        start(page)
        answer_through(page, story, until="sex")
        panel = page.locator("#ask .urgent")
        expect(panel.get_by_role("heading")).to_have_text("This needs a doctor today")
        expect(panel).to_contain_text("blood clot")
        action = panel.locator("a").first  # the first thing to do: the doctor, not the emergency number
        expect(action).to_have_text("Call your doctor's office now")
        expect(action).to_have_attribute("href", "#what-to-do")
        assert on_screen(panel.get_by_role("heading")) and on_screen(action), "said where the person is looking"
        assert on_screen(page.locator("#q-text")) or javascript  # with JS the panel is scrolled into view first
        expect(panel).to_contain_text("You can still answer the rest")
        if javascript:
            expect(page.locator("#announce")).to_contain_text("This needs a doctor today")
        shot(page, f"20-same-day-{'js' if javascript else 'no-js'}")
        answer_through(page, story)
        expect(page).to_have_url(re.compile(r"/chat/result"))
        first = page.locator("main > .panel").first
        links = first.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert links.index("#what-to-do") < links.index("tel:911"), links


# --- adults only ------------------------------------------------------------------------------------------------------

@BOTH
def test_under_18_ends_on_the_kind_page_with_no_cards(browser, browser_context_args, javascript, shot):
    with phone(browser, browser_context_args, javascript) as page:
        start(page)
        answer_one(page, "under_18")
        main = page.locator("main")
        expect(main.get_by_role("heading", level=1)).to_have_text(re.compile("adults"))
        expect(main.get_by_role("heading", name="When to get help for a child")).to_be_visible()
        expect(main.locator(".signs li")).to_have_count(3)
        expect(main).to_contain_text("Call 999 (UK), 911 (US) or 112 now")  # at once
        expect(main).to_contain_text("today")  # and when a child should be seen today
        for selector in ("form#answer", ".cards", ".condition", ".lifestyle", "progress"):
            expect(page.locator(selector)).to_have_count(0)
        shot(page, f"21-not-adult-{'js' if javascript else 'no-js'}")
        page.get_by_role("button", name="I chose my age by mistake").tap()
        expect(page.locator("form#answer input[name=question_id]")).to_have_value("age_band")
        expect(page.locator("button.reply.was")).to_have_count(0)
        expect(page.locator("#ask .alert")).to_contain_text("We took away “Under 18”")


# --- mistakes undo cleanly --------------------------------------------------------------------------------------------

@BOTH
def test_the_emergency_mistake_clears_the_choice_says_so_and_focuses_the_question(browser, browser_context_args,
                                                                                  javascript, shot):
    with phone(browser, browser_context_args, javascript) as page:
        start(page)
        answer_through(page, dict(SHOULDERS_AND_HIPS, red_flags=["chest_pain"]))
        expect(page.get_by_role("heading", level=1)).to_have_text("Call an ambulance now")
        page.get_by_role("button", name="I chose that answer by mistake").tap()
        expect(page.locator("form#answer input[name=question_id]")).to_have_value("red_flags")
        expect(page.locator("form#answer input[value=chest_pain]")).not_to_be_checked()
        expect(page.locator("#ask .alert")).to_contain_text("We took away “Chest pain or pressure”")
        expect(page.locator("#q-text")).to_be_focused()
        assert on_screen(page.locator("#q-text")) and on_screen(page.locator("#ask .alert"))
        shot(page, f"22-mistake-{'js' if javascript else 'no-js'}")
        page.locator("form#answer button.done").tap()  # nothing ticked: Done does not go back to the ambulance page
        expect(page.locator("form#answer input[name=question_id]")).to_have_value("red_flags")
        expect(page.get_by_role("heading", name="Call an ambulance now")).to_have_count(0)
        answer_one(page, ["none"])
        assert current_question(page)[0] == "sex"
