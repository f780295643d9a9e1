"""The phone chat: server-rendered pages that work without JavaScript (form POST -> redirect -> next question).

The conversation id lives in an HttpOnly cookie named `conversation`, so a person can close the tab and carry on later
on the same device. Every change goes through conversations.Service; static/chat.js enhances the same pages into a
chat that talks to the JSON API.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from babel.lists import format_list
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from assistant.content import regions
from assistant.store import db, retention
from assistant.web import i18n, security
from assistant.engine.conversations import Service
from assistant.web.errors import ApiError, Conflict, Invalid, NotFound
from assistant.content.flows import EXCLUSIVE_VALUE, as_values
from assistant.engine.machine import STOPS

bp = Blueprint("chat", __name__)

COOKIE = "conversation"
DEFAULT_FLOW = "muscle-pain"
BODY_MAP_QUESTIONS = frozenset({"pain_locations"})

# Body map regions: (answer value, view, row in the 10-row figure grid, short visible label).
BODY_MAP = (
    ("jaw", "front", 1, _l("Jaw")), ("neck", "front", 2, _l("Neck")), ("shoulders", "front", 3, _l("Shoulders")),
    ("chest_wall", "front", 4, _l("Chest")), ("upper_arms", "front", 5, _l("Upper arms")),
    ("hands_wrists", "front", 6, _l("Hands")), ("hips", "front", 7, _l("Hips")), ("thighs", "front", 8, _l("Thighs")),
    ("feet_ankles", "front", 10, _l("Feet")),
    ("upper_back", "back", 4, _l("Upper back")), ("lower_back", "back", 6, _l("Lower back")),
    ("calves", "back", 9, _l("Calves")),
)

# Messages shown after a redirect: the query string carries only a key, never text.
NOTICES = {
    "empty": _l("Please choose at least one answer, or “None of these”."),
    "none_mixed": _l("“None of these” can’t be combined with other answers. We kept your other choices — "
                     "tap Done again, or untick them."),
    "invalid": _l("That answer didn’t fit this question, so nothing changed. Please choose again."),
    "moved": _l("That question had already been answered, so here is where you are now. Nothing was lost."),
    "expired": _l("This page was open for a long time, so for your safety please try that again. "
                  "Your earlier answers are safe."),
    "cleared": _l("We took away %(answers)s, so it is not chosen now. Please choose again."),
}
LANDING_NOTICES = {
    "deleted": _l("Your answers were deleted from this service."),
    "gone": _l("We couldn’t find your earlier answers — they may have been deleted (we keep them for a limited "
               "time). You can start again."),
}


def service() -> Service:
    return Service(db.session(), current_app.extensions["engines"], region=region(),
                   language=i18n.page_language())


def flow_id() -> str:
    return current_app.config.get("CHAT_FLOW", DEFAULT_FLOW)


# --- the cookie ----------------------------------------------------------------------------------------------------

def keep_days() -> int:
    """How long a conversation is kept after its last change (RETENTION_DAYS, 30 by default): the cookie lasts as long."""
    return retention.retention_days(current_app)


def remember(response: Response, conversation_id: str) -> Response:
    response.set_cookie(COOKIE, conversation_id, max_age=keep_days() * 24 * 3600, path="/", httponly=True,
                        samesite="Lax", secure=not security.is_development(current_app))
    return response


def forget(response: Response) -> Response:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax",
                           secure=not security.is_development(current_app))
    return response


def current() -> dict[str, Any] | None:
    """The conversation this device holds, or None (no cookie, or it no longer exists)."""
    conversation_id = request.cookies.get(COOKIE, "")
    if not conversation_id or len(conversation_id) > 100:
        return None
    try:
        return service().get(conversation_id)
    except NotFound:
        return None


def go(endpoint: str, at_question: bool = True, **params: Any) -> Response:
    """A 303 to a page. The question page opens at the question (#ask), not at the top of the earlier answers;
    without the anchor where the question takes the focus instead (browsers skip autofocus on a page opened at an
    anchor), which brings it into view as well."""
    query = urlencode([(k, v) for k, vs in params.items() if vs for v in (vs if isinstance(vs, list) else [vs])])
    anchor = "#ask" if endpoint == "chat.conversation" and at_question else ""
    return redirect(url_for(endpoint) + (f"?{query}" if query else "") + anchor, code=303)


def lost() -> Response:
    return forget(go("chat.landing", notice="gone"))


# --- presenting a conversation ---------------------------------------------------------------------------------------

def history(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    """The answered questions, in flow order, with their labels (for the chat bubbles and the edit buttons)."""
    flow = service().texts(engine_of(conversation), conversation.get("language") or i18n.page_language())
    turns = []
    for question_id, value in conversation["answers"].items():
        question = flow.question(question_id)
        values = [value] if isinstance(value, str) else value
        turns.append({"id": question_id, "text": question.text,
                      "answer": ", ".join(question.label(v) for v in values)})
    return turns


def engine_of(conversation: dict[str, Any]):
    return current_app.extensions["engines"].get(conversation["flow"]["id"], conversation["flow"]["version"])


def stopping_values(conversation: dict[str, Any]) -> set[str]:
    """Values of the question on screen that end the check at once (an emergency, not an adult)."""
    question, engine = conversation["question"], engine_of(conversation)
    answers = {q: as_values(v) for q, v in conversation["answers"].items()}
    return {o["value"] for o in question["options"]
            if engine.next_state(question["id"], {**answers, question["id"]: (o["value"],)}) in STOPS}


def suggested_values(conversation: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The earlier answer to show as chosen, and the labels of what was left out: an answer that ended the check
    is never chosen again for the person (after "I chose that answer by mistake" it must not come back ticked)."""
    question = conversation["question"]
    suggested = question.get("suggested")
    values = [] if suggested is None else [suggested] if isinstance(suggested, str) else list(suggested)
    stopping = stopping_values(conversation) if values else set()
    return ([v for v in values if v not in stopping],
            [o["label"] for o in question["options"] if o["value"] in stopping and o["value"] in values])


def picked_values(question: dict[str, Any], picked: list[str]) -> list[str]:
    """What to show as chosen, in the order of the options."""
    return [o["value"] for o in question["options"] if o["value"] in picked]


def grouped(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Options under their headings, in order (one group without a name where the flow gives none);
    "None of these" is left out: it sits beside Done, where it can be reached without scrolling."""
    groups: list[dict[str, Any]] = []
    for option in options:
        if option["value"] == EXCLUSIVE_VALUE:
            continue
        name = option.get("group", "")
        if not groups or groups[-1]["name"] != name:
            groups.append({"name": name, "options": []})
        groups[-1]["options"].append(option)
    return groups


def body_map(question: dict[str, Any], picked: list[str]) -> dict[str, Any]:
    labels = {o["value"]: o["label"] for o in question["options"]}
    regions = [{"value": v, "view": view, "row": row, "short": str(short), "label": labels[v], "pressed": v in picked}
               for v, view, row, short in BODY_MAP if v in labels]
    mapped = {r["value"] for r in regions}
    extra = [{"value": v, "label": labels[v], "pressed": v in picked} for v in labels if v not in mapped]
    front, back = [r for r in regions if r["view"] == "front"], [r for r in regions if r["view"] == "back"]
    return {"front": front, "back": back, "extra": extra,
            "picked": [r["label"] for r in front + back + extra if r["pressed"]],
            "values": [r["value"] for r in front + back + extra if r["pressed"]]}


def blank_map(conversation: dict[str, Any]) -> dict[str, Any] | None:
    """The body map with nothing picked, for the chat script to use when the map question comes up."""
    flow = service().texts(engine_of(conversation), conversation.get("language") or i18n.page_language())
    for question in flow.questions:
        if question.id in BODY_MAP_QUESTIONS:
            return body_map({"options": [{"value": o.value, "label": o.label} for o in question.options]}, [])
    return None


def region() -> str:
    return regions.region_of(request.accept_languages)


def same_day_action() -> dict[str, str]:
    """The first thing to do when a doctor is needed today (the region's), in the page's language."""
    action = regions.same_day_action(region())
    languages = current_app.extensions["engines"].languages
    label = languages.phrase(flow_id(), i18n.page_language())(action["label"]) if languages else action["label"]
    return {**action, "label": label}


def emergency_number() -> str:
    """The number for the big call button, from the browser's language region; 112 works on most mobiles."""
    return regions.emergency_number(region())


def render_chat(conversation: dict[str, Any], picked: list[str] | None = None, notice: str | None = None,
                urgent_new: bool = False):
    question = conversation["question"]
    said = NOTICES.get(notice or "")
    if picked is None:
        picked, cleared = suggested_values(conversation)
        if cleared and not said:
            quoted = [_("“%(label)s”", label=label) for label in cleared]
            said = _("We took away %(answers)s, so it is not chosen now. Please choose again.",
                     answers=format_list(quoted, locale=get_locale()))
    chosen = picked_values(question, picked)
    is_map = question["id"] in BODY_MAP_QUESTIONS
    progress = conversation["progress"]
    options = {o["value"] for o in question["options"]}
    return render_template(
        "chat.html", conversation=conversation, question=question, turns=history(conversation), chosen=chosen,
        map=body_map(question, chosen) if is_map else None, notice=said,
        groups=grouped(question["options"]), has_none=EXCLUSIVE_VALUE in options,
        progress=progress_of(progress),
        exclusive=EXCLUSIVE_VALUE, map_questions=sorted(BODY_MAP_QUESTIONS),
        order=[q.id for q in engine_of(conversation).flow.questions],
        blank_map=None if is_map else blank_map(conversation),
        urgent=conversation.get("urgent_advice"), urgent_new=urgent_new, number=emergency_number(),
        today=same_day_action())


def progress_of(progress: dict[str, int]) -> dict[str, int]:
    """"Question N of about T": while an answer is changed with every later one kept, N is never past T."""
    total = max(progress["estimated_total"], 1)
    return {"number": min(progress["answered"] + 1, total), "total": total}


def questions_at_start() -> int:
    """How many questions the chat says at its first question ("of about N"): the landing says the same."""
    engine = current_app.extensions["engines"].get(flow_id())
    return engine.remaining(engine.flow.start, {}) if engine else 0


STOP_PAGES = {"stopped_emergency": "emergency.html", "stopped_not_adult": "not_adult.html"}


def render_stop(conversation: dict[str, Any]):
    """A conversation that stopped early: only what to do now, and a way back if the last answer was a mistake."""
    result = service().result(conversation["id"])
    turns = history(conversation)
    return render_template(STOP_PAGES[conversation["status"]], conversation=conversation, result=result,
                           number=emergency_number(), last=turns[-1] if turns else None)


# --- pages ---------------------------------------------------------------------------------------------------------

@bp.get("/")
def landing():
    conversation = current()
    response = current_app.make_response(render_template(
        "landing.html", conversation=conversation, notice=LANDING_NOTICES.get(request.args.get("notice", "")),
        days=keep_days(), questions=questions_at_start()))
    if conversation is None and request.cookies.get(COOKIE):
        forget(response)
    return response


@bp.post("/start")
def start():
    """Start a new conversation. One this device holds is deleted only from the step that asks first (`confirmed`):
    the plain Start of a page opened before it existed (another tab, an old landing page) leads to it instead."""
    old = current()
    if old is not None and request.form.get("confirmed") != "1":
        return go("chat.conversation")
    if old is not None:
        service().delete(old["id"])
    conversation = service().create(flow_id())
    return remember(go("chat.conversation"), conversation["id"])


@bp.get("/chat")
def conversation():
    conversation = current()
    if conversation is None:
        return lost() if request.cookies.get(COOKIE) else go("chat.landing")
    if conversation["status"] == "finished":
        return go("chat.result")
    if conversation["status"] in STOP_PAGES:
        return render_stop(conversation)
    picked = request.args.getlist("pick") if "pick" in request.args or "picked" in request.args else None
    return render_chat(conversation, picked=picked, notice=request.args.get("notice"),
                       urgent_new=request.args.get("urgent") == "1")


def _step(raw: str | None) -> int | None:
    try:
        return int(raw) if raw is not None and len(raw) < 10 else None
    except ValueError:
        return None


def form_answer(question: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """What a form post answers to `question` (the chat's and the check-in's): (value, {}) to send on, or (None,
    the query of the page to come back to, with its notice and the choices kept). Only the question's own options
    are kept and sent back in the address; anything else in the form is dropped."""
    offered = {option["value"] for option in question["options"]}
    values = list(dict.fromkeys(request.form.getlist("value")))
    kept = [v for v in values if v in offered]
    toggle = request.form.get("toggle")
    if toggle is not None:  # body map without JavaScript: a region button toggles, the page comes back
        if toggle in offered:
            kept = [v for v in kept if v != toggle] if toggle in kept else kept + [toggle]
        if toggle in kept:  # "None of these" stands alone
            kept = [toggle] if toggle == EXCLUSIVE_VALUE else [v for v in kept if v != EXCLUSIVE_VALUE]
        return None, {"pick": kept, "picked": "1"}
    if question["type"] == "multi":
        if not values:
            return None, {"notice": "empty", "picked": "1"}
        if EXCLUSIVE_VALUE in values and len(values) > 1:
            return None, {"notice": "none_mixed", "picked": "1", "pick": [v for v in kept if v != EXCLUSIVE_VALUE]}
        return values, {}
    if len(values) != 1:
        return None, {"notice": "invalid"}
    return values[0], {}


@bp.get("/start")
@bp.get("/chat/answer")
@bp.get("/chat/rewind")
@bp.get("/chat/back")
@bp.get("/chat/delete")
def form_address():
    """A form's address opened as a page (a restored tab, a copied address): nothing changes, and the person sees
    their question (or the start) rather than an error."""
    return go("chat.conversation")


@bp.post("/chat/answer")
def answer():
    conversation = current()
    if conversation is None:
        return lost()
    question = conversation["question"]
    if question is None:
        return go("chat.conversation")
    question_id = request.form.get("question_id", "")
    step = _step(request.form.get("step"))
    if question_id != question["id"] or step != conversation["step"]:
        # an old tab or a double tap: do not guess, show where the conversation is now
        return go("chat.conversation", notice="moved")
    value, back = form_answer(question)
    if back:
        return go("chat.conversation", **back)
    urgency_before = conversation.get("urgency")
    try:
        conversation = service().answer(conversation["id"], question_id, value, step)
    except Conflict:
        return go("chat.conversation", notice="moved")
    except Invalid:
        return go("chat.conversation", notice="invalid")
    if conversation["status"] == "finished":
        return remember(go("chat.result"), conversation["id"])
    # a doctor is needed today since this answer: say so at once, at the top of the next question
    urgent_now = conversation.get("urgent_advice") is not None and urgency_before != conversation.get("urgency")
    return remember(go("chat.conversation", urgent="1" if urgent_now else None), conversation["id"])


@bp.post("/chat/rewind")
def rewind():
    conversation = current()
    if conversation is None:
        return lost()
    try:
        service().rewind(conversation["id"], request.form.get("question_id", ""))
    except (Conflict, Invalid):
        return go("chat.conversation", notice="invalid")
    mistake = request.form.get("mistake") == "1"  # from a page where the check stopped: the answer is taken away
    return remember(go("chat.conversation", at_question=not mistake), conversation["id"])


@bp.post("/chat/back")
def back():
    """Back to the question before this one (its answer kept and shown); from the first question, to the start."""
    conversation = current()
    if conversation is None:
        return lost()
    earlier = list(conversation["answers"])
    if conversation["status"] != "active":
        return go("chat.conversation")
    if not earlier:
        return go("chat.landing")
    service().rewind(conversation["id"], earlier[-1])
    return remember(go("chat.conversation"), conversation["id"])


@bp.post("/chat/delete")
def delete():
    conversation = current()
    if conversation is not None:
        service().delete(conversation["id"])
    return forget(go("chat.landing", notice="deleted"))


@bp.get("/chat/result")
def result():
    conversation = current()
    if conversation is None:
        return lost() if request.cookies.get(COOKIE) else go("chat.landing")
    if conversation["status"] != "finished":
        return go("chat.conversation")
    outcome = service().result(conversation["id"])
    shown = outcome.get("shown_by_default") or len(outcome["conditions"])
    return render_template("result.html", conversation=conversation, result=outcome, turns=history(conversation),
                           shown=outcome["conditions"][:shown], more=outcome["conditions"][shown:],
                           number=emergency_number(), today=same_day_action())


@bp.errorhandler(CSRFError)
def csrf_failed(_err: CSRFError):
    """A form without a valid token (an old tab, or a page from elsewhere): nothing changes, say so kindly."""
    return render_template("error.html", status=400, title=_("Please try that again"), message=NOTICES["expired"],
                           back=url_for("chat.conversation") if request.cookies.get(COOKIE) else None), 400


@bp.errorhandler(ApiError)
def service_error(err: ApiError):
    """Anything the service refuses on a page: a friendly page, never a 500; earlier answers are untouched."""
    return render_template("error.html", status=err.status, title=_("Something needs your attention"),
                           message=err.message, back=url_for("chat.conversation")), err.status
