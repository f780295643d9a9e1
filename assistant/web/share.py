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
from typing import Any, Callable, Sequence

import segno
from flask import (Blueprint, Response, current_app, flash, get_flashed_messages, redirect, render_template,
                   request, request_finished, session, url_for)
from flask_babel import format_date, format_time, get_locale, gettext as _, lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate

from assistant.store import db
from assistant.web import fhir, i18n
from assistant.web.checkin import diary_trend
from assistant.engine.checkins import Checkins
from assistant.engine.conversations import Service, iso
from assistant.engine.machine import FlowEngine
from assistant.web.errors import ApiError, Gone, NotFound, error_answer, error_kind, errors_as
from assistant.content.flows import EXCLUSIVE_VALUE, URGENCY_LEVELS, Answers, Criterion, Flow, Question, all_hold
from assistant.store.models import Conversation, utcnow
from assistant.store.sharing import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS, Clock, SharedConversation, Sharing
from assistant.web.urls import public_base, public_url
from assistant.content.wording import match, short_test_list

bp = Blueprint("share", __name__)

COOKIE = "conversation"        # set by the chat pages: holds the conversation id
SESSION_KEY = "share_token"    # the last link made on this device, so the page can show it again
SHARE_HEADERS = {
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}
# The token is in the URL of every /s/ page: never send it on. The person's own page (/share) has no token in its URL
# and posts its forms to itself: there the browser must send the same-origin Referer that the CSRF check over HTTPS
# requires, and still nothing to other sites (docs/security.md).
REFERRER_POLICY = "no-referrer"
OWN_PAGE_REFERRER_POLICY = "same-origin"
OWN_PAGE = ("share.manage", "share.change")

# The handout, kept to one printed page: at most this many of each list, with "+N more" pointing to the summary.
SUMMARY_SHOWN = 8       # conditions shown before "more" on the summary page (as on the result page)
HANDOUT_CONDITIONS = 5
HANDOUT_REASONS = 3             # key features for a condition (and one against)
HANDOUT_TESTS = 8
HANDOUT_LIFESTYLE = 8
HANDOUT_CONDITION_CHARS = 900   # names and key features of the listed conditions together
HANDOUT_LIST_CHARS = 330        # each of the two short lists: tests, home measures
HANDOUT_DENIED_CHARS = 300      # the pertinent negatives
HANDOUT_FLAGGED_CHARS = 200     # flags raised by other answers than the warning-sign question
# The budgets are English characters; other languages say the same facts in more (Spanish about a fifth more).
HANDOUT_ROOM = {"en": 1.0}
HANDOUT_ROOM_OTHERS = 0.8
LINK_DAYS = (1, DEFAULT_DAYS, 14, MAX_DAYS)  # the lengths offered as chips on the share page
LONG_DATE = {"en": "d MMMM y"}    # 4 March 2026, as the NHS writes dates; other languages as Babel's long date
BACK = {"share": "share.manage"}            # where the handout's back link may lead (?from=share), never a URL
# The store's messages about a link (English, as the JSON API says them), for the page in the reader's language.
LINK_PROBLEMS = {
    "This link does not work. It may have been mistyped, or the conversation was deleted.":
        _l("This link does not work. It may have been mistyped, or the conversation was deleted."),
    "This link was switched off by the person who shared it.":
        _l("This link was switched off by the person who shared it."),
    "This link has expired.": _l("This link has expired."),
    "This link does not work any more: the conversation was deleted.":
        _l("This link does not work any more: the conversation was deleted."),
}


# --- headers ---------------------------------------------------------------------------------------------------------

def referrer_policy() -> str:
    return OWN_PAGE_REFERRER_POLICY if request.endpoint in OWN_PAGE else REFERRER_POLICY


@bp.context_processor
def _referrer_policy_for_templates() -> dict[str, str]:
    return {"referrer_policy": referrer_policy()}  # share/base.html repeats it in a meta tag


@bp.after_request
def share_headers(response: Response) -> Response:
    response.headers.update(SHARE_HEADERS)
    return response


def _reassert_referrer_policy(sender: Any, response: Response, **extra: Any) -> None:
    """Talisman's app-wide after_request runs after ours and sets its default Referrer-Policy on every response;
    `request_finished` comes after all of them, so the share pages keep their own."""
    if request.blueprint == bp.name:
        response.headers["Referrer-Policy"] = referrer_policy()


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
    return Service(db.session(), current_app.extensions["engines"], language=i18n.page_language())


def link_urls(token: str) -> dict[str, str]:
    return {"url": public_url("share.summary", token=token),
            "qr_svg_url": public_url("share.qr", token=token),
            "handout_url": public_url("share.handout", token=token),
            "fhir_url": public_url("share.fhir_response", token=token)}


def qr_svg(url: str, title: str = "QR code of the share link") -> bytes:
    """An SVG QR code (segno, error correction M so a scratched phone screen still scans)."""
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="svg", scale=4, border=4, xmldecl=False,
                                                 title=title, dark="#000", light="#fff")
    return buffer.getvalue()


def long_date(moment: datetime) -> str:
    """The date in the page's language (Babel's long form: 4 de marzo de 2026); English keeps day, month, year."""
    return format_date(moment, LONG_DATE.get(get_locale().language, "long"))


def long_datetime(moment: datetime) -> str:
    return _("%(date)s, %(time)s UTC", date=long_date(moment), time=format_time(moment, "HH:mm"))


def expiry(moment: datetime) -> dict[str, str]:
    """A moment for a page: UTC in ISO form, which static/share.js says in the person's own time and words, and
    the date in words for a browser without JavaScript."""
    return {"iso": f"{moment:%Y-%m-%dT%H:%M:%S}Z", "words": long_datetime(moment), "date": long_date(moment)}


def viewer_owns(shared: SharedConversation) -> bool:
    """The person who made the link (their device holds the conversation), not a clinician opening it."""
    return request.cookies.get(COOKIE) == shared.conversation.id


# --- what a shared conversation shows ----------------------------------------------------------------------------------

# The history's rows: a heading and the questions it gathers, each with an optional prefix when several share a row.
# The order: complaint and timeline first (short answers, two to a line on the handout), then where and what.
# Medicines (values listed under `medicines` in clinical_terms.yaml) are taken out of their rows and get their own.
ROWS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (_l("Main complaint"), (("main_complaint", ""),)),
    (_l("Since"), (("duration", ""),)),
    (_l("Onset"), (("onset", ""),)),
    (_l("Morning stiffness"), (("morning_stiffness", ""),)),
    (_l("Where"), (("pain_locations", ""), ("pain_sides", _l("sides")))),
    (_l("Weakness"), (("weakness_pattern", ""),)),
    (_l("Feels like"), (("pain_character", ""),)),
    (_l("Pattern"), (("time_pattern", _l("worst")), ("exertion_response", _l("with activity")))),
    (_l("Triggers"), (("triggers", ""),)),
    (_l("Associated"), (("associated", ""),)),
    (_l("Exposures"), (("exposures", ""),)),
    (_l("History"), (("history", ""),)),
)
ABOUT = (("age_band", _l("age")), ("sex", _l("sex")))
RED_FLAG_QUESTION = "red_flags"
UNSURE = "not_sure"  # an answer that says "I don't know" denies nothing
URGENCY_WORDS = {"emergency": _l("Emergency"), "same_day": _l("Same day"), "soon": _l("Within a few days"),
                 "routine": _l("Routine")}
NONE_REPORTED = _l("none reported")

Words = Callable[[Question, Sequence[str]], str]


def patient_words(question: Question, values: Sequence[str]) -> str:
    """The person's own words: the flow's labels."""
    if question.type == "multi" and tuple(values) == (EXCLUSIVE_VALUE,):
        return str(NONE_REPORTED)
    return "; ".join(question.label(v) for v in values)


def clinical_words(flow: Flow) -> Words:
    """A clinician's words: the flow's clinical terms (the label where a term is missing)."""
    def words(question: Question, values: Sequence[str]) -> str:
        if question.type == "multi" and tuple(values) == (EXCLUSIVE_VALUE,):
            return str(NONE_REPORTED)
        return ", ".join(flow.clinical.term(question, v) for v in values)
    return words


def answer_text(flow: Flow, question_id: str, values: tuple[str, ...]) -> str:
    return patient_words(flow.question(question_id), values)


@dataclass
class Row:
    title: str
    parts: list[tuple[str, str]] = field(default_factory=list)   # (prefix, text)

    @property
    def length(self) -> int:
        return sum(len(prefix) + len(text) + 2 for prefix, text in self.parts)


@dataclass
class Facts:
    """The answers in one kind of words (the person's or a clinician's): the same facts either way."""
    about: str
    rows: list[Row]
    red_flags_reported: str | None
    denied: list[str]            # pertinent negatives: warning signs asked about and answered no
    medicines: str | None        # None when no medicine was asked about


@dataclass
class Summary:
    """Everything the summary page and the handout show, already in words."""
    flow: Flow
    status: str
    updated: datetime
    patient: Facts
    clinical: Facts
    presentation: str            # the history in one clinical line
    urgency: str | None
    advice: dict[str, str] | None
    flags: list[dict[str, Any]]
    flagged_from_answers: list[str]
    conditions: list[dict[str, Any]]
    tests: list[str]
    lifestyle: list[dict[str, Any]]
    disclaimer: str
    answered: int
    answered_in: str = "en"  # the language the person answered in (the page may be read in another)

    @property
    def in_another_language(self) -> bool:
        return self.answered_in != self.flow.language

    @property
    def finished(self) -> bool:
        return self.status != "active"

    @property
    def urgency_words(self) -> str:
        return str(URGENCY_WORDS.get(self.urgency or "", ""))

    @property
    def title(self) -> str:
        """The handout's title: the leading pattern, so a clinician knows in a glance what the page is about."""
        if self.conditions:
            return _("Leading pattern: %(name)s", name=self.conditions[0]["name"])
        if self.urgency == "emergency":
            return _("Stopped at an emergency warning sign")
        return self.flow.title


def _asked(flow: Flow, answers: Answers, question_id: str) -> bool:
    return question_id in answers and flow.has_question(question_id)


def _rows(flow: Flow, answers: Answers, words: Words) -> list[Row]:
    rows, shown = [], {RED_FLAG_QUESTION} | {q for q, _word in ABOUT}
    for title, questions in ROWS:
        row = Row(str(title))
        for question_id, prefix in questions:
            shown.add(question_id)
            if _asked(flow, answers, question_id):
                values = [v for v in answers[question_id] if not flow.clinical.is_medicine(question_id, v)]
                if values:
                    row.parts.append((str(prefix), words(flow.question(question_id), values)))
        if row.parts:
            rows.append(row)
    for question in flow.questions:  # a question added to the flow later is never left out
        if question.id in answers and question.id not in shown:
            rows.append(Row(question.text, [("", words(question, answers[question.id]))]))
    return rows


def warning_signs(flow: Flow) -> list[tuple[str, str]]:
    """(question, value) pairs that are warning signs: every value of the red-flag question, and the values a flag of
    same-day urgency or higher derives from other multi-answer questions alone (a flag that also needs a ticked red
    flag, such as dark urine with a statin, makes no warning sign of the statin)."""
    signs = [(RED_FLAG_QUESTION, v) for v in flow.question(RED_FLAG_QUESTION).values if v not in (EXCLUSIVE_VALUE, UNSURE)] \
        if flow.has_question(RED_FLAG_QUESTION) else []
    for flag in flow.red_flags:
        if URGENCY_LEVELS.index(flag.urgency) >= URGENCY_LEVELS.index("same_day") and \
                all(c.question != RED_FLAG_QUESTION for c in flag.when):
            signs += [(c.question, v) for c in flag.when if c.question != RED_FLAG_QUESTION
                      and flow.has_question(c.question) and flow.question(c.question).type == "multi"
                      for v in c.any_of]
    return list(dict.fromkeys(signs))


def _denied(flow: Flow, answers: Answers, words: Words) -> list[str]:
    return [words(flow.question(q), (v,)) for q, v in warning_signs(flow)
            if _asked(flow, answers, q) and v not in answers[q] and UNSURE not in answers[q]]


def _medicines(flow: Flow, answers: Answers, words: Words) -> str | None:
    asked = [(q, v) for q, values in flow.clinical.medicines.items() if _asked(flow, answers, q)
             for v in values if v in flow.question(q).values]
    if not asked:
        return None
    taken = [words(flow.question(q), (v,)) for q, v in asked if v in answers[q]]
    return "; ".join(taken) if taken else \
        _("none of those asked about (%(medicines)s)", medicines="; ".join(words(flow.question(q), (v,)) for q, v in asked))


def facts(flow: Flow, answers: Answers, words: Words) -> Facts:
    return Facts(
        about=", ".join(f"{word} {words(flow.question(q), answers[q])}" for q, word in ABOUT
                        if _asked(flow, answers, q)),
        rows=_rows(flow, answers, words),
        red_flags_reported=words(flow.question(RED_FLAG_QUESTION), answers[RED_FLAG_QUESTION])
        if _asked(flow, answers, RED_FLAG_QUESTION) else None,
        denied=_denied(flow, answers, words), medicines=_medicines(flow, answers, words))


# The presenting history in one clinical line: (question, what comes before it).
PRESENTATION = (("main_complaint", ""), ("pain_sides", ": "), ("pain_locations", " "), ("duration", "; "),
                ("onset", ", "), ("morning_stiffness", "; "), ("exertion_response", "; "))


def presentation(flow: Flow, answers: Answers) -> str:
    words = clinical_words(flow)
    line = ""
    for question_id, before in PRESENTATION:
        if _asked(flow, answers, question_id) and (answers[question_id] != (EXCLUSIVE_VALUE,)):
            line += (before if line else "") + words(flow.question(question_id), answers[question_id])
    return line


def _criterion_words(flow: Flow, criterion: Criterion, answers: Answers, words: Words) -> str:
    question = flow.question(criterion.question)
    if criterion.none_of:  # asked, and none of these chosen: "no little sun exposure" would read as the opposite
        return _("denies %(answers)s", answers=words(question, criterion.none_of))
    return words(question, criterion.matched(answers))


def key_features(flow: Flow, condition_id: str, answers: Answers) -> tuple[list[str], list[str]]:
    """What speaks for and against a condition, in clinical words: the answers its rules that held looked at,
    heaviest rule first."""
    card = next((c for c in flow.conditions if c.id == condition_id), None)
    if card is None:
        return [], []
    words = clinical_words(flow)
    held = sorted((r for r in card.rules if all_hold(r.when, answers)), key=lambda r: -abs(r.weight))
    features: dict[bool, list[str]] = {True: [], False: []}
    for rule in held:
        text = " + ".join(_criterion_words(flow, c, answers, words) for c in rule.when if flow.has_question(c.question))
        if text and text not in features[rule.weight > 0]:
            features[rule.weight > 0].append(text)
    return features[True], features[False]


def _flagged_from_answers(flow: Flow, flags: list[dict[str, Any]]) -> list[str]:
    """Flags raised by other answers than the red-flag question, in clinical words or by the condition they point
    to."""
    by_id = {f.id: f for f in flow.red_flags}
    conditions = {c.id: c.name for c in flow.conditions}
    flagged: dict[str, str] = {}  # what the flag points to -> its highest urgency
    for flag in flags:
        rule = by_id.get(flag["id"])
        if rule is None or all(c.question == RED_FLAG_QUESTION for c in rule.when):
            continue
        text = rule.clinical or conditions.get(flag.get("condition") or "", "") or flag["text"].split(". ")[0]
        if text not in flagged or URGENCY_LEVELS.index(flag["urgency"]) > URGENCY_LEVELS.index(flagged[text]):
            flagged[text] = flag["urgency"]
    return [f"{text} ({str(URGENCY_WORDS.get(u, u)).lower()})" for text, u in flagged.items()]


def summarise(flow: Flow, conversation: Conversation, answers: Answers,
              result: dict[str, Any] | None) -> Summary:
    """`flow` in the words of the reader (the clinician's language, or the person's)."""
    result = result or {}
    conditions = []
    for condition in result.get("conditions", []):
        features_for, against = key_features(flow, condition["id"], answers)
        conditions.append({**condition, "match": match(condition["fit"]), "for": features_for, "against": against})
    return Summary(
        flow=flow, status=conversation.status, updated=conversation.updated_at,
        patient=facts(flow, answers, patient_words), clinical=facts(flow, answers, clinical_words(flow)),
        presentation=presentation(flow, answers),
        urgency=result.get("urgency"), advice=result.get("advice"), flags=result.get("red_flags", []),
        flagged_from_answers=_flagged_from_answers(flow, result.get("red_flags", [])),
        conditions=conditions, tests=short_test_list(conditions, top=HANDOUT_CONDITIONS, limit=None),
        lifestyle=result.get("lifestyle", []),
        disclaimer=result.get("disclaimer") or flow.disclaimer, answered=len(answers),
        answered_in=conversation.language)


HANDOUT_SHORT_ROW = 38  # characters: two neighbouring rows this short share a line on the handout

def handout_rows(rows: list[Row]) -> list[dict[str, Any]]:
    """The rows in order; two short neighbours share a line, any other row spans the page (keeps it to one page)."""
    laid = [{"title": r.title, "parts": r.parts, "wide": r.length > HANDOUT_SHORT_ROW} for r in rows]
    i = 0
    while i < len(laid):
        if not laid[i]["wide"]:
            if i + 1 < len(laid) and not laid[i + 1]["wide"]:
                i += 2
                continue
            laid[i]["wide"] = True
        i += 1
    return laid


def _condition_chars(c: dict[str, Any]) -> int:
    return len(c["name"]) + sum(len(r) + 2 for r in c["for"] + c["against"])


def room(chars: int) -> int:
    """A handout budget in the page's language."""
    return int(chars * HANDOUT_ROOM.get(i18n.page_language(), HANDOUT_ROOM_OTHERS))


def handout_conditions(summary: Summary, budget: int = HANDOUT_CONDITION_CHARS) -> list[dict[str, Any]]:
    """The top conditions with their key features, trimmed to a text budget so the page never spills: first the
    features against go (lowest-ranked first), then features for beyond the first. What is left out is counted."""
    picked = [{"name": c["name"], "match": c["match"],
               "for": c["for"][:HANDOUT_REASONS], "more_for": max(0, len(c["for"]) - HANDOUT_REASONS),
               "against": c["against"][:1], "more_against": max(0, len(c["against"]) - 1)}
              for c in summary.conditions[:HANDOUT_CONDITIONS]]

    def over() -> bool:
        return sum(_condition_chars(c) for c in picked) > budget

    for c in reversed(picked):
        if not over():
            break
        if c["against"]:
            c["more_against"] += len(c["against"])
            c["against"] = []
    for c in reversed(picked):
        while len(c["for"]) > 1 and over():
            c["for"].pop()
            c["more_for"] += 1
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
    """What a link shows, in the reader's language (the same result whatever the language it was answered in)."""
    shared, engine, answers = open_shared(token)
    reader = service()
    result = reader.result(shared.conversation.id) if shared.conversation.result_json else None
    flow = reader.texts(engine, i18n.page_language())
    return shared, summarise(flow, shared.conversation, answers, result)


# --- the shared pages (read-only) -----------------------------------------------------------------------------------

@bp.errorhandler(ApiError)
def unavailable(err: ApiError):
    """Expired, revoked or unknown links: a friendly page (JSON for the FHIR export, or for a client asking JSON)."""
    if error_kind() != "page":
        return error_answer(err.status, err.code, err.message, "", fields=err.fields, **err.extra)
    if request.endpoint in ("share.manage", "share.change"):
        return render_template("share/manage.html", problem=err.message, state="missing"), err.status
    return render_template("share/unavailable.html", status=err.status, gone=isinstance(err, Gone),
                           message=LINK_PROBLEMS.get(err.message, err.message)), err.status


@bp.get("/s/<token>")
def summary(token: str):
    shared, summary_ = shared_summary(token)
    owner = viewer_owns(shared)
    return render_template("share/summary.html", s=summary_, expires=expiry(shared.expires_at), owner=owner,
                           links={"handout": url_for("share.handout", token=token, **({"from": "share"} if owner else {})),
                                  "fhir": url_for("share.fhir_response", token=token),
                                  "qr": url_for("share.qr", token=token),
                                  "back": url_for("share.manage")},
                           shown=SUMMARY_SHOWN, long_date=long_date, trend=diary_trend(shared.conversation.id))


def handout_back(token: str) -> dict[str, str]:
    """The handout's back link: to the page it came from, chosen from a fixed list (never a URL from the request)."""
    if request.args.get("from") in BACK:
        return {"href": url_for(BACK[request.args["from"]]), "label": _("Back to sharing")}
    return {"href": url_for("share.summary", token=token), "label": _("Back to the full summary")}


@bp.get("/s/<token>/handout")
def handout(token: str):
    shared, summary_ = shared_summary(token)
    conditions = handout_conditions(summary_, room(HANDOUT_CONDITION_CHARS))
    tests = within(summary_.tests[:HANDOUT_TESTS], room(HANDOUT_LIST_CHARS))
    lifestyle = within([card["title"] for card in summary_.lifestyle[:HANDOUT_LIFESTYLE]], room(HANDOUT_LIST_CHARS))
    denied = within(summary_.clinical.denied, room(HANDOUT_DENIED_CHARS))
    flagged = within(summary_.flagged_from_answers, room(HANDOUT_FLAGGED_CHARS))
    return render_template("share/handout.html", s=summary_, f=summary_.clinical, long_date=long_date,
                           rows=handout_rows(summary_.clinical.rows),
                           conditions=conditions, more_conditions=len(summary_.conditions) - len(conditions),
                           tests=tests, more_tests=len(summary_.tests) - len(tests),
                           lifestyle=lifestyle, more_lifestyle=len(summary_.lifestyle) - len(lifestyle),
                           denied=denied, more_denied=len(summary_.clinical.denied) - len(denied),
                           flagged=flagged, more_flagged=len(summary_.flagged_from_answers) - len(flagged),
                           back=handout_back(token), qr_path=url_for("share.qr", token=token),
                           expires=expiry(shared.expires_at),
                           trend=diary_trend(shared.conversation.id, clinical=True))


@bp.get("/s/<token>/qr.svg")
@errors_as("text")  # an image: never an HTML error page
def qr(token: str):
    sharing().resolve(token)
    return Response(qr_svg(public_url("share.summary", token=token)), mimetype="image/svg+xml")


@bp.get("/s/<token>/fhir")
@errors_as("json")
def fhir_response(token: str):
    shared, engine, answers = open_shared(token)
    conversation = shared.conversation
    resource = fhir.questionnaire_response(engine.flow, answers, public_base(),
                                           conversation.status, iso(conversation.updated_at))
    return Response(json.dumps(resource, ensure_ascii=False), mimetype=fhir.FHIR_JSON)


@bp.get("/s/<token>/fhir/checkins")
@errors_as("json")
def fhir_checkins(token: str):
    """The daily check-ins of a shared intake: a Bundle of QuestionnaireResponses to the daily-check
    Questionnaire, oldest first (the answers each check-in took from the intake are not repeated)."""
    shared = sharing().resolve(token)
    reader = service()
    engines = current_app.extensions["engines"]
    entries = Checkins(reader).entries(shared.conversation.id)
    resources = [fhir.questionnaire_response(engines.get(entry_flow(shared), e.flow_version).flow, e.answers,
                                             public_base(), e.status, iso(e.updated_at)) for e in entries]
    resource = fhir.bundle(resources, iso(clock()()))
    return Response(json.dumps(resource, ensure_ascii=False), mimetype=fhir.FHIR_JSON)


def entry_flow(shared: SharedConversation) -> str:
    """The id of the flow whose conversations are the shared one's check-ins."""
    return current_app.extensions["engines"].follower(shared.conversation.flow_id).flow.id


# --- the person's own page: make a link, show it, stop sharing -------------------------------------------------------

class ShareForm(Schema):
    action = fields.String(required=True, validate=validate.OneOf(("create", "stop")))
    expires_in_days = fields.Integer(load_default=DEFAULT_DAYS, validate=validate.Range(min=MIN_DAYS, max=MAX_DAYS))
    csrf_token = fields.String(load_only=True)


def own_conversation() -> Conversation:
    conversation_id = request.cookies.get(COOKIE, "")
    conversation = db.session().get(Conversation, conversation_id) if 0 < len(conversation_id) <= 100 else None
    if conversation is None:
        raise NotFound(_("We could not find your answers on this device. They may have been deleted, or you "
                         "answered on another phone or browser."))
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
            "handout_path": url_for("share.handout", token=token, **{"from": "share"}),
            "qr_path": url_for("share.qr", token=token), "expires": expiry(shared.expires_at),
            "days_left": max(1, round((shared.expires_at - clock()()).total_seconds() / 86400))}


@bp.get("/share")
def manage():
    conversation = own_conversation()
    if conversation.result_json is None:
        return render_template("share/manage.html", state="unfinished")
    return render_template("share/manage.html", state="ready", link=current_link(conversation),
                           active=sharing().active_links(conversation.id), days=LINK_DAYS, default_days=DEFAULT_DAYS,
                           notices=get_flashed_messages())


@bp.post("/share")
def change():
    conversation = own_conversation()
    try:
        form = ShareForm().load(request.form.to_dict())
    except ValidationError:  # only a changed or very old form gets here: say so in words, not the validator's
        problem = _("Something in that form was not as the page sent it, so nothing was changed. Choose how long "
                    "the link should last and try again.")
        return render_template("share/manage.html", state="ready", link=current_link(conversation),
                               active=sharing().active_links(conversation.id),
                               days=LINK_DAYS, default_days=DEFAULT_DAYS, problem=problem), 422
    if form["action"] == "stop":
        stopped = sharing().revoke_all(conversation.id)
        session.pop(SESSION_KEY, None)
        flash(_("Sharing stopped. Your links do not work any more.") if stopped
              else _("There were no working links to stop."))
    else:
        if conversation.result_json is None:
            return redirect(url_for("share.manage"), code=303)
        link = sharing().create(conversation.id, form["expires_in_days"])
        session[SESSION_KEY] = link.token  # the page then opens on the new link, which says "Your link is ready"
    return redirect(url_for("share.manage"), code=303)
