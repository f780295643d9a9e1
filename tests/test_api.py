"""The JSON API v1 over HTTP: whole conversations, rewind, delete and every error status."""
import json

from sqlalchemy import func, select

from assistant.store.models import Answer

from .conftest import WIDESPREAD_PAIN


def test_whole_conversation_from_start_to_result(talk):
    conversation = talk().through(WIDESPREAD_PAIN)
    assert conversation.conversation["status"] == "finished"
    assert conversation.conversation["question"] is None
    assert "weakness_pattern" not in conversation.asked
    assert conversation.conversation["answers"]["pain_locations"] == ["everywhere", "neck", "lower_back"]
    progress = conversation.conversation["progress"]
    assert progress["answered"] == progress["estimated_total"] == len(conversation.asked)
    result = conversation.result()
    assert result["flow"] == {"id": "muscle-pain", "version": 2}
    assert result["urgency"] == "routine"
    assert result["disclaimer"]
    assert result["conditions"], "widespread long-standing pain must suggest something to discuss"
    assert all(0 <= c["fit"] <= 1 for c in result["conditions"])
    assert result["conditions"][0]["because"]


def test_create_gives_location_and_unguessable_id(client):
    response = client.post("/api/v1/conversations", json={"flow": "muscle-pain"})
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/conversations/{body['id']}")
    assert len(body["id"]) >= 43  # 256 bits in URL-safe base64
    assert body["step"] == 0 and body["status"] == "active"
    assert body["question"]["id"] == "age_band"
    assert body["question"]["options"][0] == {"value": "under_18", "label": "Under 18"}
    assert client.get(response.headers["Location"]).get_json()["id"] == body["id"]


def test_ids_differ_every_time(client):
    ids = {client.post("/api/v1/conversations", json={}).get_json()["id"] for _ in range(5)}
    assert len(ids) == 5


def test_result_before_finishing_is_409(talk):
    conversation = talk()
    conversation.answer("40_49")
    response = conversation.client.get(f"/api/v1/conversations/{conversation.id}/result")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "not_finished"


def test_identical_retry_is_idempotent_and_stores_one_row(app, talk):
    conversation = talk()
    step = conversation.conversation["step"]
    first = conversation.answer("40_49")
    again = conversation.client.post(f"/api/v1/conversations/{conversation.id}/answers",
                                     json={"question_id": "age_band", "value": "40_49", "step": step})
    assert again.status_code == 200
    assert again.get_json()["step"] == first.get_json()["step"]
    with app.app_context():
        from assistant.store import db
        count = db.session().scalar(select(func.count()).select_from(Answer)
                                    .where(Answer.conversation_id == conversation.id))
    assert count == 1


def test_stale_step_is_409_with_current_conversation(talk):
    conversation = talk()
    conversation.answer("40_49")
    response = conversation.client.post(f"/api/v1/conversations/{conversation.id}/answers",
                                        json={"question_id": "age_band", "value": "65_plus", "step": 0})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "stale_step"
    assert error["conversation"]["question"]["id"] == "red_flags"
    assert error["conversation"]["answers"] == {"age_band": "40_49"}


def test_answering_another_question_than_the_current_is_409(talk):
    conversation = talk()
    response = conversation.answer("female", question_id="sex")
    assert response.status_code == 409


def test_unknown_question_is_422_naming_it(talk):
    response = talk().answer("x", question_id="favourite_colour")
    assert response.status_code == 422
    assert "favourite_colour" in response.get_json()["error"]["message"]


def test_unknown_value_is_422_naming_it(talk):
    response = talk().answer("ancient")
    assert response.status_code == 422
    assert "ancient" in response.get_json()["error"]["message"]


def test_missing_step_is_422(client, talk):
    conversation = talk()
    response = client.post(f"/api/v1/conversations/{conversation.id}/answers",
                           json={"question_id": "age_band", "value": "40_49"})
    assert response.status_code == 422
    assert "step" in response.get_json()["error"]["fields"]


def test_malformed_json_is_400_json(client):
    response = client.post("/api/v1/conversations", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"


def test_json_that_is_not_an_object_is_400(client):
    response = client.post("/api/v1/assess", data="[1, 2]", content_type="application/json")
    assert response.status_code == 400


def test_wrong_content_type_is_415(client):
    response = client.post("/api/v1/conversations", data="flow=muscle-pain",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


def test_body_too_large_is_413_json(client):
    response = client.post("/api/v1/assess", data=json.dumps({"answers": {"x": "y" * 100_000}}),
                           content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


def test_unknown_conversation_is_404(client):
    for method, path in [("get", ""), ("get", "/result"), ("delete", "")]:
        response = getattr(client, method)(f"/api/v1/conversations/nope{path}")
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"


def test_unknown_flow_is_404(client):
    response = client.post("/api/v1/conversations", json={"flow": "back-pain"})
    assert response.status_code == 404


def test_unknown_route_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_rewind_resumes_from_that_question_and_keeps_suggestions(talk):
    conversation = talk().through(WIDESPREAD_PAIN)
    client, cid = conversation.client, conversation.id
    response = client.post(f"/api/v1/conversations/{cid}/rewind", json={"question_id": "main_complaint"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "active"
    assert body["question"]["id"] == "main_complaint"
    assert body["question"]["suggested"] == "pain"
    assert "duration" in body["suggestions"] and "duration" not in body["answers"]
    assert client.get(f"/api/v1/conversations/{cid}/result").status_code == 409
    conversation.conversation = body
    conversation.answer("weakness")
    assert conversation.conversation["question"]["id"] == "weakness_pattern"


def test_rewind_to_a_question_not_yet_asked_is_409(talk):
    conversation = talk()
    conversation.answer("40_49")
    response = conversation.client.post(f"/api/v1/conversations/{conversation.id}/rewind",
                                        json={"question_id": "history"})
    assert response.status_code == 409


def test_rewind_to_the_question_already_asked_changes_nothing(talk):
    conversation = talk()
    conversation.answer("40_49")
    before = conversation.client.get(f"/api/v1/conversations/{conversation.id}").get_json()
    response = conversation.client.post(f"/api/v1/conversations/{conversation.id}/rewind",
                                        json={"question_id": before["question"]["id"]})
    assert response.status_code == 200 and response.get_json()["step"] == before["step"]
    assert conversation.answer(["none"]).status_code == 200  # with the step it had: not a 409
    assert conversation.conversation["step"] == before["step"] + 1


def test_rewind_changes_the_result(talk):
    conversation = talk().through(WIDESPREAD_PAIN)
    before = conversation.result()
    client, cid = conversation.client, conversation.id
    conversation.conversation = client.post(f"/api/v1/conversations/{cid}/rewind",
                                            json={"question_id": "red_flags"}).get_json()
    conversation.answer(["chest_pain"])
    assert conversation.conversation["status"] == "stopped_emergency"
    after = conversation.result()
    assert before["urgency"] == "routine" and after["urgency"] == "emergency"


def test_delete_removes_everything(app, talk):
    conversation = talk().through(WIDESPREAD_PAIN)
    response = conversation.client.delete(f"/api/v1/conversations/{conversation.id}")
    assert response.status_code == 204
    assert conversation.client.get(f"/api/v1/conversations/{conversation.id}").status_code == 404
    with app.app_context():
        from assistant.store import db
        assert db.session().scalar(select(func.count()).select_from(Answer)) == 0


def test_emergency_stops_the_conversation(talk):
    conversation = talk().through({"age_band": "50_64", "red_flags": ["chest_pain"]})
    assert conversation.conversation["status"] == "stopped_emergency"
    assert conversation.asked == ["age_band", "red_flags"]
    result = conversation.result()
    assert result["urgency"] == "emergency"
    assert result["conditions"] == []
    assert result["red_flags"][0]["urgency"] == "emergency"


def test_flows_lists_questions(client):
    flows = client.get("/api/v1/flows").get_json()
    assert [(f["id"], f["version"]) for f in flows] == [("daily-check", 1), ("muscle-pain", 1), ("muscle-pain", 2)]
    ids = [q["id"] for q in flows[1]["questions"]]
    assert ids[0] == "age_band" and "history" in ids
    assert [q["id"] for q in flows[0]["questions"]] == ["red_flags", "pain", "sleep", "energy", "interference",
                                                        "tried"]


def test_flows_are_listed_in_the_language_asked_for_and_say_which(client):
    english = client.get("/api/v1/flows", headers={"Accept-Language": "en-GB"})
    spanish = client.get("/api/v1/flows", headers={"Accept-Language": "es-ES"})
    assert english.headers["Content-Language"] == "en" and spanish.headers["Content-Language"] == "es"
    age = {lang: next(q for q in r.get_json()[1]["questions"] if q["id"] == "age_band")
           for lang, r in (("en", english), ("es", spanish))}
    assert age["en"]["text"] == "How old are you?" and age["es"]["text"] != age["en"]["text"]
    assert [o["value"] for o in age["es"]["options"]] == [o["value"] for o in age["en"]["options"]]  # ids stay


def test_assess_lists_ignored_questions(client):
    answers = {**WIDESPREAD_PAIN, "weakness_pattern": ["grip_or_hands"]}
    result = client.post("/api/v1/assess", json={"flow": "muscle-pain", "answers": answers}).get_json()
    assert result["ignored"] == ["weakness_pattern"]


def test_assess_names_every_bad_answer(client):
    response = client.post("/api/v1/assess", json={"answers": {"age_band": "old", "shoe_size": "9"}})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]["answers"]
    assert set(fields) == {"age_band", "shoe_size"}


def test_assess_is_deterministic(client):
    body = {"flow": "muscle-pain", "answers": WIDESPREAD_PAIN}
    first = client.post("/api/v1/assess", json=body).get_json()
    assert all(client.post("/api/v1/assess", json=body).get_json() == first for _ in range(3))
