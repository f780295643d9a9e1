"""FHIR R4 export: the flow as a Questionnaire, a shared conversation as a QuestionnaireResponse (validated with the
fhir.resources R4B models, which are R4-compatible), and the two agreeing with each other."""
from __future__ import annotations

import re
from datetime import datetime

import pytest

from assistant import fhir
from assistant.flows import Criterion, Flow, Option, Question

from .conftest import WIDESPREAD_PAIN

r4b_questionnaire = pytest.importorskip("fhir.resources.R4B.questionnaire")
r4b_response = pytest.importorskip("fhir.resources.R4B.questionnaireresponse")
Questionnaire = r4b_questionnaire.Questionnaire
QuestionnaireResponse = r4b_response.QuestionnaireResponse

QUESTIONNAIRE = "/api/v1/flows/muscle-pain/questionnaire"
RESPONSE_STATUSES = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}


def get_questionnaire(client) -> dict:
    response = client.get(QUESTIONNAIRE)
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    return response.get_json()


def shared_response(client, conversation_id: str) -> dict:
    link = client.post(f"/api/v1/conversations/{conversation_id}/shares", json={}).get_json()
    response = client.get(re.search(r"/s/[^/]+", link["url"]).group(0) + "/fhir")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    return response.get_json()


def enabled(item: dict, answers: dict[str, set[str]]) -> bool:
    """FHIR R4 enableWhen semantics for '=' with answerCoding (what a FHIR form filler would do)."""
    conditions = item.get("enableWhen")
    if not conditions:
        return True
    results = [c["answerCoding"]["code"] in answers.get(c["question"], set()) for c in conditions]
    assert all(c["operator"] == "=" for c in conditions)
    return any(results) if item.get("enableBehavior") == "any" else all(results)


def test_questionnaire_validates_and_mirrors_the_flow(app, client):
    body = get_questionnaire(client)
    resource = Questionnaire.model_validate(body)
    assert resource.status == "active"
    flow = app.extensions["engines"].get("muscle-pain").flow
    assert body["url"].endswith(QUESTIONNAIRE) and body["version"] == str(flow.version)
    assert body["title"] == flow.title
    items = {i["linkId"]: i for i in body["item"]}
    assert list(items) == [q.id for q in flow.questions]
    for question in flow.questions:
        item = items[question.id]
        assert item["type"] == "choice" and item["text"] == question.text
        assert item["repeats"] is (question.type == "multi")
        codes = [o["valueCoding"]["code"] for o in item["answerOption"]]
        assert codes == list(question.values)
        for option in item["answerOption"]:
            coding = option["valueCoding"]
            assert coding["display"] == question.label(coding["code"])
            assert coding["system"] == f"{body['url']}/{question.id}"
            exclusive = [e for e in option.get("extension", []) if e["url"].endswith("questionnaire-optionExclusive")]
            assert bool(exclusive) is (question.type == "multi" and coding["code"] == "none")
        if question.help:
            assert item["item"][0]["type"] == "display" and item["item"][0]["text"] == question.help
        if question.enable_when:
            assert item["enableWhen"], question.id
            assert len(item["enableWhen"]) == 1 or item["enableBehavior"] in ("any", "all")
            for condition in item["enableWhen"]:
                assert condition["question"] in items and condition["operator"] == "="
                source = items[condition["question"]]
                assert condition["answerCoding"]["code"] in [o["valueCoding"]["code"] for o in source["answerOption"]]
        else:
            assert "enableWhen" not in item


def test_enable_when_says_exactly_when_the_flow_asks(app, client):
    body = get_questionnaire(client)
    engine = app.extensions["engines"].get("muscle-pain")
    items = {i["linkId"]: i for i in body["item"]}
    for complaint in engine.flow.question("main_complaint").values:
        answers = {"main_complaint": (complaint,)}
        for question in engine.flow.questions:
            if question.enable_when:
                flow_says = all(c.holds(answers) for c in question.enable_when)
                assert enabled(items[question.id], {"main_complaint": {complaint}}) is flow_says, \
                    (question.id, complaint)


def test_questionnaire_errors(client):
    assert client.get("/api/v1/flows/nope/questionnaire").status_code == 404
    assert client.get("/api/v1/flows/nope/questionnaire").get_json()["error"]["code"] == "not_found"
    assert client.get(QUESTIONNAIRE + "?version=99").status_code == 404
    assert client.get(QUESTIONNAIRE + "?version=abc").status_code == 422
    assert client.get(QUESTIONNAIRE + "?version=1").status_code == 200


def test_questionnaire_response_validates_and_matches_its_questionnaire(client, talk):
    conversation = talk().through(WIDESPREAD_PAIN)
    body = shared_response(client, conversation.id)
    resource = QuestionnaireResponse.model_validate(body)
    assert resource.status == "completed"
    questionnaire = get_questionnaire(client)
    assert body["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"
    assert datetime.fromisoformat(body["authored"].replace("Z", "+00:00")).tzinfo is not None
    assert conversation.id not in str(body)

    items = {i["linkId"]: i for i in questionnaire["item"]}
    answers = {i["linkId"]: {a["valueCoding"]["code"] for a in i["answer"]} for i in body["item"]}
    for item in body["item"]:
        question = items[item["linkId"]]
        assert item["text"] == question["text"]
        options = [o["valueCoding"] for o in question["answerOption"]]
        for answer in item["answer"]:
            assert answer["valueCoding"] in options
        assert question["repeats"] or len(item["answer"]) == 1
    # a completed response answers exactly the questions that are enabled by its own answers
    asked = {q for q, item in items.items() if enabled(item, answers)}
    assert set(answers) == asked == set(conversation.asked)
    # and it says what the person said, in flow order
    expected = {q: {v} if isinstance(v, str) else set(v) for q, v in conversation.conversation["answers"].items()}
    assert answers == expected
    assert [i["linkId"] for i in body["item"]] == [q for q in items if q in answers]


def test_response_status_follows_the_conversation(client, talk):
    stopped = talk().through({"age_band": "40_49", "red_flags": ["breathing_difficulty"]})
    body = shared_response(client, stopped.id)
    assert body["status"] == "stopped" and body["status"] in RESPONSE_STATUSES
    QuestionnaireResponse.model_validate(body)


def _flow(*questions: Question) -> Flow:
    return Flow(id="demo-flow", version=3, title="Demo", disclaimer="Educational.", questions=questions)


def test_criteria_enable_when_cannot_express_become_an_sdc_expression():
    yes_no = (Option("yes", "Yes"), Option("no", "No"), Option("none", "None of these"))
    flow = _flow(
        Question("a", "multi", "A?", "", yes_no),
        Question("b", "choice", "B?", "", yes_no),
        Question("c", "choice", "C?", "", yes_no, enable_when=(Criterion("a", none_of=("no",)),)),
        Question("d", "choice", "D?", "", yes_no, enable_when=(Criterion("a", at_least=2, of=("yes", "no")),)),
        Question("e", "choice", "E?", "", yes_no,
                 enable_when=(Criterion("a", any_of=("yes",)), Criterion("b", any_of=("no",)))),
        Question("f", "choice", "F?", "", yes_no,
                 enable_when=(Criterion("a", any_of=("yes", "no")), Criterion("b", any_of=("no",)))),
    )
    body = fhir.questionnaire(flow, "https://example.org/q")
    Questionnaire.model_validate(body)
    items = {i["linkId"]: i for i in body["item"]}
    assert body["name"] == "DemoFlow" and body["id"] == "demo-flow-3"
    assert items["e"]["enableBehavior"] == "all" and len(items["e"]["enableWhen"]) == 2
    for linkId, fragment in (("c", ".empty()"), ("d", ".count() >= 2"), ("f", "'yes' | 'no'")):
        assert "enableWhen" not in items[linkId]
        expression = items[linkId]["extension"][0]
        assert expression["url"].endswith("sdc-questionnaire-enableWhenExpression")
        assert expression["valueExpression"]["language"] == "text/fhirpath"
        assert fragment in expression["valueExpression"]["expression"]

    response = fhir.questionnaire_response(flow, {"a": ("yes", "no"), "b": ("no",)}, "https://example.org/q",
                                           "finished", "2026-03-01T09:00:00Z")
    QuestionnaireResponse.model_validate(response)
    assert response["questionnaire"] == "https://example.org/q|3"
    assert [a["valueCoding"]["code"] for a in response["item"][0]["answer"]] == ["yes", "no"]


def test_invalid_resources_are_rejected_by_the_validator():
    """The validator used above does reject broken resources (so passing it means something)."""
    from pydantic import ValidationError
    with pytest.raises(ValidationError):
        Questionnaire.model_validate({"resourceType": "Questionnaire", "status": "active",
                                      "item": [{"linkId": "x", "type": "choice", "unknownField": 1}]})
    with pytest.raises(ValidationError):
        QuestionnaireResponse.model_validate({"resourceType": "QuestionnaireResponse", "status": "completed",
                                              "item": [{"text": "no linkId"}]})
