"""The result, the share page and the handout on a 390×844 phone: the first screen, the share flow's taps, and every
page at 200 % text without sideways scrolling or sticky bars that hide the page."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from ..conftest import WIDESPREAD_PAIN
from .conftest import SHOULDERS_AND_HIPS, answer_through, start
from .test_quality import OVERFLOW

pytestmark = pytest.mark.browser

SCREEN = 844
WORDS_BEFORE_SHOW_MORE = 600
STICKY = """() => [...document.querySelectorAll('body *')]
  .filter(el => ['sticky', 'fixed'].includes(getComputedStyle(el).position) && el.offsetParent !== null)
  .map(el => [el.className || el.tagName, Math.round(el.getBoundingClientRect().height)])"""


def finish(page: Page, story: dict) -> None:
    start(page)
    answer_through(page, story)
    expect(page).to_have_url(re.compile(r"/chat/result$"))


def on_first_screen(page: Page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= SCREEN


def test_the_first_screen_says_what_to_do_lists_the_conditions_and_offers_to_share(page: Page, shot):
    finish(page, SHOULDERS_AND_HIPS)
    assert page.evaluate("scrollY") == 0
    assert on_first_screen(page, page.get_by_role("heading", level=1))
    share = page.locator("main > .panel").first.get_by_role("link", name="Share with your doctor")
    assert on_first_screen(page, share), "the share button is on the first screen"
    first = page.locator(".ranked .condition summary").first
    assert first.bounding_box()["y"] < SCREEN, "the list starts on the first screen"
    words = len(page.locator("main").inner_text().split())  # closed disclosures are not rendered, nor read
    screens = page.evaluate("document.documentElement.scrollHeight") / SCREEN
    print(f"result: {words} words before any 'show more', {screens:.1f} screens")
    assert words <= WORDS_BEFORE_SHOW_MORE
    assert "%" not in page.locator("main").inner_text()
    shot(page, "11-result-first-screen", small=True)

    # a condition opens in place: same page, its details right under its line
    url = page.url
    first.tap()
    details = page.locator(".ranked .condition").first
    expect(details).to_have_attribute("open", "")
    expect(details.locator(".more-about")).to_be_visible()
    assert page.url == url
    first.evaluate("s => window.scrollTo(0, s.getBoundingClientRect().top + scrollY - 60)")
    shot(page, "12-result-condition-open", small=True)


def test_the_rest_of_the_list_opens_below_its_button_which_then_says_it_closes_it(page: Page):
    many_clues = dict(WIDESPREAD_PAIN, exposures=["water_damage_mold", "statin", "little_sun"],
                      associated=["brain_fog", "headaches", "unrefreshing_sleep", "numbness_tingling", "flushing",
                                  "hives_itching"])  # 12 conditions: 8 shown, 4 behind the button
    finish(page, many_clues)
    more = page.locator("details.more > summary")
    expect(more).to_have_text(re.compile(r"^Show \d+ more conditions?$"), use_inner_text=True)  # what shows
    more.tap()
    expect(more).to_have_text("Show fewer conditions", use_inner_text=True)
    expect(page.locator("details.more .condition").first).to_be_visible()
    more.tap()
    expect(more).to_have_text(re.compile(r"^Show \d+ more conditions?$"), use_inner_text=True)


def test_share_in_one_tap_then_copy_share_and_stop(browser, browser_context_args, base_url, shot):
    context = browser.new_context(**{**browser_context_args, "locale": "en-GB"}, timezone_id="Pacific/Auckland",
                                  permissions=["clipboard-read", "clipboard-write"])
    context.add_init_script("window.__shared = []; navigator.share = data => { window.__shared.push(data); "
                            "return Promise.resolve(); };")
    page = context.new_page()
    try:
        finish(page, WIDESPREAD_PAIN)
        page.locator("main > .panel").first.get_by_role("link", name="Share with your doctor").tap()
        expect(page).to_have_url(re.compile(r"/share$"))
        expect(page.get_by_role("button", name="Stop sharing")).to_have_count(0)  # nothing shared yet
        expect(page.get_by_role("radio", name="7 days")).to_be_checked()
        shot(page, "13-share-before", small=True)
        page.get_by_role("button", name="Make a link").tap()  # the one tap

        link = page.locator("#share-url")
        expect(link).to_have_value(re.compile(re.escape(base_url) + r"/s/[\w-]{43}$"))
        page.get_by_role("button", name="Copy link").tap()
        expect(page.locator("#share-said")).to_have_text(re.compile("Link copied"))
        assert page.evaluate("navigator.clipboard.readText()") == link.input_value()
        page.get_by_role("button", name="Share…").tap()
        assert page.evaluate("window.__shared.map(d => d.url)") == [link.input_value()]
        expect(page.locator(".sh-qr img")).to_be_visible()

        # the expiry 7 days from now in the person's own time zone, named, and written as their phone writes dates
        # (en-GB: the day before the month, 24-hour clock), not in US order
        expiry = page.locator("time[data-local]")
        moment = datetime.fromisoformat(expiry.get_attribute("datetime").replace("Z", "+00:00"))
        local = moment.astimezone(ZoneInfo("Pacific/Auckland"))
        said = expiry.inner_text()
        assert re.match(rf"{local:%A},? {local.day} {local:%B %Y}", said), said
        assert f"{local:%H:%M}" in said and re.search(r"(NZ[DS]T|GMT\+1[23])$", said), said
        shot(page, "14-share-link", small=True)

        page.get_by_role("link", name="Print a one-page handout").tap()
        expect(page.get_by_role("button", name="Print / Save as PDF")).to_be_visible()
        page.get_by_role("link", name="Back to sharing").tap()
        expect(page).to_have_url(re.compile(r"/share$"))

        page.get_by_role("button", name="Stop sharing").tap()
        expect(page.locator("#share-url")).to_have_count(0)
        expect(page.get_by_role("button", name="Stop sharing")).to_have_count(0)
        page.get_by_role("link", name="Back to your result").tap()
        expect(page).to_have_url(re.compile(r"/chat/result$"))
    finally:
        context.close()


def test_without_javascript_the_link_is_still_there_to_copy(browser, browser_context_args):
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    page = context.new_page()
    try:
        finish(page, WIDESPREAD_PAIN)
        page.goto("/share")
        page.get_by_role("button", name="Make a link").tap()
        expect(page.locator("#share-url")).to_be_visible()
        expect(page.get_by_role("button", name="Copy link")).to_be_hidden()
        expect(page.locator("time[data-local]")).to_have_text(re.compile(r"^\d{1,2} \w+ \d{4}$"))
    finally:
        context.close()


def tap_to(page: Page, link) -> None:
    with page.expect_navigation():
        link.tap()


def pages_to_check(page: Page, base_url: str):
    """(name, how to get there) for every kind of page, in the order a person meets them."""
    yield "landing", lambda: page.goto("/")
    yield "question", lambda: start(page)
    yield "chips", lambda: answer_through(page, SHOULDERS_AND_HIPS, until="red_flags")
    yield "body-map", lambda: answer_through(page, SHOULDERS_AND_HIPS, until="pain_locations")
    yield "result", lambda: answer_through(page, SHOULDERS_AND_HIPS)
    yield "share", lambda: page.goto("/share")
    yield "share-link", lambda: tap_to(page, page.get_by_role("button", name="Make a link"))
    yield "summary", lambda: tap_to(page, page.get_by_role("link", name="See what your doctor sees"))
    yield "handout", lambda: tap_to(page, page.get_by_role("link", name=re.compile("One-page handout")))
    yield "link-unknown", lambda: page.goto("/s/" + "x" * 43)
    yield "not-found", lambda: page.goto("/no-such-page")


def test_every_page_at_200_percent_text_fits_390_px_and_sticky_bars_leave_the_page(page: Page, base_url, shot):
    problems = {}
    for name, go in pages_to_check(page, base_url):
        go()
        page.wait_for_load_state()
        for details in page.locator("main details").all():  # everything open: the longest the page gets
            details.evaluate("d => d.open = true")
        page.evaluate("document.documentElement.style.fontSize = '200%'")  # as a person's larger text setting does
        overflow = page.evaluate(OVERFLOW)
        sticky = page.evaluate(STICKY)
        if overflow != {"wide": False, "clipped": [], "overlapping": False} or sum(h for _, h in sticky) > SCREEN / 4:
            problems[name] = {"overflow": overflow, "sticky bars (together at most a quarter of the screen)": sticky}
        shot(page, f"15-text-200-{name}")
        page.evaluate("document.documentElement.style.fontSize = ''")
    assert not problems, problems


def test_the_emergency_page_at_200_percent_text(page: Page, shot):
    start(page)
    answer_through(page, dict(SHOULDERS_AND_HIPS, red_flags=["chest_pain"]))
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    assert page.evaluate(OVERFLOW)["wide"] is False
    assert sum(h for _, h in page.evaluate(STICKY)) <= SCREEN / 4
    shot(page, "15-text-200-emergency")
