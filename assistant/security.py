"""Web security from kept libraries: CSRF (Flask-WTF), headers and CSP (Flask-Talisman), rate limits (Flask-Limiter)."""
from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

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

csrf = CSRFProtect()
talisman = Talisman()
limiter = Limiter(key_func=get_remote_address, default_limits=["600 per minute"], headers_enabled=True)


class InsecureConfiguration(RuntimeError):
    """Refuse to start in production with development secrets."""


def is_development(app: Flask) -> bool:
    return bool(app.debug or app.testing or app.config.get("DEVELOPMENT"))


def check_secret_key(app: Flask) -> None:
    if not is_development(app) and app.config.get("SECRET_KEY") in (None, "", "dev"):
        raise InsecureConfiguration(
            "SECRET_KEY must be set outside development: export SECRET_KEY to a long random value "
            "(for example: python3 -c 'import secrets; print(secrets.token_hex(32))'), "
            "or set ASSISTANT_DEV=1 for local development.")


def init_app(app: Flask) -> None:
    check_secret_key(app)
    development = is_development(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_ENABLED", not app.testing)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=not development)
    csrf.init_app(app)
    talisman.init_app(
        app,
        force_https=app.config.get("FORCE_HTTPS", False),
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
    limiter.init_app(app)
