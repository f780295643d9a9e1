"""The daily check-in pages: the chat's own pages and script, pointed at today's check-in.

The intake is the conversation this device holds (the chat's cookie); today's check-in is kept in a second HttpOnly
cookie, `checkin`, and is only ever shown for the intake it belongs to. Every page works without JavaScript (form
POST -> redirect -> next question); chat.js enhances it as it does the chat, through the JSON API with the check-in's
own id. The chat's templates are reused as they are: while a check-in page is drawn, their links to the chat's
answer, back, rewind and result routes lead to the check-in's.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import format_date, get_locale, gettext
from werkzeug.wrappers import Response

from assistant.content import regions
from assistant.engine.checkins import Checkins, day_of, today
from assistant.web import chat, i18n, security, trend
from assistant.web.errors import Conflict, Invalid, NotFound

bp = Blueprint("checkin", __name__)

COOKIE = "checkin"
CHAT_TO_CHECKIN = {"chat.answer": "checkin.answer", "chat.rewind": "checkin.rewind", "chat.back": "checkin.back",
                   "chat.result": "checkin.done", "chat.conversation": "checkin.page"}


@bp.app_context_processor
def checkin_links() -> dict[str, Any]:
    """On check-in pages the chat's templates link to the check-in's routes."""
    if request.blueprint != "checkin":
        return {}
    return {"url_for": lambda endpoint, **values: url_for(CHAT_TO_CHECKIN.get(endpoint, endpoint), **values)}


@bp.app_template_global()
def long_day(day: date) -> str:
    """4 March 2026 in English (as the NHS writes dates), Babel's long date in other languages."""
    return format_date(day, "d MMMM y" if get_locale().language == "en" else "long")


@bp.app_template_global()
def short_day(day: date) -> str:
    return format_date(day, "d MMM")


@bp.app_template_global()
def diary_trend(intake_id: str, clinical: bool = False) -> trend.Trend | None:
    """The trend of an intake's check-ins for a page, or None when its flow has no daily check-in."""
    service = chat.service()
    try:
        entries = Checkins(service).entries(intake_id, days=trend.LONG)
    except NotFound:
        return None
    follower = current_app.extensions["engines"].follower(service._load(intake_id).flow_id)
    flow = service.texts(follower, i18n.page_language())
    tried = next(q for q in flow.questions if q.personal)
    if clinical:  # the handout: the clinician's words, a compact chart
        label = name = lambda area: flow.clinical.term(tried, area)
    else:
        label = tried.label
        name = lambda area: lowercase_first(tried.label(area).split(" (")[0])  # noqa: E731 (short names mid-sentence)
    # A phone ahead of UTC dates its check-in a day after the server's date: the chart ends on whichever is later.
    end = max([today(), *(entry.day for entry in entries)])
    return trend.build(entries, label, end, summary_name=name, compact=clinical, say=gettext)


def lowercase_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


# --- the check-in this device holds ---------------------------------------------------------------------------------

def remember(response: Response, checkin_id: str) -> Response:
    response.set_cookie(COOKIE, checkin_id, max_age=chat.keep_days() * 24 * 3600, path="/", httponly=True,
                        samesite="Lax", secure=not security.is_development(current_app))
    return response


go = chat.go  # a 303 to a page, its query built the same way


def held() -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(intake, today's check-in) as this device holds them; the check-in only when it belongs to that intake."""
    intake = chat.current()
    checkin_id = request.cookies.get(COOKIE, "")
    if intake is None or not checkin_id or len(checkin_id) > 100:
        return intake, None
    service = chat.service()
    return intake, service.get(checkin_id) if Checkins(service).belongs(checkin_id, intake["id"]) else None


def phone_day() -> date | None:
    """The date on the person's phone, which chat.js puts in the start form: a check-in is for their day, not for
    the server's (UTC). None without it (no JavaScript), or for a date that is not today anywhere: then UTC's."""
    try:
        return day_of(date.fromisoformat(request.form.get("date", "")))
    except (ValueError, Invalid):
        return None


def elsewhere(intake: dict[str, Any] | None) -> Response:
    """No check-in to show: back to the result, or to the start."""
    return chat.go("chat.result") if intake is not None else chat.go("chat.landing")


# --- pages ------------------------------------------------------------------------------------------------------------

@bp.post("/checkin/start")
def start():
    intake = chat.current()
    if intake is None or intake["status"] != "finished":
        return elsewhere(intake)
    checkin, _ = Checkins(chat.service()).start(intake["id"], phone_day())
    return remember(go("checkin.page"), checkin["id"])


@bp.get("/checkin")
def page():
    intake, checkin = held()
    if checkin is None:
        return elsewhere(intake)
    if checkin["status"] == "finished":
        return go("checkin.done")
    if checkin["status"] in chat.STOP_PAGES:
        return chat.render_stop(checkin)
    picked = request.args.getlist("pick") if "picked" in request.args else None
    return chat.render_chat(checkin, picked=picked, notice=request.args.get("notice"),
                            urgent_new=request.args.get("urgent") == "1")


@bp.get("/checkin/start")
@bp.get("/checkin/answer")
@bp.get("/checkin/rewind")
@bp.get("/checkin/back")
def form_address():
    """A form's address opened as a page: today's check-in, if there is one (else the result or the start)."""
    return go("checkin.page")


@bp.post("/checkin/answer")
def answer():
    intake, checkin = held()
    if checkin is None or checkin["question"] is None:
        return go("checkin.page") if checkin else elsewhere(intake)
    question = checkin["question"]
    step = chat._step(request.form.get("step"))
    if request.form.get("question_id") != question["id"] or step != checkin["step"]:
        return go("checkin.page", notice="moved")  # an old tab or a double tap: show where it is now
    value, back = chat.form_answer(question)
    if back:
        return go("checkin.page", **back)
    before = checkin.get("urgency")
    try:
        checkin = chat.service().answer(checkin["id"], question["id"], value, step)
    except Conflict:
        return go("checkin.page", notice="moved")
    except Invalid:
        return go("checkin.page", notice="invalid")
    if checkin["status"] == "finished":
        return go("checkin.done")
    urgent_now = checkin.get("urgent_advice") is not None and before != checkin.get("urgency")
    return go("checkin.page", urgent="1" if urgent_now else None)


@bp.post("/checkin/rewind")
def rewind():
    intake, checkin = held()
    if checkin is None:
        return elsewhere(intake)
    try:
        chat.service().rewind(checkin["id"], request.form.get("question_id", ""))
    except (Conflict, Invalid):
        return go("checkin.page", notice="invalid")
    return go("checkin.page")


@bp.post("/checkin/back")
def back():
    intake, checkin = held()
    if checkin is None:
        return elsewhere(intake)
    earlier = list(checkin["answers"])
    if checkin["status"] != "active" or not earlier:
        return go("checkin.done") if checkin["status"] == "finished" else chat.go("chat.result")
    chat.service().rewind(checkin["id"], earlier[-1])
    return go("checkin.page")


@bp.get("/checkin/done")
def done():
    intake, checkin = held()
    if checkin is None:
        return elsewhere(intake)
    if checkin["status"] != "finished":
        return go("checkin.page")
    return render_template("checkin_done.html", intake=intake, checkin=checkin, turns=chat.history(checkin),
                           number=chat.emergency_number(), today=regions.same_day_action(chat.region()),
                           result_url=url_for("chat.result"))
