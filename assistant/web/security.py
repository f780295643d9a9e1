"""Web security from kept libraries: CSRF (Flask-WTF), headers and CSP (Flask-Talisman), rate limits (Flask-Limiter).

Also: per-route rate limits on the JSON API, `Cache-Control: no-store` on everything that can carry someone's
answers, the proxy setting that makes the client address and scheme trustworthy, and a log filter that keeps
conversation ids and share tokens (both bearer keys) out of request logs.
"""
from __future__ import annotations

import logging
import re
from functools import partial
from typing import Any

from flask import Flask, Response, current_app, redirect, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect
from werkzeug.datastructures import Headers
from werkzeug.middleware.proxy_fix import ProxyFix

from assistant.web import urls
from assistant.config import SettingsError, is_development
from assistant.web.errors import RETRY_AFTER_SECONDS

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# Per client (remote address), on top of the default for every route. Endpoints that do not exist (yet) are skipped.
# Generous enough for tools that run many clinical cases in a row (assess) or hold conversations by script;
# tight enough that one client cannot flood the service.
ROUTE_LIMITS = {
    "api.assess": "3000 per minute",
    "api.create_conversation": "600 per minute",
    "api.answer": "1200 per minute",
    "api.rewind": "600 per minute",
    "api.delete_conversation": "120 per minute",
    "api.start_checkin": "120 per minute",  # one a day is the use; retries and replays stay well inside
}
# Blueprints whose every route gets one limit per client: share links are bearer keys, so guessing is slowed too.
BLUEPRINT_LIMITS = {
    "share": "60 per minute",
    "share_api": "30 per minute",
}
DEFAULT_LIMITS = ["600 per minute"]
# The limiter's Redis answers in well under a millisecond; one that accepts connections and then says nothing must not
# hold requests: after this long the limiter counts in the process's memory instead (and tries Redis again later).
REDIS_TIMEOUTS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=DEFAULT_LIMITS, headers_enabled=True,
                  swallow_errors=True, in_memory_fallback_enabled=True)


class InsecureConfiguration(SettingsError):
    """Refuse to start in production with development secrets."""


def check_secret_key(app: Flask) -> None:
    if not is_development(app) and app.config.get("SECRET_KEY") in (None, "", "dev"):
        raise InsecureConfiguration(
            "SECRET_KEY must be set outside development: export SECRET_KEY to a long random value "
            "(for example: python3 -c 'import secrets; print(secrets.token_hex(32))'), "
            "or set ASSISTANT_DEV=1 for local development.")


class SafeJSONProvider(DefaultJSONProvider):
    """JSON nested deeper than Python's recursion limit is malformed input (a 400), not a crash (a 500).

    Responses keep their keys in the order they are built (the contract's order; FHIR's element order) rather than
    sorted: sorting every object of every response costs time on every request and helps no reader.
    """

    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


class CookieSessionWhenSent(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with the signing machinery set up only for a request that sends the cookie.

    Flask opens the session of every request, and most (the API, static pages) send no session cookie: they get an
    empty session at once. Saving is unchanged (a session that stays empty sets no cookie).
    """

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    check_secret_key(app)
    app.json = SafeJSONProvider(app)
    app.session_interface = CookieSessionWhenSent()
    development = is_development(app)
    proxies = app.config["TRUSTED_PROXIES"]  # checked at start-up (config.check)
    if proxies:  # behind N proxies (a platform router, a load balancer): trust exactly N X-Forwarded-* hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    if app.config["RATELIMIT_STORAGE_URI"] != "memory://":
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", dict(REDIS_TIMEOUTS))
    app.config.setdefault("RATELIMIT_ENABLED", not app.testing)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=not development)
    if app.config.get("FORCE_HTTPS"):
        app.before_request(redirect_to_https)  # first: a plain-HTTP form post is redirected, not refused
    csrf.init_app(app)
    # One Talisman per app: its settings live on the instance, and a shared one would carry one app's settings
    # (FORCE_HTTPS) into every other app of the process.
    app.extensions["talisman"] = FixedHeadersTalisman(
        app,
        force_https=False,  # redirect_to_https below: to PUBLIC_URL, never to the Host the client sent
        strict_transport_security=True,
        strict_transport_security_max_age=31536000,
        session_cookie_secure=not development,
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        permissions_policy={"camera": "()", "microphone": "()", "geolocation": "()"},
    )
    app.after_request(_retry_after_only_when_meant)  # before the limiter's hook, so it runs after it
    limiter.init_app(app)
    app.after_request(_no_store)
    logging.getLogger("werkzeug").addFilter(REDACT_FILTER)


class FixedHeadersTalisman(Talisman):
    """Flask-Talisman with its headers worked out once per endpoint rather than on every response.

    Talisman builds the same policy strings (CSP, permissions, frame options, referrer) for every response, looking
    the view's options up several times on the way. They only change with the view's own options, so they are
    built at an endpoint's first response and copied after that; HSTS still depends on the request (HTTPS only).
    A view with nonces in its CSP is left to Talisman as it is (a nonce is new on every request).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._options: dict[str | None, dict[str, Any]] = {}
        self._headers: dict[str | None, list[tuple[str, str]]] = {}
        super().__init__(*args, **kwargs)

    def _get_local_options(self) -> dict[str, Any]:
        options = self._options.get(request.endpoint)
        if options is None:
            options = self._options[request.endpoint] = super()._get_local_options()
        return options

    def _set_response_headers(self, response: Response) -> Response:
        options = self._get_local_options()
        if options["content_security_policy_nonce_in"]:
            return super()._set_response_headers(response)
        fixed = self._headers.get(request.endpoint)
        if fixed is None:
            worked_out = Headers()
            self._set_feature_policy_headers(worked_out, options)
            self._set_permissions_policy_headers(worked_out, options)
            self._set_document_policy_headers(worked_out, options)
            self._set_frame_options_headers(worked_out, options)
            self._set_content_security_policy_headers(worked_out, options)
            self._set_referrer_policy_headers(worked_out)
            fixed = self._headers[request.endpoint] = list(worked_out.items())
        headers = response.headers
        for name, value in fixed:
            headers[name] = value
        self._set_hsts_headers(headers)
        return response


def redirect_to_https() -> Response | None:
    """FORCE_HTTPS: plain HTTP goes to the same path on PUBLIC_URL (which is https); permanent, and 308 keeps a
    form's method and body."""
    if request.is_secure:
        return None
    query = request.query_string.decode("latin-1")
    target = urls.public_base() + request.path + (f"?{query}" if query else "")
    return redirect(target, code=301 if request.method in ("GET", "HEAD") else 308)


def limit_routes(app: Flask) -> None:
    """Apply ROUTE_LIMITS and BLUEPRINT_LIMITS; call once every blueprint is registered."""
    app.config.setdefault("ROUTE_LIMITS", dict(ROUTE_LIMITS))
    for endpoint in ROUTE_LIMITS:
        view = app.view_functions.get(endpoint)
        if view is not None and not getattr(view, "_assistant_limited", False):
            limited = limiter.limit(_LIMIT_LOOKUPS[endpoint])(view)
            limited._assistant_limited = True  # type: ignore[attr-defined]
            app.view_functions[endpoint] = limited
    for name, limit in BLUEPRINT_LIMITS.items():
        blueprint = app.blueprints.get(name)
        if blueprint is not None:
            limiter.limit(limit)(blueprint)


def _route_limit(endpoint: str) -> str:
    """The limit in force for one endpoint: the app's ROUTE_LIMITS setting, else the default above."""
    return current_app.config.get("ROUTE_LIMITS", {}).get(endpoint, ROUTE_LIMITS[endpoint])


# One lookup per endpoint, made once: the limiter is shared by every app in the process and must see the same
# callable each time, or it would count every registration separately.
_LIMIT_LOOKUPS = {endpoint: partial(_route_limit, endpoint) for endpoint in ROUTE_LIMITS}


def _retry_after_only_when_meant(response: Response) -> Response:
    """Flask-Limiter puts Retry-After on every response it counts (the seconds left in its window), and raises a
    503's to that. Keep it where it means something: a 429 (the limiter's own) and a 503 (storage: a few seconds)."""
    if response.status_code == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    elif response.status_code != 429:
        response.headers.pop("Retry-After", None)
    return response


def _no_store(response: Response) -> Response:
    """Answers, results and shared summaries must not stay in browser or proxy caches (shared phones)."""
    if request.endpoint != "static" and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


# --- keeping bearer keys out of logs ------------------------------------------------------------------------------

# Conversation ids and share tokens are secrets.token_urlsafe(32): 43 characters of [A-Za-z0-9_-].
_BEARER = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """Replace anything shaped like a conversation id or share token."""
    return _BEARER.sub(REDACTED, text)


def _redact_value(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactTokens(logging.Filter):
    """A logging filter for request logs (werkzeug's, gunicorn's access log): ids and tokens become [redacted]."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, dict):
            record.args = {k: _redact_value(v) for k, v in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_redact_value(v) for v in record.args)
        return True


REDACT_FILTER = RedactTokens()
