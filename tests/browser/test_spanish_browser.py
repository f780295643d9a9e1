"""A whole conversation in Spanish in Debian's chromium at 390×844 with touch, for a phone whose language is Spanish:
with JavaScript on and off, every page says lang="es", axe-core finds no violations, the result is the same as in
English in Spanish words, and the chat page's first load stays within its gzip budget."""
from __future__ import annotations

import gzip
import json
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from .conftest import SHOULDERS_AND_HIPS, answer_through, condition_names
from .test_quality import BUDGET, axe_violations

pytestmark = pytest.mark.browser

@pytest.fixture
def spanish_phone(browser_context_args) -> dict:
    return {**browser_context_args, "locale": "es-ES"}  # chromium then sends Accept-Language: es-ES


@pytest.fixture
def spanish(browser, spanish_phone):
    """A page on a Spanish phone; `javascript` False for a basic browser."""
    contexts = []

    def open_page(javascript: bool = True) -> Page:
        context = browser.new_context(**spanish_phone, java_script_enabled=javascript)
        contexts.append(context)
        return context.new_page()
    yield open_page
    for context in contexts:
        context.close()


def start_in_spanish(page: Page) -> None:
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.get_by_role("button", name="Empezar", exact=True).tap()
    expect(page.locator("form#answer")).to_be_visible()
    expect(page.locator("#q-text")).to_have_text("¿Qué edad tiene?")


def spanish_result(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/chat/result$"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert condition_names(page)[0].startswith("Polimialgia reumática")
    expect(page.get_by_role("link", name="Compartir con su médico")).to_have_attribute("href", "/share")


def test_a_whole_conversation_in_spanish_with_javascript(spanish, shot):
    page = spanish()
    pages = {}
    page.goto("/")
    pages["landing"] = axe_violations(page, "es-landing")
    start_in_spanish(page)
    pages["question-choice"] = axe_violations(page, "es-question-choice")
    answer_through(page, SHOULDERS_AND_HIPS, until="red_flags")
    expect(page.locator("#q-text")).to_contain_text("Primero, por su seguridad")
    pages["question-chips"] = axe_violations(page, "es-question-chips")
    answer_through(page, SHOULDERS_AND_HIPS, until="pain_locations")
    page.locator("button[name=toggle][value=neck]").tap()
    expect(page.locator(".map .picked")).to_have_text("Elegido: Cuello")  # the map the script drew, in Spanish
    expect(page.locator("button[name=toggle][value=everywhere]")).to_have_text("Por todas partes")
    pages["question-body-map"] = axe_violations(page, "es-question-body-map")
    expect(page.locator("#log .bubble.me").first).to_contain_text("65 o más")  # the earlier answers in Spanish too
    shot(page, "es-02-body-map")
    answer_through(page, SHOULDERS_AND_HIPS)
    spanish_result(page)
    for details in page.locator("main details").all():
        details.evaluate("d => d.open = true")
    pages["result"] = axe_violations(page, "es-result")
    shot(page, "es-04-result", full_page=True)
    assert pages == {name: [] for name in pages}, json.dumps(pages, indent=1)


def test_a_whole_conversation_in_spanish_without_javascript(spanish, shot):
    page = spanish(javascript=False)
    start_in_spanish(page)
    asked = answer_through(page, SHOULDERS_AND_HIPS)
    assert asked[:2] == ["age_band", "red_flags"] and "pain_locations" in asked
    spanish_result(page)  # the same pages axe checked above, reached by plain form posts
    shot(page, "es-05-result-no-js")


def test_the_emergency_stop_in_spanish(spanish):
    page = spanish()
    start_in_spanish(page)
    answer_through(page, dict(SHOULDERS_AND_HIPS, red_flags=["breathing_difficulty"]))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Llame ya a una ambulancia")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert axe_violations(page, "es-emergency") == []


def test_the_first_load_of_the_chat_page_in_spanish_is_within_budget(spanish, spanish_phone):
    first = spanish()
    start_in_spanish(first)
    page = first.context.browser.new_context(**spanish_phone).new_page()  # an empty cache, holding the cookie
    page.context.add_cookies([c for c in first.context.cookies() if c["name"] == "conversation"])
    bodies = {}
    page.on("response", lambda r: bodies.__setitem__(urlsplit(r.url).path, r.body()) if r.status == 200 else None)
    try:
        page.goto("/chat")
        expect(page.locator("#q-text")).to_have_text("¿Qué edad tiene?")
        page.wait_for_load_state("networkidle")
    finally:
        page.context.close()
    sizes = {path: len(gzip.compress(body, compresslevel=9)) for path, body in bodies.items()
             if path == "/chat" or path.endswith((".css", ".js"))}
    print(f"first load of the chat page in Spanish, gzip -9: {sum(sizes.values())} bytes {sizes}")
    assert len(sizes) == 3 and sum(sizes.values()) <= BUDGET, sizes
