"""JSON API v1 for sharing (shared/spec/api.md): create and revoke share links; the FHIR resources of a flow.

CSRF-exempt like the rest of the JSON API: bodies must be JSON (415 otherwise) and the conversation id is the
bearer key of its conversation.

The FHIR resources (fhir.py) are read-only and public: a flow version's Questionnaire, and per question a
CodeSystem and a ValueSet, each served at its canonical URL (built from the public base URL, never the request).
They, and a share link's QuestionnaireResponse, may be read from any origin: CORS, GET only, no credentials.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request
from flask_cors import CORS
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from assistant.store import db
from assistant.web import fhir, i18n
from assistant.web.api import load_body
from assistant.engine.conversations import iso
from assistant.engine.machine import FlowEngine
from assistant.web.errors import Invalid, NotFound
from assistant.content.flows import Question
from assistant.store.sharing import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS, Sharing
from assistant.web.share import clock, link_urls
from assistant.web.urls import public_base

bp = Blueprint("share_api", __name__, url_prefix="/api/v1")


class CreateShareRequest(Schema):
    expires_in_days = fields.Integer(load_default=DEFAULT_DAYS, strict=True,
                                     validate=validate.Range(min=MIN_DAYS, max=MAX_DAYS))


class ShareCreated(Schema):
    url = fields.String(required=True)
    expires_at = fields.String(required=True)
    qr_svg_url = fields.String(required=True)
    handout_url = fields.String(required=True)
    fhir_url = fields.String(required=True)


class QuestionnaireQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    version = fields.Integer(validate=validate.Range(min=1))


# Read from any origin: GET only, never with credentials (no cookie or auth header is honoured on these routes).
PUBLIC_FHIR_PATHS = (r"^/api/v1/flows/[^/]+/(questionnaire|codesystems/[^/]+|valuesets/[^/]+)$", r"^/s/[^/]+/fhir(/checkins)?$")


@bp.record_once
def _cors(state: Any) -> None:
    CORS(state.app, resources={path: {"origins": "*", "methods": ["GET"]} for path in PUBLIC_FHIR_PATHS},
         send_wildcard=True, supports_credentials=False, max_age=86400)


def sharing() -> Sharing:
    return Sharing(db.session(), now=clock())


@bp.after_request
def no_store(response: Response) -> Response:
    if request.endpoint in ("share_api.create_share", "share_api.revoke_shares"):
        response.headers["Cache-Control"] = "no-store"  # the created URL is a secret
    return response


@bp.post("/conversations/<conversation_id>/shares")
def create_share(conversation_id: str):
    body = load_body(CreateShareRequest(), empty_means_defaults=True)
    link = sharing().create(conversation_id, body["expires_in_days"])
    urls = link_urls(link.token)
    created = ShareCreated().dump({**urls, "expires_at": iso(link.expires_at)})
    return created, 201, {"Location": urls["url"]}


@bp.delete("/conversations/<conversation_id>/shares")
def revoke_shares(conversation_id: str):
    sharing().revoke_all(conversation_id)
    return "", 204


def fhir_json(resource: dict[str, Any]) -> Response:
    """The same bytes for the same resource, whatever the request looked like (its language included: the resources
    are in the flow's own language, which they name)."""
    i18n.answered_in(resource["language"])
    return Response(json.dumps(resource, ensure_ascii=False), mimetype=fhir.FHIR_JSON)


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
