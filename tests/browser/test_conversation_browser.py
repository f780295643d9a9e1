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
        # the first thing to do: the doctor, not the emergency number; in the US there is no number to dial for it,
        # so it is said in bold, not as a button that would only scroll
        action = panel.locator(".act")
        expect(action).to_have_text("Call your doctor's office now")
        expect(panel.locator("a.btn")).to_have_count(0)
        assert action.evaluate("node => node.tagName") == "P"
        assert on_screen(panel.get_by_role("heading")) and on_screen(action), "said where the person is looking"
        assert on_screen(page.locator("#q-text")) or javascript  # with JS the panel is scrolled into view first
        expect(panel).to_contain_text("You can still answer the rest")
        if javascript:
            expect(page.locator("#announce")).to_contain_text("This needs a doctor today")
        shot(page, f"20-same-day-{'js' if javascript else 'no-js'}")
        answer_through(page, story, until="pain_locations")  # a tall question: the reminder is still in sight
        expect(page.locator("#ask .urgent h2")).to_be_visible()
        assert on_screen(page.locator("#ask .urgent h2")), "the reminder went up under the header"
        answer_through(page, story)
        expect(page).to_have_url(re.compile(r"/chat/result"))
        first = page.locator("main > .panel").first
        expect(first.locator(".say-now")).to_have_text("Call your doctor's office now")
        expect(first.locator("a.btn", has_text="Call")).to_have_count(0)  # no button that says call and does not
        assert first.inner_text().index("Call your doctor's office now") < first.inner_text().index("call 911")


# --- adults only ------------------------------------------------------------------------------------------------------

@BOTH
def test_under_18_ends_on_the_kind_page_with_no_cards(browser, browser_context_args, javascript, shot):
    with phone(browser, browser_context_args, javascript) as page:
        start(page)
        answer_one(page, "under_18")
        main = page.locator("main")
        expect(main.get_by_role("heading", level=1)).to_have_text(re.compile("adults"))
        expect(main.get_by_role("heading", name="When to get help for a child")).to_be_visible()
        expect(main.locator(".signs li")).to_have_count(4)
        expect(main.locator(".signs li").nth(1)).to_contain_text("free helpline")  # for a teenager who is not safe
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


# --- Back -------------------------------------------------------------------------------------------------------------

def question_id(page: Page) -> str:
    page.wait_for_load_state()
    return page.locator("form#answer input[name=question_id]").get_attribute("value")


def expect_question(page: Page, wanted: str) -> None:
    expect(page.locator("form#answer input[name=question_id]")).to_have_value(wanted)


def tap_back(page: Page) -> None:
    page.locator("header.bar").get_by_role("button", name="Back").tap()


@BOTH
def test_back_on_every_question_keeps_the_answers(browser, browser_context_args, javascript):
    with phone(browser, browser_context_args, javascript) as page:
        start(page)
        expect(page.locator("header.bar").get_by_role("button", name="Back")).to_be_visible()
        answer_through(page, SHOULDERS_AND_HIPS, until="pain_locations")
        tap_back(page)
        expect_question(page, "main_complaint")
        expect(page.locator("button.reply.was")).to_have_attribute("value", "pain")  # the answer is kept, shown
        expect(page.locator("#log .turn")).to_have_count(3)
        tap_back(page)
        expect_question(page, "sex")
        expect(page.locator("header.bar").get_by_role("button", name="Back")).to_be_visible()
        answer_one(page, "female")  # the same answer again: on to the first question without an answer
        expect_question(page, "pain_locations")
        expect(page.locator("#log .turn")).to_have_count(4)
        for previous in ("main_complaint", "sex", "red_flags", "age_band"):
            tap_back(page)
            expect_question(page, previous)
        tap_back(page)  # from the first question, Back leaves for the start page
        expect(page.get_by_role("link", name="Continue where I left off")).to_be_visible()


def test_the_phones_back_and_forward_move_between_questions(page: Page):
    start(page)
    answer_through(page, SHOULDERS_AND_HIPS, until="pain_locations")
    first_url = page.url
    page.go_back()
    expect_question(page, "main_complaint")
    expect(page.locator("#log .turn")).to_have_count(3)
    page.go_back()
    expect_question(page, "sex")
    page.go_back()
    expect_question(page, "red_flags")
    expect(page.locator("form#answer input[value=none]")).to_be_checked()
    page.go_forward()
    expect_question(page, "sex")
    expect(page.locator("#log .turn")).to_have_count(2)
    page.go_forward()
    expect_question(page, "main_complaint")
    expect(page.locator("#log .turn")).to_have_count(3)
    tap_back(page)  # the button and the phone's Back are the same step
    expect_question(page, "sex")
    page.go_forward()
    expect_question(page, "main_complaint")
    page.go_forward()
    expect_question(page, "pain_locations")
    expect(page.locator("#log .turn")).to_have_count(4)
    expect(page.locator("#log .bubble.me")).to_have_text([re.compile(t) for t in ("65 or over", "None of these",
                                                                                    "Female", "Pain")])
    assert page.url == first_url  # never left the page
    page.reload()
    expect_question(page, "pain_locations")
    page.go_back()
    expect_question(page, "main_complaint")


def test_continued_later_the_phones_back_still_goes_to_the_previous_questions(page: Page, context):
    start(page)
    answer_through(page, SHOULDERS_AND_HIPS, until="main_complaint")
    page.close()
    later = context.new_page()
    later.goto("/")
    later.get_by_role("link", name="Continue where I left off").tap()
    expect_question(later, "main_complaint")
    later.go_back()
    expect_question(later, "sex")
    later.go_back()
    expect_question(later, "red_flags")
    later.go_forward()
    expect_question(later, "sex")
    expect(later.locator("#log .turn")).to_have_count(2)


# --- an edit keeps the later answers ----------------------------------------------------------------------------------

@BOTH
def test_changing_the_third_answer_takes_two_taps_and_keeps_the_rest(browser, browser_context_args, javascript):
    """The person 5 case: at question 9, the 3rd answer changed; every later answer is kept, not asked again."""
    with phone(browser, browser_context_args, javascript) as page:
        start(page)
        answer_through(page, SHOULDERS_AND_HIPS, until="onset")
        before = page.locator("#log .bubble.me").all_inner_texts()
        progress = page.locator("#progress-label").inner_text()
        taps = 0
        page.get_by_role("button", name=re.compile("Change your answer: Female")).tap()
        taps += 1
        expect_question(page, "sex")
        number = int(page.locator("#progress-n").inner_text())
        assert number >= 8, "progress does not jump back to 3 while the later answers are kept"
        page.locator("form#answer button[name=value][value=male]").tap()
        taps += 1
        expect_question(page, "onset")
        assert taps == 2
        expect(page.locator("#progress-label")).to_have_text(progress)
        after = page.locator("#log .bubble.me").all_inner_texts()
        assert len(after) == len(before) and "Male" in after[2] and after[3:] == before[3:]


@BOTH
def test_an_edit_from_the_result_says_what_changed(browser, browser_context_args, javascript, shot):
    with phone(browser, browser_context_args, javascript) as page:
        start(page)
        answer_through(page, SHOULDERS_AND_HIPS)
        expect(page.locator(".changes")).to_have_count(0)  # nothing changed yet
        page.get_by_text("Review or change your answers").tap()
        page.get_by_role("button", name="Change your answer: 65 or over").tap()
        page.locator("form#answer button[name=value][value='18_39']").tap()  # one tap: the rest is kept
        expect(page).to_have_url(re.compile(r"/chat/result"))
        changes = page.locator(".changes")
        expect(changes.get_by_role("heading")).to_have_text("What your change did")
        expect(changes.locator("li").first).to_be_visible()
        expect(changes).to_contain_text("Polymyalgia rheumatica (PMR) is no longer on your list.")
        shot(page, f"23-what-changed-{'js' if javascript else 'no-js'}")


def test_the_landing_says_as_many_questions_as_the_chat(page: Page):
    page.goto("/")
    promised = re.search(r"About (\d+) short questions", page.locator("main").inner_text()).group(1)
    start(page)
    expect(page.locator("#progress-t")).to_have_text(promised)


# --- where a page without JavaScript lands ----------------------------------------------------------------------------

POSITION = """() => {
  const box = (el) => el && el.getBoundingClientRect();
  const bar = box(document.querySelector('.bar'));
  const q = box(document.querySelector('#q-text'));
  const dock = box(document.querySelector('#answer .dock'));
  const seen = (r) => r && r.bottom > bar.bottom && r.top < innerHeight;
  return {barBottom: bar.bottom, qTop: q.top, qBottom: q.bottom, dockSeen: seen(dock),
          answersAbove: [...document.querySelectorAll('#log .turn')].filter(t => seen(box(t))).length,
          firstControl: box(document.querySelector('#answer button, #answer label')).bottom};
}"""


def test_without_javascript_every_step_lands_at_the_question(browser, browser_context_args, shot):
    with phone(browser, browser_context_args, javascript=False) as page:
        start(page)
        seen = {}
        for _ in range(20):
            if page.locator("form#answer").count() == 0:
                break
            question, step, kind = current_question(page)
            where = page.evaluate(POSITION)
            seen[question] = where
            assert where["qTop"] >= where["barBottom"] - 1, (question, where)  # not under the top bar
            assert where["qBottom"] <= SCREEN, (question, where)  # the whole question on the first screen
            assert where["firstControl"] <= SCREEN, (question, where)  # and its first answer
            assert where["answersAbove"] <= 4, (question, where)  # only the last few answers above it
            if kind != "choice":
                assert where["dockSeen"], (question, where)  # Done shows, and only with its question
            if question in ("morning_stiffness", "associated"):
                shot(page, f"24-no-js-lands-{question}")
            answer_one(page, SHOULDERS_AND_HIPS[question])
        assert len(seen) >= 14 and page.url.split("#")[0].endswith("/chat/result")


# --- choices that read as choices -------------------------------------------------------------------------------------

@BOTH
def test_multi_questions_say_choose_all_and_none_is_in_reach(browser, browser_context_args, javascript, shot):
    with phone(browser, browser_context_args, javascript) as page:
        start(page)
        for question in ("red_flags", "pain_character", "triggers", "associated", "exposures", "history"):
            answer_through(page, SHOULDERS_AND_HIPS, until=question)
            form = page.locator("form#answer")
            hint = form.locator("legend.hint")
            expect(hint).to_have_text(re.compile(r"Choose all that apply\.$"))
            expect(hint).to_be_visible()
            assert on_screen(hint), question
            none = form.locator("label.chip.none")
            if question != "pain_character":  # the one list without "None of these"
                assert on_screen(none), f"'None of these' needs a scroll on {question}"
            assert on_screen(form.locator("button.done")), question
            if question == "associated":
                groups = form.locator("fieldset.group > legend").all_inner_texts()
                assert groups == ["Skin, hair and hands", "Joints, eyes and mouth", "Heart, breathing and stomach",
                                  "Nerves and muscles", "Head, sleep and mood", "Whole body"]
                expect(form.locator("fieldset.group").first.locator("input[value=flushing]")).to_have_count(1)
                shot(page, f"25-groups-{'js' if javascript else 'no-js'}")
        none = page.locator("form#answer label.chip.none")
        none.tap()
        expect(none.locator("input")).to_be_checked()


def test_back_from_the_result_leaves_rather_than_coming_back_once_per_question(page: Page):
    start(page)
    answer_through(page, SHOULDERS_AND_HIPS)
    expect(page).to_have_url(re.compile(r"/chat/result"))
    page.go_back()
    expect(page.get_by_role("link", name="See my result")).to_be_visible()  # the start page, in one step
    page.go_forward()
    expect(page).to_have_url(re.compile(r"/chat/result"))
