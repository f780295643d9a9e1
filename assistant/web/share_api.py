"""JSON API v1 for sharing (shared/spec/api.md): create and revoke share links.

CSRF-exempt like the rest of the JSON API: bodies must be JSON (415 otherwise) and the conversation id is the
bearer key of its conversation.

A flow's FHIR definitions (fhir_definitions.py) and a share link's QuestionnaireResponse may be read from any
origin: CORS, GET only, no credentials (PUBLIC_FHIR_PATHS, set up here for both).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from flask_cors import CORS
from marshmallow import Schema, fields, validate

from assistant.store import db
from assistant.web.api import load_body
from assistant.engine.conversations import iso
from assistant.store.sharing import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS, Sharing
from assistant.web.share import clock, link_urls

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
