"""One error shape for the whole API: {"error": {"code", "message", "fields"}} (shared/spec/api.md)."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, Any] | None = None, code: str | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.fields = fields or {}
        self.extra = extra


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class Invalid(ApiError):
    status, code = 422, "invalid"


class Gone(ApiError):
    status, code = 410, "gone"


HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 410: "gone",
              413: "too_large", 415: "unsupported_media_type", 429: "rate_limited", 503: "unavailable"}


def error_response(status: int, code: str, message: str, fields: dict[str, Any] | None = None,
                   **extra: Any) -> tuple[Response, int]:
    body = {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}
    return jsonify(body), status


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _page(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, title=title, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(err: ApiError):
        if wants_json():
            return error_response(err.status, err.code, err.message, err.fields, **err.extra)
        return _page(err.status, "Something needs your attention", err.message)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        status = err.code or 500
        if wants_json():
            return error_response(status, HTTP_CODES.get(status, "error"), err.description or err.name)
        return _page(status, err.name, err.description or "")

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def storage_down(err: Exception):
        log.warning("storage unavailable: %s", type(err).__name__)
        if wants_json():
            return error_response(503, "unavailable", "Storage is unavailable for a moment; nothing was saved. "
                                                      "Please try again shortly.")
        return _page(503, "We'll be right back", "We could not reach our storage just now, so nothing was saved. "
                                                 "Your earlier answers are safe; please try again in a moment.")
