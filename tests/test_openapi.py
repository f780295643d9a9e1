"""The OpenAPI 3.1 document: valid, generated from the marshmallow schemas, and covering every route and status."""
from __future__ import annotations

import json
import re

import jsonschema_rs
import pytest
import schemathesis

from assistant.web import openapi, schemas

from .conftest import WIDESPREAD_PAIN, make_app

# Every route of shared/spec/api.md (plus the document itself and the QR code the share link names).
SPEC_ROUTES = {
    ("post", "/api/v1/assess"),
    ("get", "/api/v1/flows"),
    ("get", "/api/v1/flows/{flow_id}/questionnaire"),
    ("post", "/api/v1/conversations"),
    ("get", "/api/v1/conversations/{conversation_id}"),
    ("delete", "/api/v1/conversations/{conversation_id}"),
    ("post", "/api/v1/conversations/{conversation_id}/answers"),
    ("post", "/api/v1/conversations/{conversation_id}/rewind"),
    ("get", "/api/v1/conversations/{conversation_id}/result"),
    ("post", "/api/v1/conversations/{conversation_id}/shares"),
    ("delete", "/api/v1/conversations/{conversation_id}/shares"),
    ("get", "/s/{token}"),
    ("get", "/s/{token}/handout"),
    ("get", "/s/{token}/fhir"),
    ("get", "/s/{token}/qr.svg"),
    ("get", "/api/v1/openapi.json"),
}
METHODS = {"get", "post", "put", "patch", "delete"}
STORAGE_ROUTES = {route for route in SPEC_ROUTES
                  if "conversation" in route[1] or route[1].startswith("/s/")}
BODY_ROUTES = {("post", "/api/v1/assess"), ("post", "/api/v1/conversations"),
               ("post", "/api/v1/conversations/{conversation_id}/answers"),
               ("post", "/api/v1/conversations/{conversation_id}/rewind"),
               ("post", "/api/v1/conversations/{conversation_id}/shares")}


@pytest.fixture(scope="module")
def document():
    """Built once: it does not depend on the database (the served copy is compared in test_served_document)."""
    return json.loads(json.dumps(openapi.build_spec().to_dict()))


def test_served_document(client, document):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == document


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def validator(document, name: str):
    """A JSON Schema 2020-12 validator for one component, its references resolved inside the document."""
    return jsonschema_rs.Draft202012Validator({"$ref": f"#/components/schemas/{name}",
                                               "components": document["components"]})


def response_schema(document, method: str, path: str, status: int, media: str = "application/json") -> dict:
    schema = document["paths"][path][method]["responses"][str(status)]["content"][media]["schema"]
    return {**schema, "components": document["components"]}


def assert_matches(document, method, path, response):
    body = response.get_json()
    errors = list(jsonschema_rs.Draft202012Validator(
        response_schema(document, method, path, response.status_code)).iter_errors(body))
    assert not errors, f"{method.upper()} {path} {response.status_code}: {[str(e) for e in errors]}\n{body}"


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    schemathesis.openapi.from_dict(document).validate()  # the OpenAPI 3.1 meta-schema
    assert json.loads(json.dumps(document)) == document


def test_document_describes_every_route_of_the_spec(document):
    described = {(method, path) for method, path, _ in operations(document)}
    assert SPEC_ROUTES <= described, f"missing: {sorted(SPEC_ROUTES - described)}"


@pytest.fixture(scope="module")
def routes_app(tmp_path_factory):
    app = make_app(f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'routes.sqlite3'}")
    yield app
    app.extensions["db_engine"].dispose()


def test_every_served_api_and_share_route_is_described(routes_app, document):
    """A route added under /api/ or /s/ without a description fails here, naming it."""
    described = {(method, openapi.flask_path(path)) for method, path, _ in operations(document)}
    served = set()
    for rule in routes_app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/s/")):
            served |= {(method.lower(), re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"<\1>", rule.rule))
                       for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served <= described, f"undescribed routes: {sorted(served - described)}"


def test_operation_ids_are_unique_and_every_operation_is_summarised(document):
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    assert all(operation.get("summary") for _, _, operation in operations(document))


@pytest.mark.parametrize("route", sorted(SPEC_ROUTES))
def test_every_status_a_route_can_answer_is_documented(document, route):
    method, path = route
    statuses = set(document["paths"][path][method]["responses"])
    assert "429" in statuses, "every route is rate limited"
    assert any(s.startswith("2") for s in statuses)
    if route in STORAGE_ROUTES:
        assert {"404", "503"} <= statuses
        assert "Retry-After" in document["paths"][path][method]["responses"]["503"]["headers"]
    if route in BODY_ROUTES:
        assert {"400", "413", "415", "422"} <= statuses
    for status, response in document["paths"][path][method]["responses"].items():
        if status.startswith(("4", "5")):
            content = response["content"]
            if "application/json" in content:
                ref = content["application/json"]["schema"]["$ref"]
                assert ref in ("#/components/schemas/ErrorOut", "#/components/schemas/ConflictOut")


def test_answers_document_the_409_with_the_current_conversation(document):
    conflict = document["components"]["schemas"]["ConflictBody"]
    assert conflict["properties"]["conversation"]["$ref"] == "#/components/schemas/ConversationOut"
    answers = document["paths"]["/api/v1/conversations/{conversation_id}/answers"]["post"]
    assert answers["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/ConflictOut")


@pytest.mark.parametrize("schema_class", [schemas.ConversationOut, schemas.ResultOut, schemas.FlowOut,
                                          schemas.AnswerRequest, schemas.AssessRequest, schemas.ErrorBody])
def test_components_are_generated_from_the_marshmallow_schemas(document, schema_class):
    component = document["components"]["schemas"][schema_class.__name__]
    names = {field.data_key or name for name, field in schema_class().fields.items()}
    assert set(component["properties"]) == names
    required = {field.data_key or name for name, field in schema_class().fields.items() if field.required}
    assert set(component.get("required", [])) == required


def test_answer_values_are_one_value_or_a_list(document):
    value = document["components"]["schemas"]["AnswerRequest"]["properties"]["value"]
    assert value == {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    step = document["components"]["schemas"]["AnswerRequest"]["properties"]["step"]
    assert step["type"] == "integer" and step["minimum"] == 0


def test_new_conversation_documents_its_location_and_links(document):
    created = document["paths"]["/api/v1/conversations"]["post"]["responses"]["201"]
    assert created["headers"]["Location"]["required"] is True
    assert created["links"]["AnswerFirstOption"]["operationId"] == "answer"


def test_real_answers_match_the_document(client, document, talk):
    """A whole conversation, its errors and its result, each checked against the document's schemas."""
    base = "/api/v1/conversations"
    conversation = talk()
    created = client.get(f"{base}/{conversation.id}")
    assert_matches(document, "get", f"{base}/{{conversation_id}}", created)
    stale = client.post(f"{base}/{conversation.id}/answers",
                        json={"question_id": "age_band", "value": "40_49", "step": 3})
    assert stale.status_code == 409
    assert_matches(document, "post", f"{base}/{{conversation_id}}/answers", stale)
    invalid = client.post(f"{base}/{conversation.id}/answers", json={"question_id": "age_band", "step": 0})
    assert invalid.status_code == 422
    assert_matches(document, "post", f"{base}/{{conversation_id}}/answers", invalid)
    answered = conversation.answer("40_49")
    assert_matches(document, "post", f"{base}/{{conversation_id}}/answers", answered)
    unfinished = client.get(f"{base}/{conversation.id}/result")
    assert_matches(document, "get", f"{base}/{{conversation_id}}/result", unfinished)
    conversation.through(WIDESPREAD_PAIN)
    result = client.get(f"{base}/{conversation.id}/result")
    assert_matches(document, "get", f"{base}/{{conversation_id}}/result", result)
    shared = client.post(f"{base}/{conversation.id}/shares", json={"expires_in_days": 3})
    assert shared.status_code == 201
    assert_matches(document, "post", f"{base}/{{conversation_id}}/shares", shared)
    questionnaire = client.get("/api/v1/flows/muscle-pain/questionnaire")
    assert questionnaire.mimetype in document["paths"]["/api/v1/flows/{flow_id}/questionnaire"]["get"][
        "responses"]["200"]["content"]
    assert not list(jsonschema_rs.Draft202012Validator(response_schema(
        document, "get", "/api/v1/flows/{flow_id}/questionnaire", 200, questionnaire.mimetype)).iter_errors(
        json.loads(questionnaire.data)))
    rewound = client.post(f"{base}/{conversation.id}/rewind", json={"question_id": "duration"})
    assert_matches(document, "post", f"{base}/{{conversation_id}}/rewind", rewound)
    assessed = client.post("/api/v1/assess", json={"answers": WIDESPREAD_PAIN})
    assert_matches(document, "post", "/api/v1/assess", assessed)
    flows = client.get("/api/v1/flows")
    assert_matches(document, "get", "/api/v1/flows", flows)
    missing = client.get(f"{base}/nobody")
    assert_matches(document, "get", f"{base}/{{conversation_id}}", missing)


def test_the_result_schema_accepts_a_real_result(document, talk):
    result = talk().through(WIDESPREAD_PAIN).result()
    assert not list(validator(document, "ResultOut").iter_errors(result))
    assert schemas.ResultOut().validate(result) == {}
