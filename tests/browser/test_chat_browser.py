"""The phone chat in Debian's chromium at 390×844 with touch: taps, keyboard, no-JS, resume, edit, emergency."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import SHOULDERS_AND_HIPS, answer_one, chip, answer_through, condition_names, current_question, start, wait_moved_on

pytestmark = pytest.mark.browser


def test_whole_conversation_by_taps_reaches_a_result(page: Page, shot):
    page.goto("/")
    shot(page, "01-landing")
    page.get_by_role("button", name="Start", exact=True).tap()
    expect(page.locator("form#answer")).to_be_visible()
    assert page.url.endswith("/chat#ask")  # opens at the question

    def pictures(page, question_id):
        if question_id in ("red_flags", "pain_locations", "morning_stiffness"):
            shot(page, f"02-question-{question_id}")
    asked = answer_through(page, SHOULDERS_AND_HIPS, screenshots=pictures)

    assert asked[:2] == ["age_band", "red_flags"] and "pain_locations" in asked
    expect(page).to_have_url(f"{page.url.split('/chat')[0]}/chat/result")
    expect(page.locator("main > .panel").first).to_have_class(re.compile(r"panel u-(routine|soon|same_day)"))
    assert condition_names(page)[0].startswith("Polymyalgia")
    expect(page.get_by_role("link", name="Share with your doctor")).to_have_attribute("href", "/share")
    shot(page, "04-result", small=True)
    page.locator("#conditions-title").evaluate("h => window.scrollTo(0, h.getBoundingClientRect().top + scrollY - 70)")
    shot(page, "04-result-conditions", small=True)
    shot(page, "04-result-full", full_page=True)


def test_the_chat_stays_on_one_page_moves_focus_and_announces(page: Page, shot):
    start(page)
    first_url = page.url
    page.evaluate("""() => { window.focusedButtons = [];
      addEventListener('focusin', e => { if (e.target.closest('#answer button')) focusedButtons.push(e.target.value); },
                       true); }""")
    answer_one(page, "40_49")
    expect(page.locator("#log .turn")).to_have_count(1)
    expect(page.locator("#q-text")).to_be_focused()
    # the tapped button never took the focus (nothing to restyle between the tap and the answer being sent)
    assert page.evaluate("focusedButtons") == []
    expect(page.locator("#announce")).to_contain_text("Question 2")
    expect(page.locator("#progress-n")).to_have_text("2")
    assert page.url == first_url  # no page load: answered over the JSON API
    # "None of these" stands alone
    chip(page, "fainting").tap()
    chip(page, "none").tap()
    expect(page.locator("form#answer input[value=fainting]")).not_to_be_checked()
    chip(page, "dark_urine").tap()
    expect(page.locator("form#answer input[value=none]")).not_to_be_checked()
    chip(page, "dark_urine").tap()
    page.locator("form#answer button.done").tap()  # nothing picked: a gentle reminder, nothing sent
    expect(page.locator("#ask .alert")).to_contain_text("choose at least one")
    expect(page.locator("#log .turn")).to_have_count(1)
    answer_one(page, ["none"])
    expect(page.locator("#log .turn")).to_have_count(2)
    expect(page.locator("#log .bubble.me").last).to_contain_text("None of these")
    # the answer buttons are in thumb reach: the last one ends inside the bottom of the screen
    box = page.locator("form#answer button[name=value]").last.bounding_box()
    assert box["y"] + box["height"] <= 844 and box["y"] > 844 / 2
    shot(page, "03-conversation", small=True)


def test_whole_conversation_without_javascript(browser, browser_context_args, shot):
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    page = context.new_page()
    try:
        start(page)
        asked = answer_through(page, SHOULDERS_AND_HIPS)
        assert "pain_locations" in asked
        expect(page).to_have_url(f"{page.url.split('/chat')[0]}/chat/result")
        assert condition_names(page)[0].startswith("Polymyalgia")
        shot(page, "05-result-no-js")
    finally:
        context.close()


def test_changing_an_earlier_answer_changes_the_result(page: Page, shot):
    start(page)
    answer_through(page, SHOULDERS_AND_HIPS)
    before = condition_names(page)
    assert before and before[0].startswith("Polymyalgia")

    page.get_by_text("Review or change your answers").tap()
    page.get_by_role("button", name="Change your answer: 65 or over").tap()
    question_id, _step, kind = current_question(page)
    assert question_id == "age_band"
    expect(page.locator("button.reply.was")).to_have_attribute("value", "65_plus")  # the earlier answer, pre-selected
    answer_one(page, "18_39")
    # every later answer is still on the path, so it is kept: one tap, and the new result is there
    expect(page).to_have_url(re.compile(r"/chat/result$"))
    after = condition_names(page)
    assert after != before
    assert not any(name.startswith("Polymyalgia") for name in after)


def test_editing_inside_the_chat_rewinds_to_that_question(page: Page):
    start(page)
    answer_through(page, SHOULDERS_AND_HIPS, until="main_complaint")
    expect(page.locator("#log .turn")).to_have_count(3)
    page.get_by_role("button", name="Change your answer: None of these").tap()
    expect(page.locator("#log .turn")).to_have_count(1)
    question_id, _step, _kind = current_question(page)
    assert question_id == "red_flags"
    expect(page.locator("form#answer input[value=none]")).to_be_checked()
    expect(page.locator("#q-text")).to_be_focused()


def test_reload_and_a_new_tab_resume_the_conversation(page: Page, context):
    start(page)
    answer_through(page, SHOULDERS_AND_HIPS, until="main_complaint")
    page.reload()
    assert current_question(page)[0] == "main_complaint"
    expect(page.locator("#log .turn")).to_have_count(3)
    page.close()
    later = context.new_page()  # the tab was closed; the cookie remembers the conversation
    later.goto("/")
    later.get_by_role("link", name="Continue where I left off").tap()
    assert current_question(later)[0] == "main_complaint"
    cookie = next(c for c in context.cookies() if c["name"] == "conversation")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert cookie["expires"] > 0  # kept across browser restarts (30 days)


def test_body_map_by_tap_and_by_keyboard(page: Page, shot):
    start(page)
    answer_through(page, SHOULDERS_AND_HIPS, until="pain_locations")
    form = page.locator("form#answer")
    assert form.get_attribute("data-type") == "map"
    front = form.locator(".view.front")
    back = form.locator(".view.back")
    expect(front.locator("svg")).to_be_visible()
    expect(back.locator("svg")).to_be_visible()
    neck = form.get_by_role("button", name="Neck", exact=True)
    neck.tap()
    expect(neck).to_have_attribute("aria-pressed", "true")
    back.get_by_role("button", name="Lower back").tap()
    expect(form.locator(".picked")).to_have_text("Picked: Neck, Lower back")
    neck.tap()
    expect(neck).to_have_attribute("aria-pressed", "false")

    # keyboard: Tab reaches the regions, Space and Enter toggle them
    page.locator("#q-text").focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.value") == "hands_wrists":
            break
    else:
        raise AssertionError("Tab never reached the 'Hands or wrists' region")
    page.keyboard.press("Space")
    expect(form.get_by_role("button", name="Hands or wrists")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "hips"
    page.keyboard.press("Enter")
    expect(form.get_by_role("button", name="Hips", exact=True)).to_have_attribute("aria-pressed", "true")
    shot(page, "06-body-map", small=True)
    form.locator("button.done").tap()
    expect(page.locator("#log .bubble.me").last).to_have_text("Change your answer: Hands or wrists, Hips, Lower back✎")


def test_body_map_without_javascript(browser, browser_context_args):
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    page = context.new_page()
    try:
        start(page)
        answer_through(page, SHOULDERS_AND_HIPS, until="pain_locations")
        page.get_by_role("button", name="Calves").tap()
        expect(page.get_by_role("button", name="Calves")).to_have_attribute("aria-pressed", "true")
        page.get_by_role("button", name="Jaw").tap()
        expect(page.locator(".picked")).to_have_text("Picked: Jaw, Calves")
        # said where the page opens after each tap, above the sticky Done, not hidden behind it
        picked, done = page.locator(".picked").bounding_box(), page.locator("button.done").bounding_box()
        assert 0 <= picked["y"] and picked["y"] + picked["height"] <= done["y"], (picked, done)
        step = current_question(page)[1]
        page.locator("button.done").tap()
        wait_moved_on(page, step)
        assert current_question(page)[0] == "pain_sides"
        expect(page.locator("#log .bubble.me").last).to_contain_text("Jaw, Calves")
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_emergency_answer_shows_only_the_emergency_panel(browser, browser_context_args, javascript, shot):
    context = browser.new_context(**browser_context_args, java_script_enabled=javascript)
    page = context.new_page()
    try:
        start(page)
        answer_through(page, dict(SHOULDERS_AND_HIPS, red_flags=["chest_pain"]))
        main = page.locator("main")
        expect(main.get_by_role("heading", level=1)).to_have_text("Call an ambulance now")
        call = main.get_by_role("link", name="Call 911 now")
        expect(call).to_have_attribute("href", "tel:911")
        box = call.bounding_box()
        assert box["width"] >= 300 and box["height"] >= 56  # large
        assert box["y"] < 400  # near the top, first thing seen
        # nothing competing: no question, no progress, no conditions, no menus, no other links than phone numbers
        for selector in ("form#answer", ".bar", ".log", ".cards", ".manage", "progress", "details"):
            expect(page.locator(selector)).to_have_count(0)
        hrefs = page.locator("main a").evaluate_all("links => links.map(a => a.getAttribute('href'))") if javascript \
            else [page.locator("main a").nth(i).get_attribute("href") for i in range(page.locator("main a").count())]
        assert all(href.startswith("tel:") for href in hrefs)
        if javascript:
            shot(page, "07-emergency")
    finally:
        context.close()
