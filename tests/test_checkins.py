"""Daily check-ins over the JSON API (HTTPS, SQLite and PostgreSQL): they belong to a finished intake, run through
the same engine, catch a new red flag as the intake does, are one per day, keep the intake alive and go with it."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from assistant.engine.checkins import today
from assistant.store import db
from assistant.store.models import Answer, Conversation, utcnow
from assistant.store.retention import purge

from .conftest import WIDESPREAD_PAIN, Talk

CALM_DAY = {"red_flags": ["none"], "pain": "6", "sleep": "4", "energy": "3", "interference": "5",
            "tried": ["pacing"]}


class CheckIn(Talk):
    """A check-in for an intake, answered like any conversation."""

    def __init__(self, client, intake_id: str, expect: int = 201, **body) -> None:
        self.client = client
        response = client.post(f"/api/v1/conversations/{intake_id}/checkins", json=body)
        assert response.status_code == expect, response.get_json()
        self.conversation = response.get_json()
        self.asked = []


@pytest.fixture
def intake(client):
    return Talk(client).through(WIDESPREAD_PAIN)


def checkins(client, intake_id):
    response = client.get(f"/api/v1/conversations/{intake_id}/checkins")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_check_in_runs_through_the_daily_flow_and_is_listed_with_its_scores(client, intake):
    checkin = CheckIn(client, intake.id)
    assert checkin.conversation["flow"] == {"id": "daily-check", "version": 1}
    assert checkin.conversation["question"]["id"] == "red_flags"
    assert checkin.conversation["progress"] == {"answered": 0, "estimated_total": 6}  # intake answers do not count
    assert checkin.id != intake.id
    checkin.through(CALM_DAY)
    assert checkin.conversation["status"] == "finished"
    assert checkin.asked == ["red_flags", "pain", "sleep", "energy", "interference", "tried"]
    [entry] = checkins(client, intake.id)
    assert entry == {"id": checkin.id, "date": today().isoformat(), "status": "finished",
                     "scores": {"pain": 6, "sleep": 4, "energy": 3, "interference": 5}, "tried": ["pacing"],
                     "urgency": "routine"}


def test_the_lifestyle_question_offers_only_the_areas_of_this_persons_result(client, intake):
    areas = [card["id"] for card in intake.result()["lifestyle"]]
    assert areas and "magnesium_electrolytes" not in areas
    checkin = CheckIn(client, intake.id)
    for question_id in ("red_flags", "pain", "sleep", "energy", "interference"):
        assert checkin.answer(CALM_DAY[question_id]).status_code == 200
    question = checkin.conversation["question"]
    assert [o["value"] for o in question["options"]] == areas + ["none"]
    refused = checkin.answer(["magnesium_electrolytes"])
    assert refused.status_code == 422 and "magnesium_electrolytes" in refused.get_json()["error"]["message"]
    assert checkin.answer([areas[0]]).status_code == 200


def test_a_same_day_warning_sign_says_so_at_once_as_in_the_intake(client, intake):
    checkin = CheckIn(client, intake.id)
    checkin.answer(["fainting"])
    assert checkin.conversation["urgency"] == "same_day"
    assert checkin.conversation["urgent_advice"]["title"] == "Get medical help today"
    assert checkin.conversation["question"]["id"] == "pain"  # they may finish the diary or leave
    checkin.through(CALM_DAY)
    assert checkin.result()["urgency"] == "same_day"
    assert checkins(client, intake.id)[0]["urgency"] == "same_day"


def test_chest_pain_stops_the_check_in_with_the_emergency_advice(client, intake):
    checkin = CheckIn(client, intake.id)
    checkin.answer(["chest_pain"])
    assert checkin.conversation["status"] == "stopped_emergency"
    result = checkin.result()
    assert result["urgency"] == "emergency" and result["advice"]["title"] == "Call an ambulance now"
    [entry] = checkins(client, intake.id)
    assert entry["status"] == "stopped_emergency" and entry["scores"]["pain"] is None


@pytest.mark.parametrize("age, status", [("65_plus", "stopped_emergency"), ("40_49", "active")])
def test_a_new_headache_is_judged_with_the_age_given_in_the_intake(client, age, status):
    intake = Talk(client).through({**WIDESPREAD_PAIN, "age_band": age})
    checkin = CheckIn(client, intake.id)
    checkin.answer(["new_headache_jaw_vision"])
    assert checkin.conversation["status"] == status
    assert "age_band" not in checkin.conversation["answers"]  # the intake's answer, never asked again


def test_one_check_in_a_day_a_retry_returns_it_and_a_new_one_replaces_a_finished_one(client, intake):
    first = CheckIn(client, intake.id)
    again = CheckIn(client, intake.id, expect=200)  # a double tap: the same check-in, nothing new
    assert again.id == first.id
    first.through(CALM_DAY)
    second = CheckIn(client, intake.id)
    assert second.id != first.id
    assert client.get(f"/api/v1/conversations/{first.id}").status_code == 404
    second.through({**CALM_DAY, "pain": "3"})
    assert [(e["id"], e["scores"]["pain"]) for e in checkins(client, intake.id)] == [(second.id, 3)]


def test_the_persons_own_date_is_kept_and_the_list_is_oldest_first(client, intake):
    yesterday = (today() - timedelta(days=1)).isoformat()
    CheckIn(client, intake.id, date=yesterday).through({**CALM_DAY, "pain": "7"})
    CheckIn(client, intake.id).through({**CALM_DAY, "pain": "5"})
    assert [(e["date"], e["scores"]["pain"]) for e in checkins(client, intake.id)] == \
        [(yesterday, 7), (today().isoformat(), 5)]
    long_ago = client.post(f"/api/v1/conversations/{intake.id}/checkins",
                           json={"date": (today() - timedelta(days=5)).isoformat()})
    assert long_ago.status_code == 422 and "date" in long_ago.get_json()["error"]["fields"]


def test_only_a_finished_intake_takes_check_ins_and_only_by_its_own_id(client, intake):
    unfinished = Talk(client)
    response = client.post(f"/api/v1/conversations/{unfinished.id}/checkins")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not_finished"
    assert client.post("/api/v1/conversations/" + "x" * 43 + "/checkins").status_code == 404
    checkin = CheckIn(client, intake.id)
    assert client.post(f"/api/v1/conversations/{checkin.id}/checkins").status_code == 404  # not an intake
    share = client.post(f"/api/v1/conversations/{intake.id}/shares", json={}).get_json()
    token = share["url"].rstrip("/").rsplit("/", 1)[-1]
    assert client.post(f"/api/v1/conversations/{token}/checkins").status_code == 404
    assert client.get(f"/api/v1/conversations/{token}/checkins").status_code == 404
    assert client.get("/api/v1/conversations/" + "x" * 43 + "/checkins").status_code == 404


def test_a_check_in_cannot_start_on_its_own(client):
    response = client.post("/api/v1/conversations", json={"flow": "daily-check"})
    assert response.status_code == 422 and "flow" in response.get_json()["error"]["fields"]


def test_deleting_the_intake_deletes_its_check_ins(app, client, intake):
    checkin = CheckIn(client, intake.id).through(CALM_DAY)
    assert client.delete(f"/api/v1/conversations/{intake.id}").status_code == 204
    assert client.get(f"/api/v1/conversations/{checkin.id}").status_code == 404
    with app.app_context():
        left = db.session().scalars(select(Answer).where(Answer.conversation_id == checkin.id)).all()
        assert left == []


def _age(app, conversation_id: str, days: int) -> None:
    with app.app_context():
        session = db.session()
        session.execute(update(Conversation).where(Conversation.id == conversation_id)
                        .values(updated_at=utcnow() - timedelta(days=days)))
        session.commit()


def test_a_check_in_keeps_its_intake_alive(app, client, intake):
    _age(app, intake.id, 40)
    CheckIn(client, intake.id).through(CALM_DAY)  # a month after the intake, the diary goes on
    with app.app_context():
        purged = purge(db.session(), days=30)
    assert purged.conversations == 0
    assert client.get(f"/api/v1/conversations/{intake.id}").status_code == 200


def test_an_intake_nobody_came_back_to_goes_with_its_check_ins(app, client, intake):
    checkin = CheckIn(client, intake.id).through(CALM_DAY)
    _age(app, checkin.id, 40)
    _age(app, intake.id, 40)
    with app.app_context():
        purged = purge(db.session(), days=30)
    assert purged.conversations == 2
    assert purged.answers == len(WIDESPREAD_PAIN) + len(CALM_DAY)
    assert client.get(f"/api/v1/conversations/{checkin.id}").status_code == 404


def test_a_check_in_answer_holds_one_pooled_connection_at_a_time(app, client, intake):
    """The turn runs on a connection of its own; the intake it reads for context is read on that same connection,
    not on a second one from the pool (a request never waits on the pool for a connection it already holds)."""
    from sqlalchemy import event
    engine = app.extensions["db_engine"]
    out, most = [0], [0]

    def checkout(*_):
        out[0] += 1
        most[0] = max(most[0], out[0])

    def checkin(*_):
        out[0] -= 1

    checkin_flow = CheckIn(client, intake.id)
    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        checkin_flow.through(CALM_DAY)
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)
    assert checkin_flow.conversation["status"] == "finished"
    assert most[0] == 1
