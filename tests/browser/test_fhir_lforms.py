"""A real FHIR renderer: LHC-Forms (npm `lforms` 40, the US National Library of Medicine's form renderer, pinned in
tests/browser/lforms/) in a form app on another origin. It fetches our Questionnaire (so CORS is exercised by a real
browser), renders it at 390×844 and 1280×900, a person fills it in for a vignette, and its QuestionnaireResponse,
posted to /api/v1/assess, gets the same Result as the same answers in JSON. The emergency stop and the "None of
these" warning are shown by LHC-Forms itself, from the Questionnaire alone."""
from __future__ import annotations

import functools
import json
import re
import threading
import urllib.error
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ..conftest import call_json
from ..fhir_forms import fill, json_answers
from .conftest import ROOT, SHOULDERS_AND_HIPS

pytestmark = pytest.mark.browser

LFORMS = ROOT / "tests" / "browser" / "lforms"
FHIR_JSON = "application/fhir+json"
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "en-US"}


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def form_app() -> str:
    """The form app: tests/browser/lforms/form.html and LHC-Forms, served on their own port (another origin)."""
    if not (LFORMS / "node_modules" / "lforms" / "dist").is_dir():
        pytest.fail("LHC-Forms is missing: run `make test-deps` (npm ci in tests/browser/lforms)")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(LFORMS)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/form.html"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def questionnaire(live_server: str) -> dict:
    status, body = call_json(f"{live_server}/api/v1/flows/muscle-pain/questionnaire", "GET")
    assert status == 200
    return body


def open_form(page: Page, form_app: str, live_server: str) -> list[str]:
    """Load LHC-Forms and render our Questionnaire as a form app would; returns the page's errors as they come."""
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(form_app)
    page.wait_for_function("() => !!(window.LForms && LForms.Util && LForms.Util.addFormToPage && LForms.FHIR)")
    page.evaluate("""async url => {
        const response = await fetch(url, {headers: {Accept: 'application/fhir+json'}});
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        await LForms.Util.addFormToPage(await response.json(), 'form', {fhirVersion: 'R4'});
    }""", f"{live_server}/api/v1/flows/muscle-pain/questionnaire")
    expect(page.locator("lhc-item").first).to_be_visible()
    return errors


def row(page: Page, link_id: str):
    return page.locator(f'lhc-item[id^="item-{link_id}/"]')


def labels(questionnaire: dict) -> dict[str, dict[str, str]]:
    from ..fhir_forms import walk
    return {i["linkId"]: {o["valueCoding"]["code"]: o["valueCoding"]["display"] for o in i["answerOption"]}
            for i in walk(questionnaire["item"]) if i["type"] == "choice"}


def tick(page: Page, questionnaire: dict, link_id: str, value: str) -> None:
    """Tap an answer as a person would (the label), and wait until LHC-Forms has taken it."""
    label = labels(questionnaire)[link_id][value]
    item = row(page, link_id)
    option = item.locator("label").filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    answer = item.get_by_label(label, exact=True)
    option.click()
    try:
        expect(answer).to_be_checked()
    except AssertionError:
        if not answer.is_checked():  # on a busy machine the tap can land before LHC-Forms listens on the row: again
            option.click()
        expect(answer).to_be_checked()


def fill_in(page: Page, questionnaire: dict, story: dict[str, Any]) -> list[str]:
    """Answer every question LHC-Forms shows, in order, from the story; returns the questions it showed."""
    shown = []
    for link_id in labels(questionnaire):
        if row(page, link_id).count() == 0:
            continue  # not enabled by the answers so far
        shown.append(link_id)
        value = story[link_id]
        for one in [value] if isinstance(value, str) else value:
            tick(page, questionnaire, link_id, one)
    return shown


def response_of(page: Page) -> dict:
    return page.evaluate(
        "LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4', document.querySelector('lhc-forms'))")


def assess_fhir(live_server: str, response: dict) -> tuple[int, Any]:
    request = urllib.request.Request(f"{live_server}/api/v1/assess", data=json.dumps(response).encode(),
                                     method="POST", headers={"Content-Type": FHIR_JSON})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_lhc_forms_fills_a_vignette_and_its_response_gets_the_same_result(
        page: Page, browser, request, size, form_app, live_server, questionnaire, shot):
    if size == "desktop":
        context = browser.new_context(**DESKTOP)
        request.addfinalizer(context.close)
        page = context.new_page()
    errors = open_form(page, form_app, live_server)
    disclaimer = row(page, "flow.disclaimer")
    expect(disclaimer).to_contain_text(questionnaire["item"][0]["text"][:60])
    assert disclaimer.bounding_box()["y"] < row(page, "age_band").bounding_box()["y"]
    # radio buttons and check-boxes, never a drop-down
    assert row(page, "age_band").locator("input[type=radio]").count() == len(labels(questionnaire)["age_band"])
    assert row(page, "red_flags").locator("input[type=checkbox]").count() == len(labels(questionnaire)["red_flags"])

    shown = fill_in(page, questionnaire, SHOULDERS_AND_HIPS)
    shot(page, f"lforms-{size}-filled", full_page=True)
    response = response_of(page)
    assert response["resourceType"] == "QuestionnaireResponse"
    assert response["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"
    # item for item what we export for the same answers (tests/fhir_forms.py is checked against our export)
    ours, _ = fill(questionnaire, SHOULDERS_AND_HIPS)
    assert response["item"] == ours["item"]
    assert list(json_answers(response)) == shown

    status, result = assess_fhir(live_server, response)
    assert status == 200, result
    status, same = call_json(f"{live_server}/api/v1/assess", "POST",
                             {"flow": "muscle-pain", "answers": json_answers(response)})
    assert status == 200 and result == same
    assert result["conditions"][0]["id"] == "polymyalgia_rheumatica"
    assert errors == []


def test_lhc_forms_shows_the_stops_and_hides_the_rest(page: Page, form_app, live_server, questionnaire, shot):
    errors = open_form(page, form_app, live_server)
    tick(page, questionnaire, "age_band", "40_49")
    expect(row(page, "sex")).to_be_visible()
    tick(page, questionnaire, "red_flags", "chest_pain")
    alert = row(page, "flag.chest_pain")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Call an ambulance now")
    expect(row(page, "sex")).to_have_count(0)
    expect(row(page, "after.red_flags")).to_have_count(0)
    shot(page, "lforms-emergency", full_page=True)
    status, result = assess_fhir(live_server, response_of(page))
    assert status == 200 and result["urgency"] == "emergency" and result["conditions"] == []
    if any(i["linkId"] == "after.age_band" for i in questionnaire["item"]):  # a flow that stops for children
        tick(page, questionnaire, "age_band", "under_18")
        expect(row(page, "stop.stopped_not_adult")).to_contain_text("written for adults")
        expect(row(page, "red_flags")).to_have_count(0)
        status, result = assess_fhir(live_server, response_of(page))
        assert status == 200 and result["status"] == "stopped_not_adult", result
    assert errors == []


def test_lhc_forms_warns_about_none_of_these_with_another_answer(page: Page, form_app, live_server,
                                                                 questionnaire, shot):
    errors = open_form(page, form_app, live_server)
    tick(page, questionnaire, "age_band", "40_49")
    tick(page, questionnaire, "red_flags", "swallowing_difficulty")
    expect(row(page, "red_flags.none-alone")).to_have_count(0)
    tick(page, questionnaire, "red_flags", "none")
    warning = row(page, "red_flags.none-alone")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("cannot go with another answer")
    shot(page, "lforms-none-of-these", full_page=True)
    status, result = assess_fhir(live_server, response_of(page))  # LHC-Forms lets it through; we do not
    assert status == 422 and list(result["error"]["fields"]["item"]) == ["red_flags"]
    assert errors == []
