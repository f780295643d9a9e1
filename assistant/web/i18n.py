"""Languages for people: Flask-Babel for the pages' own words (gettext catalogs in assistant/locales/), the flow's
translation files (translations.py) for its content. Ids, values and results never depend on the language.

Choosing: the `lang` cookie set by the switch on every page, else the browser's Accept-Language; English when
nothing matches. The JSON API answers in the language a request asks for (the cookie or Accept-Language), else in
the conversation's own, and says which in Content-Language.
"""
from __future__ import annotations

from typing import Iterable
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, g, redirect, request, url_for
from babel import Locale, UnknownLocaleError, localedata
from flask_babel import Babel

COOKIE = "lang"
QUESTION_PAGES = ("/chat", "/checkin")  # the chat's and the check-in's question pages
COOKIE_DAYS = 365

babel = Babel()
bp = Blueprint("language", __name__)


def supported() -> tuple[str, ...]:
    return current_app.extensions["engines"].languages.supported


def asked() -> str | None:
    """The language this request asks for: `?lang=` (a link to read a page in another language), the switch's
    cookie, else the best match of Accept-Language."""
    for chosen in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if chosen in supported():
            return chosen
    return best_of(request.accept_languages, supported())


def best_of(accepted: Iterable[tuple[str, float]], languages: tuple[str, ...]) -> str | None:
    """The first language the browser accepts, by its order of preference, that we have: a regional tag matches its
    language (es-MX: es). Werkzeug's best_match would prefer an exact match further down (es-MX, en;q=0.5: en)."""
    for tag, quality in accepted:
        tag = tag.lower().replace("_", "-")
        for candidate in (tag, tag.split("-")[0]):
            if quality > 0 and candidate in languages:
                return candidate
    return None


def page_language() -> str:
    return asked() or "en"


def babel_locale() -> str:
    """The locale Babel formats dates, numbers and lists in: the page's language, English for one Babel does not
    know (a language whose flow content exists before its locale data)."""
    language = page_language()
    return language if localedata.exists(language) else "en"


def answered_in(language: str) -> None:
    """The language of this response's words (its Content-Language)."""
    g.content_language = language


def _content_language(response: Response) -> Response:
    if request.blueprint in ("api", "share_api", "fhir_definitions") and response.mimetype.endswith("json"):
        response.headers["Content-Language"] = g.get("content_language") or page_language()
    elif response.mimetype == "text/html":
        response.headers.setdefault("Content-Language", page_language())
    return response


def name_of(language: str) -> str:
    """A language named in itself (the `name` of its translation files), for the switch."""
    return current_app.extensions["engines"].languages.names.get(language, language)


def named_here(language: str) -> str:
    """A language named in the page's language (Babel's CLDR names: "Spanish", "inglés"), for sentences such as
    "answered in Spanish"; its own name when Babel has no name for it."""
    try:
        return Locale.parse(language).get_display_name(babel_locale()) or name_of(language)
    except (ValueError, UnknownLocaleError):
        return name_of(language)


def switch() -> list[dict[str, str]]:
    """The other languages, each a link that keeps the reader on this page."""
    here = request.full_path.rstrip("?") if request.endpoint else "/"
    return [{"code": code, "name": name_of(code), "href": url_for("language.choose", code=code, next=here)}
            for code in supported() if code != page_language()]


def _local(target: str | None) -> str:
    """Only a path on this site (never another host), and one that can stand in a Location header (no control
    characters such as a line break), is a place to go back to."""
    if not target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") \
        else "/"


@bp.get("/language/<code>")
def choose(code: str):
    """The switch on every page: remember the choice in a cookie and go back to the page."""
    back = _local(request.args.get("next"))
    if urlsplit(back).path in QUESTION_PAGES and "#" not in back:
        back += "#ask"  # back at the question, as after an answer, not at the top of the earlier answers
    response = redirect(back, code=303)
    if code in supported():
        response.set_cookie(COOKIE, code, max_age=COOKIE_DAYS * 24 * 3600, path="/", samesite="Lax", httponly=True,
                            secure=not (current_app.debug or current_app.testing
                                        or current_app.config.get("DEVELOPMENT")))
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "locales")
    babel.init_app(app, locale_selector=babel_locale)
    app.after_request(_content_language)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(language_switch=switch, language_name=name_of, language_named_here=named_here,
                                 page_language=page_language)
