"""One error shape for the whole API: {"error": {"code", "message", "fields"}} (shared/spec/api.md).

Pages (anything outside /api/ that does not ask for JSON) get the same status with a friendly error page. A route
that answers something else than a page says which media type its errors come in with `@errors_as` (the FHIR export:
JSON; the QR code image: plain text), so an outage never answers it with HTML.
"""
from __future__ import annotations

import logging
from typing import Any

from typing import Callable, Literal, TypeVar

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError, OperationalError, TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import NotFound as HTTPNotFound

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5  # what a client is told to wait when storage is unavailable


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


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 410: "gone",
              413: "too_large", 415: "unsupported_media_type", 429: "rate_limited", 500: "internal_error",
              503: "unavailable"}
RATE_LIMITED_MESSAGE = "Too many requests from this device just now. Please wait a moment and try again."


CSRF_MESSAGE = ("This page had been open for a while (or came from somewhere else), so for your safety nothing was "
                "changed. Go back, reload the page and try again.")


def error_response(status: int, code: str, message: str, fields: dict[str, Any] | None = None,
                   **extra: Any) -> tuple[Response, int]:
    body = {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}
    return jsonify(body), status


def wants_json() -> bool:
    """The API, and any client that prefers JSON (application/json, or a +json type such as FHIR's)."""
    best = request.accept_mimetypes.best or ""
    return request.path.startswith("/api/") or best == "application/json" or best.endswith("+json")


ErrorKind = Literal["json", "text", "page"]
View = TypeVar("View", bound=Callable)


def errors_as(kind: ErrorKind) -> Callable[[View], View]:
    """Mark a view whose errors must come as JSON or plain text whatever the client accepts."""
    def mark(view: View) -> View:
        view.errors_as = kind  # type: ignore[attr-defined]
        return view
    return mark


def error_kind() -> ErrorKind:
    view = current_app.view_functions.get(request.endpoint or "")
    marked = getattr(view, "errors_as", None)
    if marked:
        return marked
    return "json" if wants_json() else "page"


# A page's own words where Werkzeug's description is written for developers (the JSON answers keep it).
PAGE_MESSAGES = {
    405: "This address is not a page to open. Go back and use the buttons on the page.",
    413: "That was more than a page can send, so nothing was changed. Go back and try again.",
}

# The friendly pages' titles and messages in the reader's language (the JSON answers keep the contract's English).
PAGE_WORDS = {
    "Something needs your attention": _l("Something needs your attention"),
    "Please slow down": _l("Please slow down"),
    "Please try that again": _l("Please try that again"),
    "We'll be right back": _l("We'll be right back"),
    # HTTP's own phrases (Werkzeug's titles) in plain words
    "Bad request": _l("That did not work"),
    "Bad Request": _l("That did not work"),
    "Not Found": _l("Page not found"),
    "Method Not Allowed": _l("That cannot be done here"),
    "Request Entity Too Large": _l("That was too much to send"),
    "Internal Server Error": _l("Something went wrong"),
    PAGE_MESSAGES[405]: _l("This address is not a page to open. Go back and use the buttons on the page."),
    PAGE_MESSAGES[413]: _l("That was more than a page can send, so nothing was changed. Go back and try again."),
    RATE_LIMITED_MESSAGE: _l("Too many requests from this device just now. Please wait a moment and try again."),
    CSRF_MESSAGE: _l("This page had been open for a while (or came from somewhere else), so for your safety nothing "
                     "was changed. Go back, reload the page and try again."),
    "Something went wrong on our side. Please try again in a moment.":
        _l("Something went wrong on our side. Please try again in a moment."),
    "We could not reach our storage just now, so nothing was saved. Your earlier answers are safe; please try again "
    "in a moment.": _l("We could not reach our storage just now, so nothing was saved. Your earlier answers are safe; "
                       "please try again in a moment."),
}


def _page(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, title=PAGE_WORDS.get(title, title),
                           message=PAGE_WORDS.get(message, message)), status


def error_answer(status: int, code: str, message: str, title: str, page_message: str | None = None,
                 fields: dict[str, Any] | None = None, **extra: Any) -> tuple[Response | str, int]:
    """The error in the media type the route answers in: JSON, plain text, or the friendly page."""
    kind = error_kind()
    if kind == "json":
        return error_response(status, code, message, fields, **extra)
    if kind == "text":
        return Response(message, status=status, mimetype="text/plain"), status
    return _page(status, title, page_message or message)


def _passed_on_headers(err: HTTPException) -> dict[str, str]:
    """Headers an HTTP error carries (Allow on 405, Retry-After on 429/503), without its own Content-Type."""
    return {k: v for k, v in err.get_headers() if k.lower() != "content-type"}


def _no_nul_in_urls(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """No id or token of ours contains NUL, and PostgreSQL cannot even compare one: answer 404 before asking."""
    if values and any(isinstance(v, str) and "\x00" in v for v in values.values()):
        raise HTTPNotFound()


def register(app: Flask) -> None:
    app.url_value_preprocessor(_no_nul_in_urls)

    @app.errorhandler(ApiError)
    def api_error(err: ApiError):
        return error_answer(err.status, err.code, err.message, "Something needs your attention", fields=err.fields,
                            **err.extra)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        status = err.code or 500
        headers = _passed_on_headers(err)
        if status == 429:
            message, title = RATE_LIMITED_MESSAGE, "Please slow down"
        elif isinstance(err, CSRFError):
            message, title = CSRF_MESSAGE, "Please try that again"
        elif status >= 500:  # never show the internals
            message, title = "Something went wrong on our side. Please try again in a moment.", err.name
        else:
            message, title = err.description or err.name, err.name
        code = "csrf_failed" if isinstance(err, CSRFError) else HTTP_CODES.get(status, "error")
        response, status = error_answer(status, code, message, title, page_message=PAGE_MESSAGES.get(status))
        return response, status, headers

    @app.errorhandler(DataError)
    def data_refused(_err: DataError):
        # The database refused a value (for example a character it cannot store): the request is at fault.
        log.info("storage refused a value: DataError")
        return error_answer(400, "bad_request", "The request contains a value that cannot be stored.", "Bad request")

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)  # every pooled connection busy for longer than the pool waits
    def storage_down(err: Exception):
        # Only the type: the statement and its parameters may hold someone's answers.
        log.warning("storage unavailable: %s", type(err).__name__)
        response, status = error_answer(
            503, "unavailable", "Storage is unavailable for a moment; nothing was saved. Please try again shortly.",
            "We'll be right back", page_message="We could not reach our storage just now, so nothing was saved. Your "
                                                "earlier answers are safe; please try again in a moment.")
        return response, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}
