"""Share links, QR codes, the clinician handout and FHIR export (HTML side).

- `GET/POST /share`: the person's own page for the conversation in the `conversation` cookie: create a link
  (1-30 days), see it with its QR code, or "Stop sharing" (revokes every link of the conversation).
- `GET /s/<token>`: the read-only summary a doctor opens; `/handout` the one-page print version; `/qr.svg` the QR
  code of the link; `/fhir` the answers as a FHIR R4 QuestionnaireResponse.

Tokens are checked by `sharing.Sharing`; nothing here ever puts the conversation id into a page.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import segno
from flask import (Blueprint, Response, current_app, flash, get_flashed_messages, redirect, render_template,
                   request, request_finished, session, url_for)
from marshmallow import Schema, ValidationError, fields, validate

from . import db, fhir
from .conversations import Service, iso
from .engine import FlowEngine
from .errors import ApiError, Gone, NotFound, error_response, wants_json
from .flows import EXCLUSIVE_VALUE, URGENCY_LEVELS, Answers, Flow
from .models import Conversation, utcnow
from .sharing import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS, Clock, SharedConversation, Sharing

bp = Blueprint("share", __name__)

COOKIE = "conversation"        # set by the chat pages: holds the conversation id
SESSION_KEY = "share_token"    # the last link made on this device, so the page can show it again
SHARE_HEADERS = {
    "Referrer-Policy": "no-referrer",          # the token is in the URL: never send it on
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}
FHIR_JSON = "application/fhir+json"

# The handout, kept to one printed page: at most this many of each list, with "+N more" pointing to the summary.
SUMMARY_SHOWN = 8       # conditions shown before "more" on the summary page (as on the result page)
HANDOUT_CONDITIONS = 5
HANDOUT_REASONS = 2
HANDOUT_TESTS = 6
HANDOUT_LIFESTYLE = 8
HANDOUT_CONDITION_CHARS = 1100  # names, reasons and notes of the listed conditions together
HANDOUT_LIST_CHARS = 360        # each of the two short lists: tests, home measures


# --- headers ---------------------------------------------------------------------------------------------------------

@bp.after_request
def share_headers(response: Response) -> Response:
    response.headers.update(SHARE_HEADERS)
    return response


def _reassert_referrer_policy(sender: Any, response: Response, **extra: Any) -> None:
    """Talisman's app-wide after_request runs after ours and sets its default Referrer-Policy on every response;
    `request_finished` comes after all of them, so the share pages keep `no-referrer`."""
    if request.blueprint == bp.name:
        response.headers["Referrer-Policy"] = SHARE_HEADERS["Referrer-Policy"]


@bp.record_once
def _connect(state: Any) -> None:
    request_finished.connect(_reassert_referrer_policy, state.app)


# --- helpers ---------------------------------------------------------------------------------------------------------

def clock() -> Clock:
    """The time source: app.config["CLOCK"] (tests move it), else the real UTC clock."""
    return current_app.config.get("CLOCK") or utcnow


def sharing() -> Sharing:
    return Sharing(db.session(), now=clock())


def service() -> Service:
    return Service(db.session(), current_app.extensions["engines"])


def link_urls(token: str) -> dict[str, str]:
    return {"url": url_for("share.summary", token=token, _external=True),
            "qr_svg_url": url_for("share.qr", token=token, _external=True),
            "handout_url": url_for("share.handout", token=token, _external=True),
            "fhir_url": url_for("share.fhir_response", token=token, _external=True)}


def qr_svg(url: str, title: str = "QR code of the share link") -> bytes:
    """An SVG QR code (segno, error correction M so a scratched phone screen still scans)."""
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="svg", scale=4, border=4, xmldecl=False,
                                                 title=title, dark="#000", light="#fff")
    return buffer.getvalue()


def questionnaire_url(flow: Flow) -> str:
    return url_for("share_api.questionnaire", flow_id=flow.id, _external=True)


def long_date(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def long_datetime(moment: datetime) -> str:
    return f"{long_date(moment)}, {moment:%H:%M} UTC"


# --- what a shared conversation shows ----------------------------------------------------------------------------------

# The handout's rows: a heading and the questions it gathers, each with an optional prefix when several share a row.
# The order: complaint and timeline first (short answers, two to a line on the handout), then where and what.
ROWS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Main complaint", (("main_complaint", ""),)),
    ("Since", (("duration", ""),)),
    ("Onset", (("onset", ""),)),
    ("Morning stiffness", (("morning_stiffness", ""),)),
    ("Where", (("pain_locations", ""), ("pain_sides", "sides"))),
    ("Weakness", (("weakness_pattern", ""),)),
    ("Feels like", (("pain_character", ""),)),
    ("Pattern", (("time_pattern", "worst"), ("exertion_response", "with activity"))),
    ("Triggers", (("triggers", ""),)),
    ("Associated", (("associated", ""),)),
    ("Exposures, medicines", (("exposures", ""),)),
    ("History", (("history", ""),)),
)
ABOUT = (("age_band", "age"), ("sex", "sex"))
RED_FLAG_QUESTION = "red_flags"
URGENCY_WORDS = {"emergency": "Emergency", "same_day": "Same day", "soon": "Within a few days",
                 "routine": "Routine"}


def answer_text(flow: Flow, question_id: str, values: tuple[str, ...]) -> str:
    question = flow.question(question_id)
    if question.type == "multi" and values == (EXCLUSIVE_VALUE,):
        return "none reported"
    return "; ".join(question.label(v) for v in values)


@dataclass
class Row:
    title: str
    parts: list[tuple[str, str]] = field(default_factory=list)   # (prefix, text)

    @property
    def length(self) -> int:
        return sum(len(prefix) + len(text) + 2 for prefix, text in self.parts)


@dataclass
class Summary:
    """Everything the summary page and the handout show, already in words."""
    flow: Flow
    status: str
    updated: datetime
    about: str
    rows: list[Row]
    red_flags_reported: str | None
    urgency: str | None
    advice: dict[str, str] | None
    flags: list[dict[str, Any]]
    flagged_from_answers: list[str]
    conditions: list[dict[str, Any]]
    tests: list[str]
    lifestyle: list[dict[str, Any]]
    disclaimer: str
    answered: int

    @property
    def finished(self) -> bool:
        return self.status != "active"

    @property
    def urgency_words(self) -> str:
        return URGENCY_WORDS.get(self.urgency or "", "")


def summarise(engine: FlowEngine, conversation: Conversation, answers: Answers,
              result: dict[str, Any] | None) -> Summary:
    flow = engine.flow
    rows, shown = [], {RED_FLAG_QUESTION} | {q for q, _ in ABOUT}
    for title, questions in ROWS:
        row = Row(title)
        for question_id, prefix in questions:
            shown.add(question_id)
            if question_id in answers and flow.has_question(question_id):
                row.parts.append((prefix, answer_text(flow, question_id, answers[question_id])))
        if row.parts:
            rows.append(row)
    for question in flow.questions:  # a question added to the flow later is never left out
        if question.id in answers and question.id not in shown:
            rows.append(Row(question.text, [("", answer_text(flow, question.id, answers[question.id]))]))
    about = ", ".join(f"{word} {answer_text(flow, q, answers[q]).lower()}" for q, word in ABOUT
                      if q in answers and flow.has_question(q))

    result = result or {}
    flags = result.get("red_flags", [])
    by_id = {f.id: f for f in flow.red_flags}
    conditions = {c.id: c.name for c in flow.conditions}
    flagged: dict[str, str] = {}  # what the flag points to -> its highest urgency
    for flag in flags:  # flags raised by other answers than the red-flag question: say which condition they point to
        rule = by_id.get(flag["id"])
        if rule is None or all(c.question == RED_FLAG_QUESTION for c in rule.when):
            continue
        text = conditions.get(flag.get("condition") or "", "") or flag["text"].split(". ")[0]
        if text not in flagged or URGENCY_LEVELS.index(flag["urgency"]) > URGENCY_LEVELS.index(flagged[text]):
            flagged[text] = flag["urgency"]
    ranked = result.get("conditions", [])
    tests: list[str] = []
    for condition in ranked[:HANDOUT_CONDITIONS]:
        for test in condition["tests_to_discuss"]:
            if test not in tests:
                tests.append(test)
    return Summary(
        flow=flow, status=conversation.status, updated=conversation.updated_at, about=about, rows=rows,
        red_flags_reported=answer_text(flow, RED_FLAG_QUESTION, answers[RED_FLAG_QUESTION])
        if RED_FLAG_QUESTION in answers and flow.has_question(RED_FLAG_QUESTION) else None,
        urgency=result.get("urgency"), advice=result.get("advice"), flags=flags, flagged_from_answers=[f"{text} ({URGENCY_WORDS.get(u, u).lower()})" for text, u in flagged.items()],
        conditions=ranked, tests=tests, lifestyle=result.get("lifestyle", []),
        disclaimer=result.get("disclaimer") or flow.disclaimer, answered=len(answers))


HANDOUT_SHORT_ROW = 38  # characters: two neighbouring rows this short share a line on the handout


def handout_rows(summary: Summary) -> list[dict[str, Any]]:
    """The rows in order; two short neighbours share a line, any other row spans the page (keeps it to one page)."""
    rows = [{"title": r.title, "parts": r.parts, "wide": r.length > HANDOUT_SHORT_ROW} for r in summary.rows]
    i = 0
    while i < len(rows):
        if not rows[i]["wide"]:
            if i + 1 < len(rows) and not rows[i + 1]["wide"]:
                i += 2
                continue
            rows[i]["wide"] = True
        i += 1
    return rows


def _sentence(text: str) -> str:
    return text.strip().rstrip(".")


def _condition_chars(c: dict[str, Any]) -> int:
    return len(c["name"]) + sum(len(r) + 2 for r in c["reasons"]) + len(c["against"] or "")


def handout_conditions(summary: Summary) -> list[dict[str, Any]]:
    """The top conditions with their reasons, trimmed to a text budget so the page never spills: first the
    "against" notes go (lowest-ranked first), then the second reasons. What is left out is counted ("+N")."""
    picked = []
    for c in summary.conditions[:HANDOUT_CONDITIONS]:
        because, against = c.get("because", []), c.get("doesnt_fit", [])
        picked.append({"name": c["name"], "fit": c["fit"],
                       "reasons": [_sentence(b) for b in because[:HANDOUT_REASONS]],
                       "more_reasons": max(0, len(because) - HANDOUT_REASONS),
                       "against": _sentence(against[0]) if against else None,
                       "more_against": max(0, len(against) - 1)})

    def over() -> bool:
        return sum(_condition_chars(c) for c in picked) > HANDOUT_CONDITION_CHARS

    for c in reversed(picked):
        if not over():
            break
        if c["against"]:
            c["against"], c["more_against"] = None, 0
    for c in reversed(picked):
        if not over():
            break
        while len(c["reasons"]) > 1 and over():
            c["reasons"].pop()
            c["more_reasons"] += 1
    return picked


def within(items: list[str], budget: int) -> list[str]:
    """As many items as fit in `budget` characters (always at least one)."""
    kept, used = [], 0
    for item in items:
        used += len(item) + 2
        if kept and used > budget:
            break
        kept.append(item)
    return kept


def open_shared(token: str) -> tuple[SharedConversation, FlowEngine, Answers]:
    shared = sharing().resolve(token)
    conversation, answers = service().answers_of(shared.conversation.id)
    return shared, service().engine_for(conversation), answers


def shared_summary(token: str) -> tuple[SharedConversation, Summary]:
    shared, engine, answers = open_shared(token)
    result = json.loads(shared.conversation.result_json) if shared.conversation.result_json else None
    return shared, summarise(engine, shared.conversation, answers, result)


# --- the shared pages (read-only) -----------------------------------------------------------------------------------

@bp.errorhandler(ApiError)
def unavailable(err: ApiError):
    """Expired, revoked or unknown links: a friendly page (JSON for the FHIR export, or for a client asking JSON)."""
    if request.endpoint == "share.fhir_response" or wants_json():
        return error_response(err.status, err.code, err.message, err.fields, **err.extra)
    if request.endpoint == "share.qr":
        return Response(err.message, status=err.status, mimetype="text/plain")
    if request.endpoint in ("share.manage", "share.change"):
        return render_template("share/manage.html", problem=err.message, state="missing"), err.status
    return render_template("share/unavailable.html", status=err.status, gone=isinstance(err, Gone),
                           message=err.message), err.status


@bp.get("/s/<token>")
def summary(token: str):
    shared, summary_ = shared_summary(token)
    return render_template("share/summary.html", s=summary_, expires=long_datetime(shared.expires_at),
                           links={"handout": url_for("share.handout", token=token),
                                  "fhir": url_for("share.fhir_response", token=token),
                                  "qr": url_for("share.qr", token=token)},
                           shown=SUMMARY_SHOWN, long_date=long_date)


@bp.get("/s/<token>/handout")
def handout(token: str):
    shared, summary_ = shared_summary(token)
    conditions = handout_conditions(summary_)
    tests = within(summary_.tests[:HANDOUT_TESTS], HANDOUT_LIST_CHARS)
    lifestyle = within([card["title"] for card in summary_.lifestyle[:HANDOUT_LIFESTYLE]], HANDOUT_LIST_CHARS)
    return render_template("share/handout.html", s=summary_, long_date=long_date, rows=handout_rows(summary_),
                           conditions=conditions, more_conditions=len(summary_.conditions) - len(conditions),
                           tests=tests, more_tests=len(summary_.tests) - len(tests),
                           lifestyle=lifestyle, more_lifestyle=len(summary_.lifestyle) - len(lifestyle),
                           summary_path=url_for("share.summary", token=token),
                           qr_path=url_for("share.qr", token=token),
                           expires=long_datetime(shared.expires_at))


@bp.get("/s/<token>/qr.svg")
def qr(token: str):
    sharing().resolve(token)
    return Response(qr_svg(url_for("share.summary", token=token, _external=True)), mimetype="image/svg+xml")


@bp.get("/s/<token>/fhir")
def fhir_response(token: str):
    shared, engine, answers = open_shared(token)
    conversation = shared.conversation
    resource = fhir.questionnaire_response(engine.flow, answers, questionnaire_url(engine.flow),
                                           conversation.status, iso(conversation.updated_at))
    return Response(json.dumps(resource, ensure_ascii=False), mimetype=FHIR_JSON)


# --- the person's own page: make a link, show it, stop sharing -------------------------------------------------------

class ShareForm(Schema):
    action = fields.String(required=True, validate=validate.OneOf(("create", "stop")))
    expires_in_days = fields.Integer(load_default=DEFAULT_DAYS, validate=validate.Range(min=MIN_DAYS, max=MAX_DAYS))
    csrf_token = fields.String(load_only=True)


def own_conversation() -> Conversation:
    conversation_id = request.cookies.get(COOKIE, "")
    conversation = db.session().get(Conversation, conversation_id) if 0 < len(conversation_id) <= 100 else None
    if conversation is None:
        raise NotFound("We could not find your answers on this device. They may have been deleted, or you "
                       "answered on another phone or browser.")
    return conversation


def current_link(conversation: Conversation) -> dict[str, Any] | None:
    """The link made on this device for this conversation, while it still works."""
    token = session.get(SESSION_KEY)
    if not token:
        return None
    try:
        shared = sharing().resolve(token)
    except ApiError:
        session.pop(SESSION_KEY, None)
        return None
    if shared.conversation.id != conversation.id:
        return None
    return {**link_urls(token), "summary_path": url_for("share.summary", token=token),
            "handout_path": url_for("share.handout", token=token), "qr_path": url_for("share.qr", token=token),
            "expires": long_datetime(shared.expires_at)}


@bp.get("/share")
def manage():
    conversation = own_conversation()
    if conversation.result_json is None:
        return render_template("share/manage.html", state="unfinished")
    return render_template("share/manage.html", state="ready", link=current_link(conversation),
                           active=sharing().active_links(conversation.id), days=(MIN_DAYS, DEFAULT_DAYS, MAX_DAYS),
                           notices=get_flashed_messages())


@bp.post("/share")
def change():
    conversation = own_conversation()
    try:
        form = ShareForm().load(request.form.to_dict())
    except ValidationError as err:
        problem = "; ".join(f"{k}: {' '.join(v) if isinstance(v, list) else v}"
                            for k, v in err.messages_dict.items())
        return render_template("share/manage.html", state="ready", link=current_link(conversation),
                               active=sharing().active_links(conversation.id),
                               days=(MIN_DAYS, DEFAULT_DAYS, MAX_DAYS), problem=problem), 422
    if form["action"] == "stop":
        stopped = sharing().revoke_all(conversation.id)
        session.pop(SESSION_KEY, None)
        flash("Sharing stopped: every link you made now shows “no longer available”." if stopped
              else "There were no working links to stop.")
    else:
        if conversation.result_json is None:
            return redirect(url_for("share.manage"), code=303)
        link = sharing().create(conversation.id, form["expires_in_days"])
        session[SESSION_KEY] = link.token
        flash("Your link is ready.")
    return redirect(url_for("share.manage"), code=303)
