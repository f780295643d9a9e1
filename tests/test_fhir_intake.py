"""Results from any form: POST /api/v1/assess with a FHIR QuestionnaireResponse answers the same Result as the same
answers in JSON; a response that is not for a served Questionnaire, or holds what the flow cannot take, is a 422
naming the item."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from .conftest import WIDESPREAD_PAIN, make_app
from .fhir_forms import fill, json_answers

FHIR_JSON = "application/fhir+json"
PUBLIC_URL = "https://assistant.example.org"
CANONICAL = f"{PUBLIC_URL}/api/v1/flows/muscle-pain/questionnaire"
VIGNETTES = [case for path in sorted((Path(__file__).parent / "vignettes").glob("*.json"))
             for case in json.loads(path.read_text())["cases"]]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """Stateless route: one app for the module (SQLite), so every vignette can run quickly."""
    url = f"sqlite:///{tmp_path_factory.mktemp('intake') / 'intake.sqlite3'}"
    from assistant.store.db import upgrade
    upgrade(url)
    app = make_app(url, PUBLIC_URL=PUBLIC_URL)
    yield app.test_client()
    app.extensions["db_engine"].dispose()


@pytest.fixture(scope="module")
def questionnaire(client):
    return client.get("/api/v1/flows/muscle-pain/questionnaire").get_json()


def assess_fhir(client, response, content_type: str = FHIR_JSON):
    return client.post("/api/v1/assess", data=json.dumps(response), content_type=content_type)


def assess_json(client, answers: dict) -> dict:
    response = client.post("/api/v1/assess", json={"flow": "muscle-pain", "answers": answers})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("case", VIGNETTES, ids=lambda c: c["id"])
def test_a_filled_form_gets_the_result_of_the_same_answers_in_json(client, questionnaire, case):
    response, _ = fill(questionnaire, case["answers"])
    result = assess_fhir(client, response)
    assert result.status_code == 200, result.get_json()
    assert result.get_json() == assess_json(client, json_answers(response))
    # and the same outcome as the whole story in JSON, where the flow sets aside what it would not have asked
    # (a form lists several answers in its options' order, so reasons may list them in another order)
    assert outcome(result.get_json()) == outcome(assess_json(client, case["answers"]))


def outcome(result: dict) -> tuple:
    return (result["urgency"], [f["id"] for f in result["red_flags"]],
            [(c["id"], c["fit"], c["score"]) for c in result["conditions"]], [c["id"] for c in result["lifestyle"]])


def test_our_own_export_goes_back_in(client, questionnaire):
    from .conftest import Talk
    conversation = Talk(client).through(WIDESPREAD_PAIN)
    link = client.post(f"/api/v1/conversations/{conversation.id}/shares", json={}).get_json()
    exported = client.get(re.search(r"/s/[^/]+/fhir$", link["fhir_url"]).group(0)).get_json()
    result = assess_fhir(client, exported)
    assert result.status_code == 200 and result.get_json() == assess_json(client, json_answers(exported))
    assert outcome(result.get_json()) == outcome(conversation.result()) == outcome(assess_json(client,
                                                                                             WIDESPREAD_PAIN))


def test_flat_items_extensions_and_a_version_less_canonical_are_read_too(client, questionnaire):
    """Renderers differ: some flatten groups, add ids and extensions, or name the Questionnaire without a version."""
    response, _ = fill(questionnaire, WIDESPREAD_PAIN)
    flat = {"resourceType": "QuestionnaireResponse", "id": "x1", "meta": {"tag": [{"code": "renderer 1.0"}]},
            "status": "completed", "questionnaire": CANONICAL, "authored": "2026-03-01T09:00:00Z",
            "extension": [{"url": "http://example.org/ext", "valueString": "kept out"}],
            "item": [{**item, "extension": [{"url": "http://example.org/x", "valueBoolean": True}]}
                     for item in _flatten(response["item"])]}
    assert assess_fhir(client, flat).get_json() == assess_json(client, json_answers(response))
    assert assess_fhir(client, flat, FHIR_JSON + "; charset=utf-8").status_code == 200


def _flatten(items):
    for item in items:
        if "answer" in item:
            yield {k: v for k, v in item.items() if k != "item"}
        yield from _flatten(item.get("item", []))


def _with_item(response: dict, link_id: str, answers: list[dict]) -> dict:
    """The response, flat, with `link_id` answered by `answers`."""
    items = [i for i in _flatten(copy.deepcopy(response["item"])) if i["linkId"] != link_id]
    return {**response, "item": items + [{"linkId": link_id, "answer": answers}]}


def _coding(question: str, code: str, system: str | None = None) -> dict:
    return {"valueCoding": {"system": system or f"{PUBLIC_URL}/api/v1/flows/muscle-pain/codesystems/{question}",
                            "code": code}}


def test_a_response_the_flow_cannot_take_is_a_422_naming_the_item(client, questionnaire):
    good, _ = fill(questionnaire, WIDESPREAD_PAIN)
    cases = {
        "red_flags": _with_item(good, "red_flags", [_coding("red_flags", "swallowing_difficulty"),
                                                    _coding("red_flags", "none")]),
        "sex": _with_item(good, "sex", [_coding("sex", "female"), _coding("sex", "male")]),
        "duration": _with_item(good, "duration", [_coding("duration", "forever")]),
        "onset": _with_item(good, "onset", [_coding("onset", "sudden", "http://localhost/api/v1/flows/muscle-pain/"
                                                                       "codesystems/onset")]),
        "age_band": _with_item(good, "age_band", [{"valueString": "40"}]),
        "favourite_colour": _with_item(good, "favourite_colour", [{"valueString": "blue"}]),
    }
    twice = copy.deepcopy(good)
    twice["item"].append({"linkId": "sex", "answer": [_coding("sex", "male")]})
    cases["sex twice"] = twice
    for name, response in cases.items():
        link_id = name.split()[0]
        result = assess_fhir(client, response)
        assert result.status_code == 422, (name, result.get_json())
        error = result.get_json()["error"]
        assert error["code"] == "invalid" and list(error["fields"]["item"]) == [link_id], (name, error)
        assert link_id in error["message"]
    assert "none" in assess_fhir(client, cases["red_flags"]).get_json()["error"]["fields"]["item"]["red_flags"]


@pytest.mark.parametrize("canonical", [
    "http://localhost/api/v1/flows/muscle-pain/questionnaire|1",   # our path under another host: not ours
    f"{PUBLIC_URL}/api/v1/flows/nope/questionnaire|1",
    f"{CANONICAL}|99", f"{CANONICAL}|one", f"{CANONICAL}|", "Questionnaire/muscle-pain-1",
])
def test_an_unknown_questionnaire_is_a_422_naming_it(client, questionnaire, canonical):
    response, _ = fill(questionnaire, WIDESPREAD_PAIN)
    result = assess_fhir(client, {**response, "questionnaire": canonical})
    assert result.status_code == 422, result.get_json()
    assert list(result.get_json()["error"]["fields"]) == ["questionnaire"]


def test_what_is_not_a_questionnaire_response_is_refused_cleanly(client, questionnaire):
    good, _ = fill(questionnaire, WIDESPREAD_PAIN)
    deep: dict = {"linkId": "x", "item": []}
    node = deep
    for _ in range(200):
        node["item"] = [{"linkId": "x", "item": []}]
        node = node["item"][0]
    refused = {
        422: [{**good, "resourceType": "Patient"}, {k: v for k, v in good.items() if k != "status"},
              {**good, "status": "done"}, {**good, "item": [deep]}, {**good, "item": [{"answer": []}]},
              {**good, "item": "age_band"}],
        400: [[good], "not an object"],
    }
    for status, bodies in refused.items():
        for body in bodies:
            result = assess_fhir(client, body)
            assert result.status_code == status, (body if status == 400 else result.get_json())
            assert result.get_json()["error"]["code"] in ("invalid", "malformed_json")
    assert client.post("/api/v1/assess", data="{", content_type=FHIR_JSON).status_code == 400


def test_each_served_version_answers_for_itself(client):
    versions = [f["version"] for f in client.get("/api/v1/flows").get_json() if f["id"] == "muscle-pain"]
    assert len(versions) >= 1
    for version in versions:
        questionnaire = client.get(f"/api/v1/flows/muscle-pain/questionnaire?version={version}").get_json()
        response, _ = fill(questionnaire, WIDESPREAD_PAIN)
        assert response["questionnaire"].endswith(f"|{version}")
        result = assess_fhir(client, response).get_json()
        assert result["flow"] == {"id": "muscle-pain", "version": version}
        answered = client.post("/api/v1/assess", json={"flow": "muscle-pain", "version": version,
                                                       "answers": json_answers(response)}).get_json()
        assert result == answered


def test_the_result_comes_in_the_language_asked_for_as_in_json(client, questionnaire):
    response, _ = fill(questionnaire, WIDESPREAD_PAIN)
    spanish = {"Accept-Language": "es"}
    result = client.post("/api/v1/assess", data=json.dumps(response), content_type=FHIR_JSON, headers=spanish)
    same = client.post("/api/v1/assess", json={"flow": "muscle-pain", "answers": json_answers(response)},
                       headers=spanish)
    assert result.status_code == 200 and result.get_json() == same.get_json()
    assert result.headers["Content-Language"] == same.headers["Content-Language"]  # "es" once Spanish is served
