"""Languages for people: Flask-Babel for the pages' own words (gettext catalogs in assistant/locales/), the flow's
translation files (translations.py) for its content. Ids, values and results never depend on the language.

Choosing: the `lang` cookie set by the switch on every page, else the browser's Accept-Language; English when
nothing matches. The JSON API answers in the language a request asks for (the cookie or Accept-Language), else in
the conversation's own, and says which in Content-Language.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from flask_babel import Babel

COOKIE = "lang"
COOKIE_DAYS = 365
NAMES = {"en": "English", "es": "Español"}  # each language named in itself, for the switch

babel = Babel()


def supported() -> tuple[str, ...]:
    return current_app.extensions["engines"].languages.supported


def asked() -> str | None:
    """The language this request asks for: the switch's cookie, else the best match of Accept-Language."""
    cookie = request.cookies.get(COOKIE)
    if cookie in supported():
        return cookie
    if request.headers.get("Accept-Language"):
        return request.accept_languages.best_match(supported())
    return None


def page_language() -> str:
    return asked() or "en"


def answered_in(language: str) -> None:
    """The language of this response's words (its Content-Language)."""
    g.content_language = language


def _content_language(response: Response) -> Response:
    if request.blueprint in ("api", "share_api") and response.mimetype.endswith("json"):
        response.headers["Content-Language"] = g.get("content_language") or page_language()
    elif response.mimetype == "text/html":
        response.headers.setdefault("Content-Language", page_language())
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "locales")
    babel.init_app(app, locale_selector=page_language)
    app.after_request(_content_language)
