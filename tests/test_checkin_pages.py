"""The check-in pages without JavaScript (HTTPS, SQLite and PostgreSQL): form POST -> redirect -> next question, the
day saved, and only ever the check-in of the intake this device holds."""
import re
import threading
from datetime import date, timedelta

import pytest

from assistant.engine.checkins import today

from .conftest import WIDESPREAD_PAIN
from .test_chat import Chat, csrf_of
from .test_checkins import CALM_DAY, CheckIn


def finished_chat(client) -> Chat:
    person = Chat(client)
    while "/chat/result" not in person.page.request.path:
        value = WIDESPREAD_PAIN[person.question]
        person.post("/chat/answer", question_id=person.question, step=person.step,
                    value=value if isinstance(value, list) else [value])
    return person


def answer_check_in(person: Chat, day: dict, **start: str) -> None:
    person.post("/checkin/start", **start)
    assert person.page.request.path == "/checkin"
    while person.page.request.path == "/checkin":
        question = person.question
        value = day[question]
        if question == "tried":  # this person's own areas: the first one offered
            value = [re.search(r'name="value" value="([a-z_]+)"', person.html[person.html.index('id="answer"'):])[1]]
        person.post("/checkin/answer", question_id=question, step=person.step,
                    value=value if isinstance(value, list) else [value])


def test_a_check_in_without_javascript_ends_on_the_saved_day_and_the_result_shows_it(client):
    person = finished_chat(client)
    assert "Check in today" in person.html and "trend-chart" not in person.html
    answer_check_in(person, CALM_DAY)
    assert person.page.request.path == "/checkin/done"
    assert "Today's check-in is saved" in person.html and 'class="trend-chart"' in person.html
    result = client.get("/chat/result").text
    assert 'class="trend-chart"' in result and "Pain 6 on 1 day;" in result
    assert "Check in again today" in result and "Your new answers will replace today's." in result
    [entry] = client.get(f"/api/v1/conversations/{person.id}/checkins").get_json()
    assert entry["scores"] == {"pain": 6, "sleep": 4, "energy": 3, "interference": 5}


def entry_days(client, intake_id: str) -> list[str]:
    return [entry["date"] for entry in client.get(f"/api/v1/conversations/{intake_id}/checkins").get_json()]


@pytest.mark.parametrize("offset", [-1, 1], ids=["phone-behind-utc", "phone-ahead-of-utc"])
def test_a_check_in_is_for_the_day_on_the_phone_and_the_chart_shows_it(client, offset):
    """chat.js sends the phone's date with "Check in today": a phone in California in the evening, or in Japan in
    the morning, is a day off UTC's date. The check-in is for the phone's day, and the diary's chart ends on it."""
    person = finished_chat(client)
    day = today() + timedelta(days=offset)
    answer_check_in(person, CALM_DAY, date=day.isoformat())
    assert entry_days(client, person.id) == [day.isoformat()]
    result = client.get("/chat/result").text
    assert "Pain 6 on 1 day;" in result and f'<th scope="row">{day.day} {day:%b}</th>' in result


@pytest.mark.parametrize("sent", ["", "yesterday", "2020-01-01", (date.today() + timedelta(days=3)).isoformat()])
def test_without_the_phones_date_or_with_one_that_is_not_today_anywhere_the_day_is_utcs(client, sent):
    person = finished_chat(client)
    answer_check_in(person, CALM_DAY, date=sent)
    assert person.page.request.path == "/checkin/done"
    assert entry_days(client, person.id) == [today().isoformat()]


def test_none_of_these_with_a_warning_sign_keeps_the_sign_ticked_as_in_the_chat(client):
    person = finished_chat(client)
    person.post("/checkin/start")
    assert person.question == "red_flags"
    person.post("/checkin/answer", question_id="red_flags", step=person.step, value=["none", "chest_pain"])
    assert person.page.request.args.get("notice") == "none_mixed"
    assert "We kept your other choices" in person.html
    assert re.search(r'<input type="checkbox" name="value" value="chest_pain"[^>]* checked', person.html)
    assert not re.search(r'<input type="checkbox" name="value" value="none"[^>]* checked', person.html)


def test_a_check_in_cookie_of_another_intake_is_never_shown(app, client):
    other = app.test_client()
    other_person = finished_chat(other)
    someone_elses = CheckIn(other, other_person.id).id
    person = finished_chat(client)
    client.set_cookie("checkin", someone_elses, domain="localhost", path="/")
    response = client.get("/checkin")
    assert response.status_code == 303 and response.headers["Location"].startswith("/chat/result")
    assert client.post("/checkin/answer", data={"csrf_token": csrf_of(person.html), "question_id": "red_flags",
                                                "step": "0", "value": ["chest_pain"]}).status_code == 303
    assert other.get(f"/api/v1/conversations/{someone_elses}").get_json()["step"] == 0  # untouched


def test_an_unfinished_intake_has_no_check_in_and_the_start_goes_back(client):
    person = Chat(client)
    response = client.post("/checkin/start", data={"csrf_token": csrf_of(person.html)})
    assert response.status_code == 303 and response.headers["Location"].startswith("/chat")
    assert client.get(f"/api/v1/conversations/{person.id}/checkins").get_json() == []


@pytest.mark.postgres
def test_two_starts_at_once_make_one_check_in(postgres_url):
    """Two phones (or a double tap) start today's check-in at the same moment: one check-in, both get it."""
    from .conftest import _empty_postgres, make_app
    _empty_postgres(postgres_url)
    app = make_app(postgres_url)
    try:
        intake = finished_intake(app.test_client())
        barrier, ids = threading.Barrier(4), []

        def start() -> None:
            client = app.test_client()
            barrier.wait()
            response = client.post(f"/api/v1/conversations/{intake}/checkins", json={})
            assert response.status_code in (200, 201), response.get_json()
            ids.append(response.get_json()["id"])
        threads = [threading.Thread(target=start) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(ids) == 4 and len(set(ids)) == 1
        assert len(app.test_client().get(f"/api/v1/conversations/{intake}/checkins").get_json()) == 1
    finally:
        app.extensions["db_engine"].dispose()


def finished_intake(client) -> str:
    from .conftest import Talk
    return Talk(client).through(WIDESPREAD_PAIN).id


def test_on_return_the_landing_page_offers_the_check_in(client):
    person = finished_chat(client)
    landing = client.get("/").text
    assert "See my result" in landing and "Check in today" in landing
    person.page = client.get("/")
    answer_check_in(person, CALM_DAY)
    assert person.page.request.path == "/checkin/done"
