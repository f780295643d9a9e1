"""JSON API v1 for sharing (shared/spec/api.md): create and revoke share links, and the FHIR Questionnaire of a flow.

CSRF-exempt like the rest of the JSON API: bodies must be JSON (415 otherwise) and the conversation id is the
bearer key of its conversation.
"""
from __future__ import annotations

import json
from flask import Blueprint, Response, current_app, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from . import db, fhir
from .api import load_body
from .conversations import iso
from .errors import Invalid, NotFound
from .sharing import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS, Sharing
from .share import FHIR_JSON, clock, link_urls, questionnaire_url

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


@bp.get("/flows/<flow_id>/questionnaire")
def questionnaire(flow_id: str):
    try:
        query = QuestionnaireQuery().load(request.args.to_dict())
    except ValidationError as err:
        raise Invalid("Some query parameters are invalid.", fields=err.messages_dict) from err
    engine = current_app.extensions["engines"].get(flow_id, query.get("version"))
    if engine is None:
        raise NotFound(f"No flow called '{flow_id}'" + (f" with version {query['version']}." if "version" in query
                                                        else "."), fields={"flow": flow_id})
    resource = fhir.questionnaire(engine.flow, questionnaire_url(engine.flow))
    return Response(json.dumps(resource, ensure_ascii=False), mimetype=FHIR_JSON)
