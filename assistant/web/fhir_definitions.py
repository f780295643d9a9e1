"""A flow's FHIR definitions (fhir.py): a flow version's Questionnaire, and per question a CodeSystem and a ValueSet,
each served at its canonical URL (built from the public base URL, never the request).

They are read-only and public, and hold nothing personal and no key to guess. So they are not under the share API's
tight limit (a tool that checks a response's codes may fetch every CodeSystem and ValueSet of a flow at once): like
every route they get the default per-client limit (security.DEFAULT_LIMITS). Caches may keep them for an hour, since a
flow version's content only changes with a deployment. Any origin may read them (CORS, GET only, no credentials: see
share_api.PUBLIC_FHIR_PATHS).
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from assistant.content.flows import Question
from assistant.engine.machine import FlowEngine
from assistant.web import fhir, i18n
from assistant.web.errors import Invalid, NotFound
from assistant.web.urls import public_base

bp = Blueprint("fhir_definitions", __name__, url_prefix="/api/v1")
CACHE_CONTROL = "public, max-age=3600"


class QuestionnaireQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    version = fields.Integer(validate=validate.Range(min=1))


def fhir_json(resource: dict[str, Any]) -> Response:
    """The same bytes for the same resource, whatever the request looked like (its language included: the resources
    are in the flow's own language, which they name)."""
    i18n.answered_in(resource["language"])
    response = Response(json.dumps(resource, ensure_ascii=False), mimetype=fhir.FHIR_JSON)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def served_flow(flow_id: str) -> FlowEngine:
    """The flow version asked for (`?version=N`, default the newest), or 404/422."""
    try:
        query = QuestionnaireQuery().load(request.args.to_dict())
    except ValidationError as err:
        raise Invalid("Some query parameters are invalid.", fields=err.messages_dict) from err
    engine = current_app.extensions["engines"].get(flow_id, query.get("version"))
    if engine is None:
        raise NotFound(f"No flow called '{flow_id}'" + (f" with version {query['version']}." if "version" in query
                                                        else "."), fields={"flow": flow_id})
    return engine


def served_question(flow_id: str, question_id: str) -> tuple[FlowEngine, Question]:
    engine = served_flow(flow_id)
    if not engine.flow.has_question(question_id):
        raise NotFound(f"Flow '{flow_id}' version {engine.flow.version} has no question '{question_id}'.",
                       fields={"question": question_id})
    return engine, engine.flow.question(question_id)


@bp.get("/flows/<flow_id>/questionnaire")
def questionnaire(flow_id: str):
    return fhir_json(fhir.questionnaire(served_flow(flow_id).flow, public_base()))


@bp.get("/flows/<flow_id>/codesystems/<question_id>")
def code_system(flow_id: str, question_id: str):
    engine, question = served_question(flow_id, question_id)
    return fhir_json(fhir.code_system(engine.flow, question, public_base()))


@bp.get("/flows/<flow_id>/valuesets/<question_id>")
def value_set(flow_id: str, question_id: str):
    engine, question = served_question(flow_id, question_id)
    return fhir_json(fhir.value_set(engine.flow, question, public_base()))
