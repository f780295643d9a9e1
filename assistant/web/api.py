"""JSON API v1 (shared/spec/api.md): parse and validate with schemas.py, call the service, dump with schemas.py."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request, url_for
from marshmallow import Schema, ValidationError

from assistant.content import regions
from assistant.engine import results
from assistant.store import db
from assistant.web import fhir, fhir_intake, i18n, schemas
from assistant.engine.checkins import Checkins
from assistant.engine.conversations import Service, options_of
from assistant.engine.machine import Engines
from assistant.web.errors import ApiError, Invalid, NotFound, UnsupportedMediaType
from assistant.content.flows import AnswerError
from assistant.web.urls import public_base

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def engines() -> Engines:
    return current_app.extensions["engines"]


def service() -> Service:
    return Service(db.session(), engines(), region=regions.region_of(request.accept_languages),
                   language=i18n.asked())


def load_body(schema: Schema, empty_means_defaults: bool = False) -> dict[str, Any]:
    """A JSON object in, validated by `schema`; with `empty_means_defaults` an empty body loads as {}."""
    if empty_means_defaults and not request.get_data(cache=True):
        body: Any = {}
    elif not request.is_json:
        raise UnsupportedMediaType("Send JSON with the header Content-Type: application/json.")
    else:
        body = request.get_json(silent=True)
        if body is None:
            raise ApiError("The request body is not valid JSON.", code="malformed_json")
        if not isinstance(body, dict):
            raise ApiError("The request body must be a JSON object.", code="malformed_json")
    try:
        return schema.load(body)
    except ValidationError as err:
        raise Invalid("Some fields are missing or invalid.", fields=err.messages_dict) from err


def dump(schema: Schema, data: Any) -> Any:
    if isinstance(data, dict) and "language" in data:
        i18n.answered_in(data["language"])
    return schema.dump(data)


def conversation_out(conversation: dict[str, Any]) -> dict[str, Any]:
    """A conversation as Service builds it is already what ConversationOut dumps (tests/test_response_shape.py checks
    that the dump changes nothing), so it goes out as it is: dumping it again cost as much as the turn's database work."""
    i18n.answered_in(conversation["language"])
    return conversation


# Schemas are built once: making one per request costs more than the validation itself.
RESULT = schemas.ResultOut()
FLOW = schemas.FlowOut()
ASSESS_REQUEST = schemas.AssessRequest()
CREATE_REQUEST = schemas.CreateConversationRequest()
ANSWER_REQUEST = schemas.AnswerRequest()
REWIND_REQUEST = schemas.RewindRequest()
CHECKIN_REQUEST = schemas.CheckinRequest()
CHECKINS = schemas.CheckinOut(many=True)


@bp.post("/assess")
def assess():
    if request.mimetype == fhir.FHIR_JSON:  # a QuestionnaireResponse from any form
        engine, answers = fhir_intake.answers_from(load_body(fhir_intake.RESPONSE), engines(), public_base())
        return assessed(engine, answers)
    body = load_body(ASSESS_REQUEST)
    engine = served_engine(body["flow"], body.get("version"))
    answers, problems = {}, {}
    for question_id, raw in body["answers"].items():
        if not engine.flow.has_question(question_id):
            problems[question_id] = f"unknown question '{question_id}'"
            continue
        try:
            answers[question_id] = engine.flow.question(question_id).clean(raw)
        except AnswerError as err:
            problems[question_id] = str(err)
    if problems:
        names = ", ".join(sorted(problems))
        raise Invalid(f"Some answers are not valid: {names}.", fields={"answers": problems})
    return assessed(engine, answers)


def assessed(engine, answers) -> Any:
    """The Result of answers already checked, in the words of the language the request asks for."""
    texts = engines().languages.flow(engine.flow, i18n.page_language())
    return dump(RESULT, results.assess(engine, answers, texts))


def served_engine(flow_id: str, version: int | None):
    """The engine of a flow version that is served (the newest when no version is asked for), else 404."""
    engine = engines().get(flow_id, version)
    if engine is None:
        asked = f" version {version}" if version is not None else ""
        raise NotFound(f"No flow called '{flow_id}'{asked} is served.", fields={"flow": flow_id})
    return engine


@bp.get("/flows")
def list_flows():
    """Every flow served, in the language asked for where it has that language (Content-Language says which)."""
    asked = i18n.asked() or "en"
    texts = service().texts
    flows = [texts(engine, asked) for engine in engines().all()]
    i18n.answered_in(asked if all(flow.language == asked for flow in flows) else "en")
    return [FLOW.dump(flow_summary(flow)) for flow in flows]


def flow_summary(flow) -> dict[str, Any]:
    return {"id": flow.id, "version": flow.version, "title": flow.title,
            "questions": [{"id": q.id, "type": q.type, "text": q.text, "help": q.help,
                           "options": options_of(q)}
                          for q in flow.questions]}


@bp.post("/conversations")
def create_conversation():
    body = load_body(CREATE_REQUEST)
    conversation = service().create(body["flow"], body.get("version"))
    location = url_for("api.get_conversation", conversation_id=conversation["id"])
    return conversation_out(conversation), 201, {"Location": location}


@bp.get("/conversations/<conversation_id>")
def get_conversation(conversation_id: str):
    return conversation_out(service().get(conversation_id))


@bp.post("/conversations/<conversation_id>/answers")
def answer(conversation_id: str):
    body = load_body(ANSWER_REQUEST)
    conversation = service().answer(conversation_id, body["question_id"], body["value"], body["step"])
    return conversation_out(conversation)


@bp.post("/conversations/<conversation_id>/rewind")
def rewind(conversation_id: str):
    body = load_body(REWIND_REQUEST)
    return conversation_out(service().rewind(conversation_id, body["question_id"]))


@bp.delete("/conversations/<conversation_id>")
def delete_conversation(conversation_id: str):
    service().delete(conversation_id)
    return "", 204


@bp.post("/conversations/<conversation_id>/checkins")
def start_checkin(conversation_id: str):
    body = load_body(CHECKIN_REQUEST, empty_means_defaults=True)
    checkin, created = Checkins(service()).start(conversation_id, body.get("date"))
    location = url_for("api.get_conversation", conversation_id=checkin["id"])
    return conversation_out(checkin), 201 if created else 200, {"Location": location}


@bp.get("/conversations/<conversation_id>/checkins")
def list_checkins(conversation_id: str):
    return CHECKINS.dump(Checkins(service()).list(conversation_id))


@bp.get("/conversations/<conversation_id>/result")
def result(conversation_id: str):
    return dump(RESULT, service().result(conversation_id))
