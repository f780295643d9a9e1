"""The phone chat without JavaScript: every step a form POST -> redirect -> next page, CSRF enforced, and any bad input
gives a friendly page (never a 500) without losing earlier answers."""
from __future__ import annotations

import html as html_lib
import re
from typing import Any

import pytest
from flask import render_template

from .conftest import WIDESPREAD_PAIN, make_app

EMERGENCY = dict(WIDESPREAD_PAIN, red_flags=["chest_pain"])


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page has no CSRF token"
    return match.group(1)


def text_of(page: str) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


class Chat:
    """A person with a basic phone browser: reads the page, taps a button (a form POST), follows the redirect."""

    def __init__(self, client) -> None:
        self.client = client
        landing = client.get("/")
        assert landing.status_code == 200
        again = {"confirmed": "1"} if 'name="confirmed"' in landing.text else {}  # "Start again", which asks first
        started = client.post("/start", data={"csrf_token": csrf_of(landing.text), **again})
        assert started.status_code == 303 and started.headers["Location"] == "/chat#ask"  # opens at the question
        self.page = client.get("/chat")

    @property
    def id(self) -> str:
        return self.client.get_cookie("conversation").value

    @property
    def html(self) -> str:
        return self.page.text

    def hidden(self, name: str) -> str:
        form = self.html[self.html.index('id="answer"'):]
        return re.search(rf'name="{name}" value="([^"]*)"', form).group(1)

    @property
    def question(self) -> str:
        return self.hidden("question_id")

    @property
    def step(self) -> str:
        return self.hidden("step")

    def api(self) -> dict[str, Any]:
        return self.client.get(f"/api/v1/conversations/{self.id}").get_json()

    def post(self, path: str, **fields: Any):
        data = {"csrf_token": csrf_of(self.html), **fields}
        response = self.client.post(path, data=data)
        assert response.status_code == 303, (response.status_code, response.text[:500])
        self.page = self.client.get(response.headers["Location"])
        assert self.page.status_code == 200, self.page.status_code
        return response

    def answer(self, value: Any, **extra: Any):
        fields = {"question_id": self.question, "step": self.step, "value": value, **extra}
        return self.post("/chat/answer", **fields)

    def through(self, story: dict[str, Any]) -> "Chat":
        for _ in range(40):
            if 'id="answer"' not in self.html:
                return self
            assert self.question in story, f"the flow asked {self.question!r}"
            self.answer(story[self.question])
        raise AssertionError("the conversation did not end")


@pytest.fixture
def chat(client):
    return lambda: Chat(client)


# --- landing ----------------------------------------------------------------------------------------------------------

def test_landing_says_what_this_is_what_is_kept_and_where_to_call(client):
    page = client.get("/")
    text = text_of(page.text)
    assert page.status_code == 200
    for needed in ("not a diagnosis", "To learn from", "Not for emergencies", "999", "911", "112", "30 days",
                   "No account and no name"):
        assert needed.lower() in text.lower(), needed
    assert re.search(r'<form method="post" action="/start">\s*<input type="hidden" name="csrf_token"', page.text)
    assert '>Start</button>' in page.text
    icon_url = re.search(r'rel="icon" href="(/static/favicon\.[0-9a-f]{12}\.svg)"', page.text).group(1)
    with client.get(icon_url) as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert "conversation=" not in page.headers.get("Set-Cookie", "")  # nothing is stored before Start


def test_start_remembers_the_conversation_in_a_private_cookie(client):
    landing = client.get("/")
    response = client.post("/start", data={"csrf_token": csrf_of(landing.text)})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("conversation="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=2592000" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # development and tests run on plain http
    assert len(cookie.split(";")[0].split("=", 1)[1]) >= 40


def test_the_cookie_is_secure_outside_development(database_url):
    app = make_app(database_url, TESTING=False, SECRET_KEY="a-long-random-production-secret-for-this-test")
    try:
        client = app.test_client()
        landing = client.get("/")
        response = client.post("/start", data={"csrf_token": csrf_of(landing.text)})
        cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("conversation="))
        assert "Secure" in cookie and "HttpOnly" in cookie
    finally:
        app.extensions["db_engine"].dispose()


def test_landing_offers_to_continue_and_start_again(chat, client):
    person = chat()
    person.answer("40_49")
    text = text_of(client.get("/").text)
    assert "Continue where I left off" in text and "Start again" in text
    assert "any share links will be deleted" in text  # said before anything is deleted


# --- the conversation without JavaScript --------------------------------------------------------------------------

def test_a_whole_conversation_by_forms_reaches_the_result(chat):
    person = chat()
    assert person.question == "age_band" and person.step == "0"
    assert "Question 1 of about" in text_of(person.html)
    assert 'class="why"' in person.html and "Why we ask" in person.html
    person.through(WIDESPREAD_PAIN)
    assert person.page.request.path == "/chat/result"
    text = text_of(person.html)
    result = person.client.get(f"/api/v1/conversations/{person.id}/result").get_json()
    assert result["advice"]["title"] in text
    assert text.index(result["advice"]["title"]) < text.index(result["conditions"][0]["name"])  # urgency first
    for condition in result["conditions"][:result["shown_by_default"]]:
        assert condition["name"] in text
    assert "What else fits" in text and "Tests you could ask about" in text and "Sources" in text
    for card in result["lifestyle"]:
        assert html_lib.escape(card["title"]) in person.html or card["title"] in text
    assert result["disclaimer"] in text
    assert 'href="/share">Share with your doctor</a>' in person.html
    assert "Make a link or a handout" in text
    assert 'action="/chat/delete"' in person.html and 'action="/start"' in person.html


def test_each_question_type_has_its_controls(chat):
    person = chat()
    assert re.search(r'<button type="submit" name="value" value="40_49" class="reply">40 to 49</button>', person.html)
    person.answer("40_49")
    assert person.question == "red_flags"
    assert 'type="checkbox" name="value" value="none"' in person.html and ">Done</button>" in person.html
    assert 'class="chip none"' in person.html
    person.answer("none")
    person.answer("female")
    person.answer("pain")
    assert person.question == "pain_locations"
    # the body map: two inline SVG views, each region a real, labelled button
    assert person.html.count("<svg") == 2
    regions = re.findall(r'<button type="submit" name="toggle" value="([a-z_]+)" class="region[^"]*" '
                         r'aria-pressed="false">([^<]+)', person.html)
    assert {value for value, _ in regions} == {
        "jaw", "neck", "shoulders", "chest_wall", "upper_arms", "hands_wrists", "hips", "thighs", "feet_ankles",
        "upper_back", "lower_back", "calves", "everywhere"}
    assert '>Hands<span class="vh"> or wrists</span>' in person.html  # the accessible name is the full label


def test_body_map_toggles_regions_without_javascript(chat):
    person = chat()
    for value in ("40_49", ["none"], "female", "pain"):
        person.answer(value)
    assert person.question == "pain_locations"
    step = person.step
    person.answer([], toggle="neck")
    assert person.page.request.args.getlist("pick") == ["neck"]
    assert 'value="neck" class="region row-2" aria-pressed="true"' in person.html
    assert re.search(r'name="value" value="neck"', person.html)
    assert "Picked: Neck" in text_of(person.html)
    person.answer(["neck"], toggle="calves")
    assert "Picked: Neck, Calves" in text_of(person.html)
    person.answer(["neck", "calves"], toggle="neck")
    assert "Picked: Calves" in text_of(person.html) and 'value="neck" class="region row-2" aria-pressed="false"' in person.html
    assert person.step == step and person.api()["step"] == int(step)  # toggling stores nothing
    # only the map's own regions go back in the address: a forged value or toggle is dropped, never echoed
    person.answer(["calves", "calves", "nowhere"] + [f"v{n}" for n in range(500)], toggle="evil")
    assert person.page.request.args.getlist("pick") == ["calves"] and len(person.page.request.url) < 300
    person.answer(["calves", "hips"])
    assert person.question == "pain_sides"
    assert person.api()["answers"]["pain_locations"] == ["calves", "hips"]


def test_tapping_an_earlier_answer_goes_back_to_it_with_that_answer_preselected(chat):
    person = chat()
    person.answer("65_plus")
    person.answer("none")
    person.answer("male")
    assert person.question == "main_complaint"
    person.post("/chat/rewind", question_id="age_band")
    assert person.question == "age_band"
    assert re.search(r'value="65_plus" class="reply was">65 or over<span class="tag"> \(your earlier answer\)', person.html)
    assert '<li class="turn"' not in person.html  # nothing answered on the path before the first question
    person.answer("18_39")
    # the later answers are still on the path, so they are kept: back to the first question without an answer
    assert person.question == "main_complaint"
    assert person.api()["answers"] == {"age_band": "18_39", "red_flags": ["none"], "sex": "male"}


def test_changing_an_answer_from_the_result_changes_the_result(chat):
    story = dict(WIDESPREAD_PAIN, age_band="65_plus", pain_locations=["shoulders", "hips"],
                 morning_stiffness="over_60_min")
    person = chat().through(story)
    before = person.client.get(f"/api/v1/conversations/{person.id}/result").get_json()
    assert "Change your answer" in person.html  # the result page lists the answers, each a button
    person.post("/chat/rewind", question_id="age_band")
    person.answer("18_39")  # one tap: every later answer is still on the path and kept
    assert person.page.request.path == "/chat/result"
    after = person.client.get(f"/api/v1/conversations/{person.id}/result").get_json()
    assert [c["id"] for c in after["conditions"]] != [c["id"] for c in before["conditions"]]
    assert after["changes"] and any(change["kind"] in ("down", "gone") for change in after["changes"])


def test_resume_later_with_the_cookie(chat, client):
    person = chat()
    person.answer("40_49")
    person.answer("none")
    again = client.get("/chat")
    assert 'name="question_id" value="sex"' in again.text
    assert again.text.count('class="turn"') == 2


def test_the_plain_start_of_a_page_opened_earlier_never_deletes_the_conversation_this_device_holds(chat, client):
    """A landing page opened before the conversation existed (another tab, a page kept open) shows the plain Start,
    which does not ask first: it leads to the conversation instead of deleting it, its result and its links."""
    old_landing = client.get("/").text
    person = chat()
    person.answer("40_49")
    started = client.post("/start", data={"csrf_token": csrf_of(old_landing)})
    assert started.status_code == 303 and started.headers["Location"] == "/chat#ask"
    assert client.get(f"/api/v1/conversations/{person.id}").get_json()["step"] == 1  # kept, with its answer


def test_start_over_and_delete(chat, client):
    person = chat()
    person.answer("40_49")
    first = person.id
    person.post("/start", confirmed="1")  # the button inside "Start over", which asks first
    assert person.id != first and person.question == "age_band"
    assert client.get(f"/api/v1/conversations/{first}").status_code == 404
    second = person.id
    response = person.post("/chat/delete")
    assert "conversation=;" in response.headers["Set-Cookie"] or "Max-Age=0" in response.headers["Set-Cookie"]
    assert "Your answers were deleted" in person.html
    assert client.get(f"/api/v1/conversations/{second}").status_code == 404
    assert client.get("/chat").headers["Location"] == "/"


def test_an_emergency_answer_stops_with_only_the_emergency_panel(chat, client):
    person = chat()
    person.answer("40_49")
    person.answer("chest_pain")
    page = person.html
    assert "Call an ambulance now" in page
    assert re.search(r'<a class="btn call" href="tel:(999|911|112)">Call (999|911|112) now</a>', page)
    for absent in ('id="answer"', 'class="bar"', 'class="log"', "<progress", 'class="manage"', "/share", "<details"):
        assert absent not in page, absent
    assert client.get("/chat/result").headers["Location"] == "/chat#ask"
    british = client.get("/chat", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert 'href="tel:999">Call 999 now' in british.text
    american = client.get("/chat", headers={"Accept-Language": "en-US"})
    assert 'href="tel:911">Call 911 now' in american.text
    elsewhere = client.get("/chat", headers={"Accept-Language": "de-DE"})
    assert 'href="tel:112">Call 112 now' in elsewhere.text


def test_the_result_waits_for_the_last_answer(chat, client):
    chat().answer("40_49")
    assert client.get("/chat/result").headers["Location"] == "/chat#ask"


# --- CSRF and bad input: friendly, never a 500, earlier answers kept ---------------------------------------------

def test_forms_without_a_csrf_token_are_refused_kindly(chat, client):
    person = chat()
    person.answer("40_49")
    for path, data in (("/chat/answer", {"question_id": "red_flags", "step": "1", "value": "none"}),
                       ("/chat/rewind", {"question_id": "age_band"}), ("/chat/delete", {}), ("/start", {})):
        refused = client.post(path, data=data)
        assert refused.status_code == 400, path
        assert "Please try that again" in refused.text and "Your earlier answers are safe" in refused.text
        assert 'rel="stylesheet"' in refused.text
        wrong = client.post(path, data={**data, "csrf_token": "not-a-token"})
        assert wrong.status_code == 400
    assert person.api()["answers"] == {"age_band": "40_49"} and person.api()["step"] == 1


BAD_ANSWERS = [
    ("unknown choice value", {"value": "forty"}, "invalid"),
    ("two values for one choice", {"value": ["40_49", "50_64"]}, "invalid"),
    ("no value", {}, "invalid"),
    ("stale step", {"step": "0"}, "moved"),
    ("future step", {"step": "7"}, "moved"),
    ("step that is not a number", {"step": "two"}, "moved"),
    ("enormous step", {"step": "9" * 400}, "moved"),
    ("another question", {"question_id": "history"}, "moved"),
    ("unknown question", {"question_id": "no_such_question"}, "moved"),
]


@pytest.mark.parametrize("label, change, notice", BAD_ANSWERS, ids=[b[0] for b in BAD_ANSWERS])
def test_bad_answers_give_a_friendly_page_and_keep_earlier_answers(chat, label, change, notice):
    person = chat()
    person.answer("40_49")
    person.answer("none")
    assert person.question == "sex"
    fields = {"question_id": "sex", "step": person.step, **change}
    if "value" not in change and label != "no value":
        fields["value"] = "female"
    response = person.post("/chat/answer", **fields)
    assert response.headers["Location"] == f"/chat?notice={notice}#ask"
    assert 'role="alert"' in person.html and person.question == "sex"
    assert person.api()["answers"] == {"age_band": "40_49", "red_flags": ["none"]}
    assert person.html.count('class="turn"') == 2


def test_multi_choice_mistakes_keep_what_was_picked(chat):
    person = chat()
    person.answer("40_49")
    person.post("/chat/answer", question_id="red_flags", step=person.step)  # Done with nothing picked
    assert "Please choose at least one answer" in text_of(person.html)
    person.answer(["none", "fainting", "dark_urine"])
    assert "can’t be combined" in text_of(person.html)
    assert re.search(r'value="fainting" checked', person.html) and re.search(r'value="dark_urine" checked', person.html)
    assert not re.search(r'value="none" checked', person.html)
    person.answer(["unknown_flag"])
    assert "didn’t fit" in text_of(person.html)
    assert person.api()["answers"] == {"age_band": "40_49"}


def test_a_double_tap_is_harmless(chat):
    person = chat()
    step = person.step
    person.answer("40_49")
    again = person.post("/chat/answer", question_id="age_band", step=step, value="40_49")
    assert again.headers["Location"] == "/chat?notice=moved#ask"
    assert person.question == "red_flags" and person.api()["step"] == 1


def test_rewinding_to_a_question_not_yet_asked_is_refused_kindly(chat):
    person = chat()
    person.answer("40_49")
    for question_id in ("history", "nonsense", ""):
        response = person.post("/chat/rewind", question_id=question_id)
        assert response.headers["Location"] == "/chat?notice=invalid#ask"
        assert person.question == "red_flags"
    assert person.api()["answers"] == {"age_band": "40_49"}


def test_a_lost_or_forged_cookie_leads_back_to_the_start(client):
    client.set_cookie("conversation", "not-a-real-conversation")
    response = client.get("/chat")
    assert response.status_code == 303 and response.headers["Location"] == "/?notice=gone"
    assert "conversation=;" in response.headers["Set-Cookie"] or "Max-Age=0" in response.headers["Set-Cookie"]
    client.set_cookie("conversation", "x" * 3000)
    assert client.get("/chat/result").status_code == 303
    assert client.get("/chat").status_code == 303
    landing = client.get("/?notice=gone")
    assert "couldn’t find your earlier answers" in text_of(landing.text)
    client.delete_cookie("conversation")
    assert client.get("/chat").headers["Location"] == "/"
    assert client.post("/chat/answer", data={"csrf_token": csrf_of(landing.text)}).status_code == 303


def test_unknown_pages_use_the_friendly_error_page(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert 'rel="stylesheet"' in page.text and "Page not found" in page.text and "Back to the start" in page.text


# --- the result page's parts ------------------------------------------------------------------------------------------

def test_cautions_that_apply_to_this_person_are_highlighted(chat):
    person = chat().through(dict(WIDESPREAD_PAIN, history=["hypermobility"]))
    result = person.client.get(f"/api/v1/conversations/{person.id}/result").get_json()
    for_you = [card for card in result["lifestyle"] if card["cautions_for_you"]]
    assert for_you, "the story should make at least one caution relevant"
    assert person.html.count('class="for-you"') == sum(card["cautions_for_you"] for card in for_you)
    assert "Applies to you" in person.html


def fake_result(conditions: int) -> dict[str, Any]:
    return {
        "flow": {"id": "muscle-pain", "version": 1}, "urgency": "same_day",
        "advice": {"title": "Get medical help today", "text": "Speak to a doctor today."},
        "red_flags": [{"id": "x", "text": "Droopy eyelids need checking today.", "urgency": "same_day"}],
        "conditions": [{"id": f"c{i}", "name": f"Condition {i}", "fit": 1 - i / 20, "summary": "A summary.",
                        "note": "A note." if i == 0 else None, "because": ["You said so."],
                        "doesnt_fit": ["But not this."] if i == 0 else [], "tests_to_discuss": ["A test."],
                        "sources": [{"title": "NHS", "url": "https://www.nhs.uk/"}], "lifestyle": []}
                       for i in range(conditions)],
        "shown_by_default": 8,
        "lifestyle": [{"id": "sleep", "title": "Sleep", "why": "Why.", "how": "How.",
                       "cautions": ["First caution.", "Second caution.", "Third caution."], "cautions_for_you": 2,
                       "for_conditions": ["c0"], "sources": [{"title": "NHS", "url": "https://www.nhs.uk/"}]}],
        "disclaimer": "Educational only.", "ignored": [],
    }


def test_result_shows_eight_conditions_then_show_more(app):
    result = fake_result(11)
    with app.test_request_context("/chat/result"):
        page = render_template("result.html", conversation={"id": "x"}, result=result, turns=[], number="112",
                               shown=result["conditions"][:8], more=result["conditions"][8:])
    visible, more = page.split('<details class="more">', 1)
    assert visible.count('<li class="card">') == 8 and "Condition 7" in visible and "Condition 8" not in visible
    assert "Show 3 more conditions" in more and "Condition 10" in more
    assert 'class="panel u-same_day"' in visible and "Droopy eyelids need checking today." in visible
    assert visible.index("Get medical help today") < visible.index("Condition 0")
    assert "What doesn’t fit" in visible and "A note." in visible
    assert page.count('<li class="for-you"><strong class="tag">Applies to you</strong>') == 2
    assert "Third caution." in page and '<li>Third caution.</li>' in page
    assert page.index("Educational only.") > page.index("Sleep")  # the disclaimer after the cards


# --- the pages keep to the CSP: no inline script or style ----------------------------------------------------------

def test_no_page_has_inline_script_or_style(chat, client):
    person = chat()
    pages = [client.get("/").text, person.html]
    for value in ("40_49", ["none"], "female", "pain"):
        person.answer(value)
        pages.append(person.html)
    person.answer([], toggle="neck")
    pages.append(person.html)
    person.through(WIDESPREAD_PAIN)
    pages += [person.html, client.get("/nowhere").text]
    emergency = chat()
    emergency.through(EMERGENCY)
    pages.append(emergency.html)
    for page in pages:
        assert not re.search(r"\sstyle=", page)
        assert not re.search(r"<style", page)
        assert all('src="' in tag for tag in re.findall(r"<script[^>]*>", page))
        assert not re.search(r"\son[a-z]+=", page)
    assert re.search(r'<script type="module" src="/static/chat\.[0-9a-f]{12}\.js"></script>', pages[1])


def test_the_landing_and_the_cookie_follow_the_retention_setting(database_url):
    app = make_app(database_url, RETENTION_DAYS=7)
    try:
        client = app.test_client()
        landing = client.get("/")
        assert "answers for 7 days after your last answer" in text_of(landing.text)
        response = client.post("/start", data={"csrf_token": csrf_of(landing.text)})
        assert "Max-Age=604800" in response.headers["Set-Cookie"]
    finally:
        app.extensions["db_engine"].dispose()


# --- said at once: a doctor today -----------------------------------------------------------------------------------

def test_a_same_day_answer_is_said_at_the_top_of_the_next_question_and_the_person_can_go_on(chat, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.8"
    person = chat()
    person.answer("40_49")
    assert "This needs a doctor today" not in person.html.split("<template")[0]
    response = person.answer(["limb_swollen_hot"])
    assert response.headers["Location"] == "/chat?urgent=1#ask"
    page, text = person.html, text_of(person.html)
    assert person.question == "sex"  # the conversation goes on
    panel = page[page.index('class="panel u-same_day urgent"'):page.index('id="q-text"')]
    assert "This needs a doctor today" in panel and "blood clot (DVT)" in text_of(panel)
    assert 'class="btn primary act" href="tel:111">Call NHS 111</a>' in panel  # the right first action
    assert "tel:999" not in panel.split('id="what-to-do"')[0]  # the emergency number is not the first thing to do
    assert "You can still answer the rest" in text_of(panel)
    person.answer("female")
    again = person.html[person.html.index("urgent"):person.html.index('id="q-text"')]
    assert "urgent again" in again and "Call NHS 111" in again  # said again on every question, shorter
    person.through(dict(WIDESPREAD_PAIN, red_flags=["limb_swollen_hot"]))
    result = person.html
    assert person.page.request.path == "/chat/result"
    assert result.index('href="tel:111">Call NHS 111</a>') < result.index("tel:999")


def test_elsewhere_the_same_day_action_is_the_doctor_and_the_page_says_how(chat, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-US"
    person = chat()
    person.answer("40_49")
    person.answer(["fainting"])
    panel = person.html[person.html.index("urgent"):person.html.index('id="q-text"')]
    # no number to dial for it in the US: the words in bold, not a button that says call and only scrolls
    assert '<p class="say-now primary act"><strong>Call your doctor&#39;s office now</strong></p>' in panel
    assert 'href="#what-to-do"' not in panel and 'id="what-to-do"' in panel
    assert "call 911" in text_of(panel)  # only for getting much worse
    assert 'href="tel:911"' not in panel


def test_a_routine_answer_says_nothing_urgent(chat):
    person = chat()
    person.answer("40_49")
    response = person.answer(["none"])
    assert "urgent" not in response.headers["Location"]
    assert "This needs a doctor today" not in person.html.split("<template")[0]


# --- adults only ------------------------------------------------------------------------------------------------------

def test_under_18_ends_on_the_kind_page_without_cards_and_a_mistake_undoes_it(chat, client):
    person = chat()
    person.answer("under_18")
    page, text = person.html, text_of(person.html)
    assert person.page.request.path == "/chat"
    result = client.get(f"/api/v1/conversations/{person.id}/result").get_json()
    assert result["status"] == "stopped_not_adult"
    assert "<h1" in page and result["advice"]["title"] in text and "written for adults" in text
    assert "When to get help for a child" in text
    for line in result["get_help"]:
        assert line in text
    for absent in ('id="answer"', 'class="cards', "Conditions to talk about", "Things you can try", "<progress"):
        assert absent not in page, absent
    assert client.get("/chat/result").headers["Location"] == "/chat#ask"  # no result page behind it
    person.post("/chat/rewind", question_id="age_band")  # "I chose my age by mistake"
    assert person.question == "age_band"
    assert 'class="reply was"' not in person.html  # "Under 18" is not chosen again
    assert "We took away “Under 18”, so it is not chosen now" in text_of(person.html)
    person.answer("40_49")
    assert person.question == "red_flags"


def test_the_emergency_mistake_clears_the_emergency_choice_and_says_so(chat, client):
    person = chat()
    person.answer("40_49")
    person.answer(["chest_pain", "dark_urine"])
    assert "Call an ambulance now" in person.html
    person.post("/chat/rewind", question_id="red_flags")  # "I chose that answer by mistake"
    page = person.html
    assert person.question == "red_flags"
    assert not re.search(r'value="chest_pain" checked', page)  # the emergency choice is cleared ...
    assert re.search(r'value="dark_urine" checked', page)  # ... the rest is kept
    assert "We took away “Chest pain or pressure”" in text_of(page) and 'role="alert"' in page
    assert re.search(r'id="q-text" tabindex="-1" autofocus', page)  # the question has the focus
    progress = re.search(r"Question (\d+) of about (\d+)", text_of(page))
    assert progress.group(1) == "2" and int(progress.group(2)) >= 12  # counted as the question it is again
    person.answer(["dark_urine"])
    assert person.question == "sex" and "This needs a doctor today" in person.html.split("<template")[0]
