"""Accessibility (axe-core, 0 violations) and the weight of the first load, in Debian's chromium."""
from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import axe_playwright_python
import pytest
from playwright.sync_api import Page, expect

from .conftest import ROOT, SHOULDERS_AND_HIPS, answer_through, start

pytestmark = pytest.mark.browser

AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
BUDGET = 30 * 1024  # HTML + CSS + JS of the chat page's first load, gzip -9
REPORTS = ROOT / "test-output" / "axe"


def axe_violations(page: Page, name: str) -> list[dict]:
    """Run axe-core (WCAG 2.0/2.1/2.2 A and AA, plus best practices) and keep the report beside the screenshots."""
    page.evaluate("Promise.all(document.getAnimations().map(a => a.finished))")  # scan what stays on screen
    page.evaluate(AXE)
    results = page.evaluate("""() => axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']},
        resultTypes: ['violations']})""")
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{name}.json").write_text(json.dumps(results["violations"], indent=1), encoding="utf-8")
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results["violations"]]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations_on_any_page(page: Page, scheme: str, shot):
    page.emulate_media(color_scheme=scheme)
    pages = {}
    page.goto("/")
    pages["landing"] = axe_violations(page, f"landing-{scheme}")
    start(page)
    pages["question-choice"] = axe_violations(page, f"question-choice-{scheme}")
    answer_through(page, SHOULDERS_AND_HIPS, until="red_flags")
    pages["question-chips"] = axe_violations(page, f"question-chips-{scheme}")
    answer_through(page, SHOULDERS_AND_HIPS, until="pain_locations")
    page.locator("button[name=toggle][value=neck]").tap()
    pages["question-body-map"] = axe_violations(page, f"question-body-map-{scheme}")
    page.locator("details.why summary").tap()
    pages["question-help-open"] = axe_violations(page, f"question-help-{scheme}")
    answer_through(page, SHOULDERS_AND_HIPS)
    expect(page.locator(".cards").first).to_be_visible()
    for details in page.locator("main details").all():  # open every "show more" and source list
        details.evaluate("d => d.open = true")
    pages["result"] = axe_violations(page, f"result-{scheme}")
    if scheme == "dark":
        shot(page, "08-result-dark")
    assert pages == {name: [] for name in pages}, json.dumps(pages, indent=1)


def test_axe_finds_no_violations_on_the_emergency_and_error_pages(page: Page, shot):
    start(page)
    answer_through(page, dict(SHOULDERS_AND_HIPS, red_flags=["breathing_difficulty"]))
    expect(page.get_by_role("link", name="Call 911 now")).to_be_visible()
    emergency = axe_violations(page, "emergency")
    page.goto("/no-such-page")
    missing = axe_violations(page, "error-404")
    shot(page, "10-error-404")
    assert (emergency, missing) == ([], [])


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_short_page_is_its_own_colour_down_to_the_bottom_of_the_screen(page: Page, scheme: str):
    """The body is a size container, and a container's background does not reach the rest of the screen: a page
    shorter than the phone ended halfway down in white."""
    page.emulate_media(color_scheme=scheme)
    page.goto("/s/" + "x" * 43)  # a link that does not work: a short page
    assert page.evaluate("document.body.offsetHeight") < 844
    screen, body = page.evaluate("[document.documentElement, document.body]"
                                 ".map(e => getComputedStyle(e).backgroundColor)")
    assert screen == body != "rgba(0, 0, 0, 0)"


def test_first_load_of_the_chat_page_is_small_and_stays_on_this_machine(browser, browser_context_args):
    """A phone opening the chat page with an empty cache: HTML + CSS + JS within budget, all from 127.0.0.1."""
    first = browser.new_context(**browser_context_args)
    start(first.new_page())
    cookies = first.cookies()
    first.close()

    context = browser.new_context(**browser_context_args)  # empty cache, holding only the conversation cookie
    context.add_cookies([c for c in cookies if c["name"] == "conversation"])
    page = context.new_page()
    requests, bodies = [], {}
    page.on("request", lambda request: requests.append(request.url))

    def record(response):
        if response.status == 200:
            bodies[urlsplit(response.url).path] = response.body()
    page.on("response", record)
    try:
        page.goto("/chat")
        expect(page.locator("form#answer")).to_be_visible()
        page.wait_for_load_state("networkidle")
        page.locator("form#answer button[name=value][value='40_49']").tap()  # one answer over the API
        expect(page.locator("#log .turn")).to_have_count(1)
    finally:
        context.close()

    unhashed = lambda path: re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", path)  # noqa: E731
    sizes = {unhashed(path): len(gzip.compress(body, compresslevel=9)) for path, body in bodies.items()}
    counted = {path: size for path, size in sizes.items() if path == "/chat" or path.endswith((".css", ".js"))}
    total = sum(counted.values())
    print(f"first load of the chat page, gzip -9: {total} bytes {counted}")
    assert set(counted) == {"/chat", "/static/app.css", "/static/chat.js"}, sizes
    assert total <= BUDGET, f"{total} bytes > {BUDGET}: {counted}"
    assert "/static/favicon.svg" in sizes  # served, so no 404 for the icon
    outside = [url for url in requests if urlsplit(url).hostname != "127.0.0.1"]
    assert not outside, f"requests left this machine: {outside}"


OVERFLOW = """() => {
  const wide = document.documentElement.scrollWidth > window.innerWidth + 1;
  const clipped = [...document.querySelectorAll('main button, main a, main summary, main label, main p, main h1')]
    .filter(el => el.offsetParent && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflow !== 'visible')
    .map(el => el.outerHTML.slice(0, 80));
  const buttons = [...document.querySelectorAll('.regions button')].map(b => b.getBoundingClientRect());
  const overlapping = buttons.some((a, i) => buttons.some((b, j) => i < j && a.left < b.right && b.left < a.right
    && a.top < b.bottom && b.top < a.bottom));
  return {wide, clipped, overlapping};
}"""

SMALL_TARGETS = """() => [...document.querySelectorAll(
    'main button, main summary, main .btn, main label.chip span, footer summary, footer button')]
  .filter(el => el.offsetParent)
  .map(el => [el.textContent.trim().slice(0, 30), el.getBoundingClientRect()])
  .filter(([_, r]) => r.height < 44 || r.width < 44)
  .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)"""


def test_text_at_200_percent_loses_nothing_and_targets_are_44px(page: Page, shot):
    def check(name: str) -> None:
        page.wait_for_load_state()
        page.evaluate("Promise.all(document.getAnimations().map(a => a.finished))")
        assert page.evaluate(SMALL_TARGETS) == [], name
        page.evaluate("document.documentElement.style.fontSize = '200%'")  # as a person's larger text setting does
        assert page.evaluate(OVERFLOW) == {"wide": False, "clipped": [], "overlapping": False}, name
        shot(page, f"09-text-200-{name}")
        page.evaluate("document.documentElement.style.fontSize = ''")

    page.goto("/")
    check("landing")
    start(page)
    check("question")
    answer_through(page, SHOULDERS_AND_HIPS, until="red_flags")
    check("chips")
    answer_through(page, SHOULDERS_AND_HIPS, until="pain_locations")
    check("body-map")
    answer_through(page, SHOULDERS_AND_HIPS)
    for details in page.locator("main details").all():
        details.evaluate("d => d.open = true")
    check("result")
