"""The OpenAPI 3.1 document of the JSON API v1 and the share pages, served at GET /api/v1/openapi.json.

Generated with apispec from the marshmallow schemas in schemas.py (plus the few error and FHIR envelopes below), so
the document and the code share one definition of every body. Every route of shared/spec/api.md is described with
every status it can answer; tests/test_openapi.py checks that no served route is missing and schemathesis checks the
answers against it.
"""
from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app, jsonify
from marshmallow import INCLUDE, Schema, fields, validate

from assistant.web import fhir_intake, schemas, share_api

bp = Blueprint("openapi", __name__)

OPENAPI_PATH = "/api/v1/openapi.json"
TITLE = "Muscle-pain intake assistant API"
API_VERSION = "1"

# --- envelopes that schemas.py does not need at run time ------------------------------------------------------------


class ConflictBody(schemas.ErrorBody):
    conversation = fields.Nested(schemas.ConversationOut, metadata={
        "description": "The conversation as it is now, so a client can resynchronise without another request."})


class ConflictOut(Schema):
    error = fields.Nested(ConflictBody, required=True)


class FhirQuestionnaire(Schema):
    """A FHIR R4 Questionnaire (only the members this API always sends are spelled out)."""

    class Meta:
        unknown = INCLUDE

    resourceType = fields.String(required=True, validate=validate.OneOf(["Questionnaire"]))
    status = fields.String(required=True)
    item = fields.List(fields.Dict(), required=True)


class FhirTerminology(Schema):
    """A FHIR R4 CodeSystem or ValueSet (only the members this API always sends are spelled out)."""

    class Meta:
        unknown = INCLUDE

    resourceType = fields.String(required=True, validate=validate.OneOf(["CodeSystem", "ValueSet"]))
    url = fields.String(required=True)
    version = fields.String(required=True)
    status = fields.String(required=True)


class FhirQuestionnaireResponse(Schema):
    """A FHIR R4 QuestionnaireResponse (only the members this API always sends are spelled out)."""

    class Meta:
        unknown = INCLUDE

    resourceType = fields.String(required=True, validate=validate.OneOf(["QuestionnaireResponse"]))
    status = fields.String(required=True)
    questionnaire = fields.String()
    item = fields.List(fields.Dict())


class FhirBundle(Schema):
    """A FHIR R4 Bundle of type `collection` (here: a shared intake's daily check-ins as QuestionnaireResponses)."""

    class Meta:
        unknown = INCLUDE

    resourceType = fields.String(required=True, validate=validate.OneOf(["Bundle"]))
    type = fields.String(required=True, validate=validate.OneOf(["collection"]))
    timestamp = fields.String(required=True)
    entry = fields.List(fields.Dict(), required=True)


# The share API's own request and response schemas (it returns more URLs than schemas.ShareOut names).
SHARE_REQUEST = getattr(share_api, "CreateShareRequest", schemas.ShareRequest)
SHARE_CREATED = getattr(share_api, "ShareCreated", schemas.ShareOut)


# --- marshmallow -> JSON Schema for our own field ------------------------------------------------------------------

def _answer_value(self, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    """schemas.AnswerValue: one value (a `choice` question) or a list of values (a `multi` question)."""
    if not isinstance(field, schemas.AnswerValue):
        return {}
    one_of: list[dict[str, Any]] = [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
    if field.allow_none:
        one_of.append({"type": "null"})
    return {"oneOf": one_of}


# --- reusable pieces ------------------------------------------------------------------------------------------------

JSON = "application/json"
FHIR_JSON = "application/fhir+json"
HTML = "text/html"
TEXT = "text/plain"
SVG = "image/svg+xml"

ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "The body is not valid JSON or not a JSON object (code `malformed_json`), or holds a value "
                        "that cannot be stored (code `bad_request`)."),
    404: ("NotFound", "No such conversation, flow, share link or route (code `not_found`)."),
    409: ("Conflict", "The request does not fit the conversation's current state: a stale or repeated `step` "
                      "(code `stale_step`), a question not asked yet (code `conflict`) or a conversation not finished "
                      "(code `not_finished`). When the conversation is known, `error.conversation` carries it."),
    410: ("Gone", "The share link expired (code `expired`) or was revoked (code `revoked`)."),
    413: ("TooLarge", "The body is larger than the limit (code `too_large`)."),
    415: ("UnsupportedMediaType", "The body is not sent as `Content-Type: application/json` "
                                  "(code `unsupported_media_type`)."),
    422: ("Invalid", "A field is missing or invalid, or an answer names an unknown question or value; `error.fields` "
                     "names each one (code `invalid`)."),
    429: ("RateLimited", "Too many requests from this client; wait `Retry-After` seconds (code `rate_limited`)."),
    503: ("Unavailable", "Storage is unavailable for a moment; nothing was saved. Retry after `Retry-After` seconds "
                        "(code `unavailable`)."),
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                               "schema": {"type": "integer", "minimum": 0}}}
RATE_HEADERS = {
    "X-RateLimit-Limit": {"description": "Requests allowed in the current window.", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in the current window.", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "When the window resets (Unix time).", "schema": {"type": "integer"}},
}


def _error_schema(status: int) -> type[Schema]:
    return ConflictOut if status == 409 else schemas.ErrorOut


def _error_response(status: int, page: bool, plain: bool = False) -> dict[str, Any]:
    """`page`: the route is an HTML page, so errors are a page unless the client asks for JSON.
    `plain`: the route may also answer this error as plain text (an image URL, where a page would not show)."""
    _, description = ERRORS[status]
    content: dict[str, Any] = {JSON: {"schema": _error_schema(status)}}
    if page:
        content[HTML] = {"schema": {"type": "string"}}
        description += " A page for browsers; the JSON error shape when the client asks for JSON."
    if plain:
        content[TEXT] = {"schema": {"type": "string"}}
        description += " Plain text when the route itself refuses the link."
    response: dict[str, Any] = {"description": description, "content": content}
    if status == 429:
        response["headers"] = {**RETRY_AFTER, **RATE_HEADERS}
    elif status == 503:
        response["headers"] = dict(RETRY_AFTER)
    return response


def errors(*statuses: int, page: bool = False, plain: tuple[int, ...] = ()) -> dict[str, Any]:
    """Error responses by status; 429 is possible on every route, so it is always added."""
    return {str(status): _error_response(status, page, status in plain) for status in sorted({*statuses, 429})}


def path_param(name: str, description: str, pattern: str) -> dict[str, Any]:
    return {"in": "path", "name": name, "required": True, "description": description,
            "schema": {"type": "string", "minLength": 1, "pattern": pattern}}


CONVERSATION_ID = path_param(
    "conversation_id", "The conversation's id: an unguessable token that acts as its bearer key.", r"^[A-Za-z0-9_-]+$")
TOKEN = path_param("token", "The share link's token (at least 128 bits; stored only as a hash).", r"^[A-Za-z0-9_-]+$")
FLOW_ID = path_param("flow_id", "A flow id, for example `muscle-pain`.", r"^[a-z0-9-]+$")
QUESTION_ID = path_param("question_id", "A question id of the flow, for example `red_flags`.", r"^[a-z0-9_]+$")
FLOW_VERSION = {"in": "query", "name": "version", "required": False,
                "description": "A version of the flow (default: the latest).",
                "schema": {"type": "integer", "minimum": 1}}


def json_body(schema: Any, description: str) -> dict[str, Any]:
    return {"required": True, "description": description, "content": {JSON: {"schema": schema}}}


def ok(description: str, schema: Any, media: tuple[str, ...] = (JSON,), **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {m: {"schema": schema} for m in media}, **extra}


PAGE = {"type": "string", "description": "An HTML page."}
LOCATION = {"Location": {"description": "The new conversation's URL.", "required": True,
                         "schema": {"type": "string"}}}
# How a client goes on from a conversation it was given (also what stateful testing follows).
_ID = {"conversation_id": "$response.body#/id"}
_LINKS = {
    "AnswerFirstOption": {"operationId": "answer", "parameters": _ID,
                          "requestBody": {"question_id": "$response.body#/question/id",
                                          "value": "$response.body#/question/options/0/value",
                                          "step": "$response.body#/step"},
                          "description": "Answer the current question (here with its first option)."},
    "GetConversation": {"operationId": "getConversation", "parameters": _ID, "description": "Read it again."},
    "RewindHere": {"operationId": "rewind", "parameters": _ID,
                   "requestBody": {"question_id": "$response.body#/question/id"},
                   "description": "Go back to a question already answered (here: the current one)."},
    "GetResult": {"operationId": "getResult", "parameters": _ID, "description": "Its result once it has ended."},
    "CreateShare": {"operationId": "createShare", "parameters": _ID,
                    "description": "Share its summary once it has ended."},
    "RevokeShares": {"operationId": "revokeShares", "parameters": _ID, "description": "Stop every share link."},
    "DeleteConversation": {"operationId": "deleteConversation", "parameters": _ID, "description": "Forget it."},
}
CONVERSATION_LINKS = {name: link for name, link in _LINKS.items() if name != "RewindHere"}
TURN_LINKS = _LINKS


# --- the operations ------------------------------------------------------------------------------------------------

def operations() -> list[tuple[str, dict[str, Any]]]:
    """(path, {method: operation}) for every route of shared/spec/api.md."""
    conversation = "/api/v1/conversations/{conversation_id}"
    return [
        ("/api/v1/assess", {"post": {
            "operationId": "assess", "tags": ["assessment"],
            "summary": "Assess a set of answers at once, storing nothing",
            "description": "Questions the flow would not have asked given the other answers are ignored and listed "
                           "in `ignored`. Unknown questions or values are named in a 422.",
            "requestBody": {"required": True, "description": (
                "The flow and the answers by question id (`application/json`), or a FHIR R4 QuestionnaireResponse "
                "for one of the served Questionnaires (`application/fhir+json`), from any form renderer. The "
                "response names its Questionnaire by canonical URL (`url|version`); every answer is a "
                "`valueCoding` of the question's CodeSystem. A response for a Questionnaire not served here, or "
                "with an unknown item or code, is a 422 naming `questionnaire` or the item (`fields.item`)."),
                "content": {JSON: {"schema": schemas.AssessRequest},
                            FHIR_JSON: {"schema": fhir_intake.QuestionnaireResponseSchema}}},
            "responses": {"200": ok("The result.", schemas.ResultOut), **errors(400, 404, 413, 415, 422)},
        }}),
        ("/api/v1/flows", {"get": {
            "operationId": "listFlows", "tags": ["flows"], "summary": "The flows served, latest version of each",
            "responses": {"200": ok("Every flow with its questions.",
                                    {"type": "array", "items": schemas.FlowOut}), **errors()},
        }}),
        ("/api/v1/flows/{flow_id}/questionnaire", {"get": {
            "operationId": "getQuestionnaire", "tags": ["flows", "sharing"],
            "parameters": [FLOW_ID, FLOW_VERSION],
            "summary": "The flow as a FHIR R4 (SDC) Questionnaire",
            "description": "Its `url` is this route's URL under the public base URL (`PUBLIC_URL`), whatever the "
                           "request's host. Readable from any origin (CORS, GET only, no credentials).",
            "responses": {"200": ok("The Questionnaire.", FhirQuestionnaire, (FHIR_JSON, JSON)),
                          **errors(404, 422)},
        }}),
        ("/api/v1/flows/{flow_id}/codesystems/{question_id}", {"get": {
            "operationId": "getCodeSystem", "tags": ["flows"], "parameters": [FLOW_ID, QUESTION_ID, FLOW_VERSION],
            "summary": "The answers of one question as a FHIR R4 CodeSystem",
            "description": "The `system` of every answer coding of that question; code = the answer value. Readable "
                           "from any origin (CORS, GET only, no credentials).",
            "responses": {"200": ok("The CodeSystem.", FhirTerminology, (FHIR_JSON, JSON)), **errors(404, 422)},
        }}),
        ("/api/v1/flows/{flow_id}/valuesets/{question_id}", {"get": {
            "operationId": "getValueSet", "tags": ["flows"], "parameters": [FLOW_ID, QUESTION_ID, FLOW_VERSION],
            "summary": "Every answer of one question as a FHIR R4 ValueSet",
            "description": "Readable from any origin (CORS, GET only, no credentials).",
            "responses": {"200": ok("The ValueSet.", FhirTerminology, (FHIR_JSON, JSON)), **errors(404, 422)},
        }}),
        ("/api/v1/conversations", {"post": {
            "operationId": "createConversation", "tags": ["conversations"], "summary": "Start a conversation",
            "requestBody": json_body(schemas.CreateConversationRequest, "Which flow (default `muscle-pain`)."),
            "responses": {"201": ok("The new conversation with its first question.", schemas.ConversationOut,
                                    headers=LOCATION, links=CONVERSATION_LINKS),
                          **errors(400, 404, 413, 415, 422, 503)},
        }}),
        (conversation, {
            "parameters": [CONVERSATION_ID],
            "get": {
                "operationId": "getConversation", "tags": ["conversations"], "summary": "Read a conversation",
                "responses": {"200": ok("The conversation.", schemas.ConversationOut), **errors(404, 503)},
            },
            "delete": {
                "operationId": "deleteConversation", "tags": ["conversations"],
                "summary": "Delete a conversation with its answers, result and share links",
                "responses": {"204": {"description": "Deleted; nothing of it is kept."}, **errors(404, 503)},
            },
        }),
        (conversation + "/answers", {"post": {
            "operationId": "answer", "tags": ["conversations"], "parameters": [CONVERSATION_ID],
            "summary": "Answer the current question",
            "description": "`step` must be the conversation's current step. A stale or repeated step is a 409 "
                           "carrying the current conversation; an identical retry of the previous answer returns 200 "
                           "with the same state (idempotent). Of two concurrent answers exactly one is applied.",
            "requestBody": json_body(schemas.AnswerRequest, "The question, its value(s) and the step answered."),
            "responses": {"200": ok("The conversation after the answer.", schemas.ConversationOut, links=TURN_LINKS),
                          **errors(400, 404, 409, 413, 415, 422, 503)},
        }}),
        (conversation + "/rewind", {"post": {
            "operationId": "rewind", "tags": ["conversations"], "parameters": [CONVERSATION_ID],
            "summary": "Go back to a question already answered",
            "description": "Later answers are kept as suggestions; the flow resumes from that question.",
            "requestBody": json_body(schemas.RewindRequest, "The question to go back to."),
            "responses": {"200": ok("The conversation, now at that question.", schemas.ConversationOut,
                                    links=TURN_LINKS),
                          **errors(400, 404, 409, 413, 415, 422, 503)},
        }}),
        (conversation + "/checkins", {
            "parameters": [CONVERSATION_ID],
            "post": {
                "operationId": "startCheckin", "tags": ["check-ins"],
                "summary": "Start today's daily check-in for a finished intake",
                "description": "The path's id is the intake's (a check-in has its own id, answered through the "
                               "usual `/answers` route; `urgency` and `urgent_advice` as in the intake). One "
                               "check-in per day: while today's is in progress it is returned again (200); once it "
                               "has ended, a new one replaces it (201). 409 while the intake is not finished.",
                "requestBody": {**json_body(schemas.CheckinRequest, "Optionally the person's own date."),
                                "required": False},
                "responses": {"201": ok("The new check-in with its first question.", schemas.ConversationOut,
                                        headers=LOCATION, links=CONVERSATION_LINKS),
                              "200": ok("Today's check-in, still in progress.", schemas.ConversationOut,
                                        headers=LOCATION, links=CONVERSATION_LINKS),
                              **errors(400, 404, 409, 413, 415, 422, 503)},
            },
            "get": {
                "operationId": "listCheckins", "tags": ["check-ins"],
                "summary": "An intake's daily check-ins with their scores, oldest first",
                "responses": {"200": ok("Every check-in kept (at most RETENTION_DAYS old).",
                                        {"type": "array", "items": schemas.CheckinOut}), **errors(404, 503)},
            },
        }),
        (conversation + "/result", {"get": {
            "operationId": "getResult", "tags": ["conversations"], "parameters": [CONVERSATION_ID],
            "summary": "The result of a conversation that has ended",
            "responses": {"200": ok("The result.", schemas.ResultOut), **errors(404, 409, 503)},
        }}),
        (conversation + "/shares", {
            "parameters": [CONVERSATION_ID],
            "post": {
                "operationId": "createShare", "tags": ["sharing"], "summary": "Create a read-only share link",
                "description": "The token in the URL has at least 128 bits and is stored only as a hash. "
                               "Only a conversation that has ended can be shared (409 otherwise).",
                "requestBody": {**json_body(SHARE_REQUEST,
                                            "How long the link works (1 to 30 days, default 7)."),
                                "required": False},
                "responses": {"201": ok("The link (also in `Location`), when it expires, and the URLs of its QR "
                                        "code, handout and FHIR export.", SHARE_CREATED,
                                        headers={"Location": {"description": "The share link.", "required": True,
                                                              "schema": {"type": "string"}}}),
                              **errors(400, 404, 409, 413, 415, 422, 503)},
            },
            "delete": {
                "operationId": "revokeShares", "tags": ["sharing"], "summary": "Revoke every link of a conversation",
                "responses": {"204": {"description": "Every link of the conversation stops working."},
                              **errors(404, 503)},
            },
        }),
        ("/s/{token}", {"get": {
            "operationId": "sharedSummary", "tags": ["sharing"], "parameters": [TOKEN],
            "summary": "Read-only summary behind a share link (HTML)",
            "responses": {"200": ok("The summary page; nothing can be changed through it.", PAGE, (HTML,)),
                          **errors(404, 410, 503, page=True)},
        }}),
        ("/s/{token}/handout", {"get": {
            "operationId": "sharedHandout", "tags": ["sharing"], "parameters": [TOKEN],
            "summary": "One printable page for a clinician (HTML, print CSS for A4 and US Letter)",
            "responses": {"200": ok("The handout page.", PAGE, (HTML,)), **errors(404, 410, 503, page=True)},
        }}),
        ("/s/{token}/qr.svg", {"get": {
            "operationId": "sharedQrCode", "tags": ["sharing"], "parameters": [TOKEN],
            "summary": "The QR code of a share link (SVG)",
            "responses": {"200": ok("The QR code.", {"type": "string"}, (SVG,)),
                          **errors(404, 410, 503, page=True, plain=(404, 410))},
        }}),
        ("/s/{token}/fhir", {"get": {
            "operationId": "sharedFhir", "tags": ["sharing"], "parameters": [TOKEN],
            "summary": "The shared answers as a FHIR R4 QuestionnaireResponse",
            "description": "Readable from any origin (CORS, GET only, no credentials).",
            "responses": {"200": ok("The QuestionnaireResponse.", FhirQuestionnaireResponse, (FHIR_JSON, JSON)),
                          **errors(404, 410, 503, page=True)},
        }}),
        ("/s/{token}/fhir/checkins", {"get": {
            "operationId": "sharedCheckinsFhir", "tags": ["sharing", "check-ins"], "parameters": [TOKEN],
            "summary": "The shared intake's daily check-ins as a FHIR R4 Bundle",
            "description": "A `collection` Bundle of QuestionnaireResponses to the `daily-check` Questionnaire "
                           "(`/api/v1/flows/daily-check/questionnaire`), oldest first; empty when there are none.",
            "responses": {"200": ok("The Bundle.", FhirBundle, (FHIR_JSON, JSON)),
                          **errors(404, 410, 503, page=True)},
        }}),
        (OPENAPI_PATH, {"get": {
            "operationId": "getOpenApi", "tags": ["meta"], "summary": "This document",
            "responses": {"200": ok("The OpenAPI 3.1 document.", {"type": "object"}), **errors()},
        }}),
    ]


def build_spec() -> APISpec:
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title=TITLE, version=API_VERSION, openapi_version="3.1.0", plugins=[plugin],
        info={"description": "JSON in, JSON out. Errors are always `{\"error\": {\"code\", \"message\", "
                             "\"fields\"}}`. Educational only: not a diagnosis and not for emergencies.",
              "license": {"name": "Proprietary", "identifier": "LicenseRef-Proprietary"}},
        tags=[{"name": "assessment"}, {"name": "flows"}, {"name": "conversations"}, {"name": "check-ins"},
              {"name": "sharing"}, {"name": "meta"}],
    )
    assert plugin.converter is not None
    plugin.converter.add_attribute_function(_answer_value)
    spec.components.schema("ErrorOut", schema=schemas.ErrorOut)
    spec.components.schema("ConflictOut", schema=ConflictOut)
    for path, path_item in operations():
        parameters = path_item.pop("parameters", None)
        spec.path(path=path, operations=path_item, parameters=parameters)
    return spec


def document(app: Flask | None = None) -> dict[str, Any]:
    """The OpenAPI document as a dict (built once per app)."""
    app = app or current_app
    if "openapi" not in app.extensions:
        app.extensions["openapi"] = build_spec().to_dict()
    return app.extensions["openapi"]


def flask_path(openapi_path: str) -> str:
    """/api/v1/conversations/{conversation_id} -> /api/v1/conversations/<conversation_id>"""
    return openapi_path.replace("{", "<").replace("}", ">")


@bp.get(OPENAPI_PATH)
def openapi_json():
    return jsonify(document())
