"""Playwright fixtures: Debian's chromium at a 390×844 touch viewport, and the app served from a thread."""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from assistant import create_app
from assistant.store.db import upgrade

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True,
         "locale": "en-US"}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test-deps), never a browser download")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> str:
    database = tmp_path_factory.mktemp("browser") / "chat.sqlite3"
    url = f"sqlite:///{database}"
    upgrade(url)
    app = create_app({"TESTING": True, "SECRET_KEY": "browser-tests", "DATABASE_URL": url})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}"  # links point where it serves
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    app.extensions["db_engine"].dispose()


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    return live_server


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, **PHONE}


@pytest.fixture
def shot():
    """Save a screenshot under test-output/screenshots/ for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page: Page, name: str, full_page: bool = False, small: bool = False) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        if small:  # one pixel per CSS pixel: light enough for the README (docs/screenshots/)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-small.png"), animations="disabled", scale="css")
        return path
    return save


# --- a person tapping through the conversation ------------------------------------------------------------------------

# Stiff, aching shoulders and hips in an older person: polymyalgia rheumatica is the expected first card.
SHOULDERS_AND_HIPS: dict[str, Any] = {
    "age_band": "65_plus", "red_flags": ["none"], "sex": "female", "main_complaint": "pain",
    "pain_locations": ["shoulders", "hips", "neck"], "pain_sides": "both_sides",
    "pain_character": ["stiffness", "deep_ache"], "duration": "6_weeks_to_3_months", "onset": "over_days",
    "morning_stiffness": "over_60_min", "time_pattern": "worse_morning", "exertion_response": "eases_with_movement",
    "triggers": ["none"], "associated": ["none"], "exposures": ["none"], "history": ["none"],
}


def current_question(page: Page) -> tuple[str, str, str]:
    """(question id, step, kind) of the question on screen."""
    form = page.locator("form#answer")
    return (form.locator("input[name=question_id]").get_attribute("value"),
            form.locator("input[name=step]").get_attribute("value"), form.get_attribute("data-type"))


def chip(page: Page, value: str):
    return page.locator("form#answer label.chip").filter(has=page.locator(f"input[value='{value}']"))


def tap_answer(page: Page, value: Any, kind: str) -> None:
    """Answer the question on screen by tapping, as a person would."""
    form = page.locator("form#answer")
    if kind == "choice":
        form.locator(f"button[name=value][value='{value}']").tap()
        return
    for item in value:
        if kind == "map":
            button = form.locator(f"button[name=toggle][value='{item}']")
            if button.get_attribute("aria-pressed") != "true":
                button.tap()
                expect(form.locator(f"button[name=toggle][value='{item}']")).to_have_attribute("aria-pressed", "true")
        else:
            box = form.locator(f"input[name=value][value='{item}']")
            if not box.is_checked():
                chip(page, item).tap()
            expect(box).to_be_checked()
    if kind == "map":  # anything picked before (a suggestion) that is not in the story: untick it
        for button in form.locator("button[name=toggle][aria-pressed=true]").all():
            if button.get_attribute("value") not in value:
                button.tap()
    else:
        for box in form.locator("input[name=value]:checked").all():
            if box.get_attribute("value") not in value:
                chip(page, box.get_attribute("value")).tap()
    page.locator("form#answer button.done").tap()


def wait_moved_on(page: Page, step: str) -> None:
    """Wait until the question on screen is a new one (or the conversation ended)."""
    page.wait_for_load_state()
    expect(page.locator(f"form#answer input[name=step][value='{step}']")).to_have_count(0)


def answer_one(page: Page, value: Any) -> str:
    """Answer the question on screen and wait for the next one; returns the id of the question answered."""
    question_id, step, kind = current_question(page)
    tap_answer(page, value, kind)
    wait_moved_on(page, step)
    return question_id


def answer_through(page: Page, story: dict[str, Any], until: str | None = None, screenshots=None) -> list[str]:
    """Tap through the conversation with the story's answers; stop at `until` (not answered) or at the end."""
    asked = []
    for _ in range(60):
        page.wait_for_load_state()
        if page.locator("form#answer").count() == 0:
            page.wait_for_load_state()
            return asked
        question_id, step, kind = current_question(page)
        if question_id == until:
            return asked
        if screenshots:
            screenshots(page, question_id)
        assert question_id in story, f"the flow asked {question_id!r}, which the story does not answer"
        tap_answer(page, story[question_id], kind)
        wait_moved_on(page, step)
        asked.append(question_id)
    raise AssertionError("the conversation did not end")


def start(page: Page) -> None:
    page.goto("/")
    page.get_by_role("button", name="Start", exact=True).tap()
    expect(page.locator("form#answer")).to_be_visible()


def condition_names(page: Page) -> list[str]:
    return [re.sub(r"\s+", " ", name).strip() for name in page.locator(".ranked .condition h3").all_inner_texts()]
