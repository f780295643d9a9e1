"""The clinician handout prints on exactly one page, on A4 and on US Letter, even for the longest conversation the flow
allows. Printed by Debian's headless chromium (Playwright), pages counted with pypdf."""
from __future__ import annotations

import io
import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from assistant.store.db import upgrade
from assistant.engine.machine import STOPPED, FlowEngine
from assistant.content.flows import EXCLUSIVE_VALUE

from .conftest import WIDESPREAD_PAIN, Talk, make_app

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PAPER = ("A4", "Letter")
OUTPUT = Path(__file__).resolve().parents[1] / "test-output" / "handout"


# --- the longest conversations the flow allows --------------------------------------------------------------------------

def _ends_in_emergency(engine: FlowEngine, answers: dict[str, tuple[str, ...]]) -> bool:
    return engine.walk(answers).end == STOPPED


def longest_answers(engine: FlowEngine, age: str) -> dict[str, tuple[str, ...]]:
    """Every multi question with all its non-exclusive values, except values that would stop the conversation at an
    emergency (the handout of a stopped conversation is short); every other choice made so that the flow asks as many
    questions as possible, with the longest label as the tie-break."""
    flow = engine.flow
    answers = {q.id: tuple(v for v in q.values if v != EXCLUSIVE_VALUE) if q.type == "multi"
               else (max(q.options, key=lambda o: len(o.label)).value,) for q in flow.questions}
    answers["age_band"] = (age,)

    def keep_out_of_emergency() -> None:
        for question in flow.questions:
            if question.type == "multi":
                kept: list[str] = []
                for value in answers[question.id]:
                    if not _ends_in_emergency(engine, {**answers, question.id: tuple(kept + [value])}):
                        kept.append(value)
                answers[question.id] = tuple(kept)

    keep_out_of_emergency()
    for question in flow.questions:
        if question.type == "choice" and question.id != "age_band":
            answers[question.id] = (max(question.values, key=lambda v: (
                len(engine.walk({**answers, question.id: (v,)}).visited), len(question.label(v)))),)
    keep_out_of_emergency()
    walk = engine.walk(answers)
    assert walk.end != STOPPED
    return {q: answers[q] for q in walk.visited}


def everything_ticked(engine: FlowEngine) -> dict[str, tuple[str, ...]]:
    """Literally every non-exclusive value of every multi question (this one stops at the red flags)."""
    return {q.id: tuple(v for v in q.values if v != EXCLUSIVE_VALUE) if q.type == "multi" else (q.values[-1],)
            for q in engine.flow.questions}


def as_story(engine: FlowEngine, answers: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    return {q: list(v) if engine.flow.question(q).type == "multi" else v[0] for q, v in answers.items()}


# --- fixtures: the app served from a thread, and chromium ---------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    database = tmp_path_factory.mktemp("handout") / "handout.sqlite3"
    url = f"sqlite:///{database}"
    upgrade(url)
    app = make_app(url)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    app.extensions["db_engine"].dispose()


@pytest.fixture(scope="module")
def chromium(request):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test-deps), never a browser download")
    manager = None
    try:  # pytest-playwright's session-wide Playwright, when that plugin is installed (only one may run at a time)
        playwright = request.getfixturevalue("playwright")
    except pytest.FixtureLookupError:
        from playwright.sync_api import sync_playwright
        manager = sync_playwright()
        playwright = manager.start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    if manager is not None:
        manager.__exit__(None, None, None)


def handout_url(app, base: str, story: dict[str, Any]) -> str:
    client = app.test_client()
    conversation = Talk(client).through(story)
    link = client.post(f"/api/v1/conversations/{conversation.id}/shares", json={}).get_json()
    return base + re.search(r"/s/[^/]+", link["url"]).group(0) + "/handout"


def print_pages(chromium, url: str, name: str) -> dict[str, int]:
    from pypdf import PdfReader
    page = chromium.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        response = page.goto(url, wait_until="networkidle")
        assert response.status == 200
        counts = {}
        OUTPUT.mkdir(parents=True, exist_ok=True)
        for paper in PAPER:
            pdf = page.pdf(format=paper, print_background=True)
            (OUTPUT / f"{name}-{paper}.pdf").write_bytes(pdf)
            reader = PdfReader(io.BytesIO(pdf))
            counts[paper] = len(reader.pages)
            printed = reader.pages[0].extract_text()
            for heading in ("HISTORY AS REPORTED", "NOTES", "Urgency"):
                assert heading in printed, (name, paper, heading)
        assert not problems, problems  # no CSP violation, no missing file, no script error
        return counts
    finally:
        page.close()


# --- the tests ----------------------------------------------------------------------------------------------------------

def test_the_longest_conversations_print_on_one_page_of_a4_and_letter(served, chromium):
    app, base = served
    engine = app.extensions["engines"].get("muscle-pain")
    measured = {}
    for age in engine.flow.question("age_band").values:
        answers = longest_answers(engine, age)
        multi = [q for q in answers if engine.flow.question(q).type == "multi" and q != "red_flags"]
        assert all(len(answers[q]) == len([v for v in engine.flow.question(q).values if v != EXCLUSIVE_VALUE])
                   for q in multi), "every multi question (but the red flags) has every value ticked"
        measured[age] = print_pages(chromium, handout_url(app, base, as_story(engine, answers)), f"longest-{age}")
    print("handout pages:", measured)
    assert measured == {age: {"A4": 1, "Letter": 1} for age in measured}


def test_typical_and_emergency_handouts_print_on_one_page(served, chromium):
    app, base = served
    engine = app.extensions["engines"].get("muscle-pain")
    for name, story in (("typical", WIDESPREAD_PAIN), ("everything-ticked", as_story(engine, everything_ticked(engine)))):
        assert print_pages(chromium, handout_url(app, base, story), name) == {"A4": 1, "Letter": 1}, name


def test_print_button_calls_window_print_and_the_page_fits_a_phone(served, chromium):
    app, base = served
    engine = app.extensions["engines"].get("muscle-pain")
    url = handout_url(app, base, as_story(engine, longest_answers(engine, "65_plus")))
    context = chromium.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                   has_touch=True)
    try:
        page = context.new_page()
        page.add_init_script("window.__printed = 0; window.print = () => { window.__printed += 1; };")
        page.goto(url, wait_until="networkidle")
        button = page.get_by_role("button", name="Print / Save as PDF")
        assert button.is_visible()
        button.click()
        assert page.evaluate("window.__printed") == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the handout scrolls sideways on a phone"
        page.emulate_media(media="print")
        assert not button.is_visible(), "the button must not be printed"
    finally:
        context.close()



def test_the_longest_conversation_with_a_month_of_check_ins_prints_on_one_page(served, chromium, monkeypatch):
    """The chart and its line take the notes' space beside them: still one page, the notes still there."""
    from datetime import timedelta

    from assistant.engine import checkins

    from .test_checkins import CALM_DAY, CheckIn
    app, base = served
    engine = app.extensions["engines"].get("muscle-pain")
    client = app.test_client()
    intake = Talk(client).through(as_story(engine, longest_answers(engine, "65_plus")))
    areas = [card["id"] for card in intake.result()["lifestyle"]]
    real_today = checkins.today()
    for days_ago in range(29, -1, -1):
        monkeypatch.setattr(checkins, "today", lambda d=days_ago: real_today - timedelta(days=d))
        CheckIn(client, intake.id).through({**CALM_DAY, "pain": str(9 - days_ago // 5), "tried": areas})
    monkeypatch.undo()
    link = client.post(f"/api/v1/conversations/{intake.id}/shares", json={}).get_json()
    url = base + re.search(r"/s/[^/]+", link["url"]).group(0) + "/handout"
    assert print_pages(chromium, url, "longest-with-checkins") == {"A4": 1, "Letter": 1}
