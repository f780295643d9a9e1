"""Conversations: create, answer (its write all or nothing: one transaction, or one statement), rewind, delete, result.

The web layers call these; they never touch SQL or YAML themselves. Turns are guarded by the `step` column:
an UPDATE ... WHERE step = :expected applies exactly one of two concurrent answers (SQLite and PostgreSQL).
"""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, DateTime, Integer, Row, String, Text, bindparam, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from assistant.engine import changes, results, triage

from assistant.content import regions, translations
from assistant.engine.machine import ENDS, STOPS, Engines, FlowEngine
from assistant.web.errors import Conflict, Invalid, NotFound
from assistant.content.flows import Answers, AnswerError, Flow, Question, as_values
from assistant.content.translations import ENGLISH
from assistant.store import driver
from assistant.store.models import Answer, Conversation, Share, utcnow


ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def new_id() -> str:
    return secrets.token_urlsafe(32)  # 256 bits: 43 URL-safe characters


def _known_shape(conversation_id: str) -> bool:
    """Ids we hand out have one shape; anything else is unknown without asking the database."""
    return bool(conversation_id) and ID_SHAPE.fullmatch(conversation_id) is not None


def iso(moment) -> str:
    return moment.isoformat(timespec="seconds") + "Z"


def _stored_value(question: Question, values: tuple[str, ...]) -> str | list[str]:
    return values[0] if question.type == "choice" else list(values)


@lru_cache(maxsize=4096)
def _values(value_json: str) -> tuple[str, ...]:
    """A stored answer as a tuple of values (answers repeat a lot, and the tuples are immutable: cache them)."""
    return as_values(json.loads(value_json))


@dataclass(slots=True)
class Loaded:
    """What an answer turn reads of a conversation (a plain record: cheaper to make than a mapped object)."""
    id: str
    flow_id: str
    flow_version: int
    state: str
    status: str
    step: int
    created_at: datetime
    updated_at: datetime
    result_json: str | None = None
    previous_result_json: str | None = None
    language: str = "en"
    parent_id: str | None = None  # a daily check-in's intake


# A turn's statements, built once and compiled once per database: run on the driver's cursor of the session's
# connection (same transaction), they skip SQLAlchemy's per-execution work and the ORM's bookkeeping (store/driver.py).
_CONVERSATIONS, _ANSWERS = Conversation.__table__, Answer.__table__
_LOAD = select(_CONVERSATIONS).where(_CONVERSATIONS.c.id == bindparam("b_id"))
_ANSWER_ROWS = (select(_ANSWERS.c.question_id, _ANSWERS.c.value_json, _ANSWERS.c.step)
                .where(_ANSWERS.c.conversation_id == bindparam("b_id")).order_by(_ANSWERS.c.id))
_ADVANCE = (update(_CONVERSATIONS)
            .where(_CONVERSATIONS.c.id == bindparam("b_id"), _CONVERSATIONS.c.step == bindparam("b_expected"))
            .values(step=bindparam("b_step"), updated_at=bindparam("b_updated_at"), state=bindparam("b_state"),
                    status=bindparam("b_status"), result_json=bindparam("b_result_json"),
                    previous_result_json=bindparam("b_previous_result_json"), language=bindparam("b_language")))
# The answer that moved a conversation on from step b_expected.
_ANSWER_VALUES = {"question_id": bindparam("b_question_id", type_=String),
                  "value_json": bindparam("b_value_json", type_=Text),
                  "step": bindparam("b_expected", type_=Integer),
                  "created_at": bindparam("b_created_at", type_=DateTime)}
_ADD_ANSWER = insert(_ANSWERS).values(conversation_id=bindparam("b_id"), **_ANSWER_VALUES)
# Where the database can (PostgreSQL: an UPDATE inside a WITH), the move and the answer are one statement: one round
# trip instead of two. The answer is inserted only when the UPDATE moved the conversation.
_MOVED = _ADVANCE.returning(_CONVERSATIONS.c.id).cte("moved")
_ADVANCE_AND_ADD = insert(_ANSWERS).from_select(["conversation_id", *_ANSWER_VALUES],
                                                select(_MOVED.c.id, *_ANSWER_VALUES.values()))
# An answer turn reads the conversation and its answers in one statement (one round trip). result_json, which a
# turn only writes, is left out so that it is not repeated on every answer row.
_TURN_COLUMNS = [f.name for f in fields(Loaded) if f.name != "result_json"]
_LOAD_TURN = (select(*[_CONVERSATIONS.c[name] for name in _TURN_COLUMNS],
                     _ANSWERS.c.question_id.label("answer_question_id"),
                     _ANSWERS.c.value_json.label("answer_value_json"), _ANSWERS.c.step.label("answer_step"))
              .select_from(_CONVERSATIONS.outerjoin(_ANSWERS, _ANSWERS.c.conversation_id == _CONVERSATIONS.c.id))
              .where(_CONVERSATIONS.c.id == bindparam("b_id"))
              .order_by(_ANSWERS.c.id))


def _writes_in_one(connection: Connection) -> bool:
    """Does this database move a conversation and store its answer in one statement (_ADVANCE_AND_ADD)?"""
    return connection.dialect.name == "postgresql"


def _is_retry(conversation: Loaded, last_row: dict[str, Any] | None, question_id: str, values: tuple[str, ...],
              step: int) -> bool:
    """Is this answer the very one that moved the conversation to its current step?"""
    return (last_row is not None and step == conversation.step - 1 and last_row["answer_step"] == step
            and last_row["answer_question_id"] == question_id and _values(last_row["answer_value_json"]) == values)


def options_of(question: Question) -> list[dict[str, str]]:
    """A question's options as the API shows them; `group` only where the flow gathers options under headings."""
    return [{"value": o.value, "label": o.label, **({"group": o.group} if o.group else {})}
            for o in question.options]


# The part of a conversation's `question` that is the same on every turn, per question object (one per flow version
# and language): built once instead of on every request. The question is kept with its part, so an id is never
# reused while its entry lives; the bound only matters to processes that load flows again and again (tests).
_QUESTION_PARTS: dict[int, tuple[Question, dict[str, Any]]] = {}
_QUESTION_PARTS_BOUND = 4096


def question_part(question: Question) -> dict[str, Any]:
    """id, type, text, help and options of `question` as the API shows them. Shared between responses: never
    change it, copy it (`{**question_part(q), ...}`)."""
    entry = _QUESTION_PARTS.get(id(question))
    if entry is None or entry[0] is not question:
        if len(_QUESTION_PARTS) >= _QUESTION_PARTS_BOUND:
            _QUESTION_PARTS.clear()
        part = {"id": question.id, "type": question.type, "text": question.text, "help": question.help,
                "options": options_of(question)}
        entry = _QUESTION_PARTS[id(question)] = (question, part)
    return entry[1]


def status_of(state: str) -> str:
    """A conversation's status from its state: the end it reached, or active."""
    return state if state in ENDS else "active"


class Service:
    def __init__(self, db: Session, engines: Engines, region: str = "", language: str | None = None) -> None:
        self.db = db
        self.engines = engines
        self.region = region  # the person's country (from the browser's language), for the same-day action
        self.language = language  # the language this request asks for; None: the conversation's own
        self._followed: dict[str, tuple[Answers, tuple[str, ...]]] = {}  # intake id -> (answers, lifestyle ids)
        self._turn: Connection | None = None  # an answer turn's own connection, while it runs

    def _reader(self) -> Connection:
        """Where reads go: the running answer turn's connection (one connection per request at a time), else the
        request's session."""
        return self._turn or self.db.connection()

    def language_of(self, conversation: Conversation | Loaded) -> str:
        return self.language or conversation.language or ENGLISH

    def texts(self, engine: FlowEngine, language: str) -> Flow:
        """The engine's flow in `language` (its words only: ids, rules and results are the same)."""
        languages = self.engines.languages
        return languages.flow(engine.flow, language) if languages else engine.flow

    def _phrase(self, flow: Flow, language: str):
        languages = self.engines.languages
        return languages.phrase(flow.id, language) if languages else translations.english

    # --- reading -----------------------------------------------------------------------------------------------

    def _load(self, conversation_id: str) -> Conversation:
        """The conversation as a detached object: read here, changed only through _advance and delete."""
        row = self._reader().execute(_LOAD, {"b_id": conversation_id}).first() \
            if _known_shape(conversation_id) else None
        if row is None:
            raise NotFound("No conversation with that id. It may have been deleted or never existed.")
        return Conversation(**row._mapping)

    def _load_turn(self, connection: Connection,
                   conversation_id: str) -> tuple[Loaded, Answers, dict[str, Any] | None]:
        """_load and _latest_answers in one statement, for answer(): the conversation (without its result, which
        an answer does not read), the latest answer to each question, and the last answer row."""
        rows = driver.execute(connection, _LOAD_TURN, {"b_id": conversation_id})[0] \
            if _known_shape(conversation_id) else []
        if not rows:
            raise NotFound("No conversation with that id. It may have been deleted or never existed.")
        first = rows[0]
        conversation = Loaded(**{name: first[name] for name in _TURN_COLUMNS})
        if first["answer_question_id"] is None:
            return conversation, {}, None
        latest = {row["answer_question_id"]: _values(row["answer_value_json"]) for row in rows}
        return conversation, latest, rows[-1]

    def engine_for(self, conversation: Conversation) -> FlowEngine:
        engine = self.engines.get(conversation.flow_id, conversation.flow_version)
        if engine is None:
            raise NotFound(f"Flow {conversation.flow_id} version {conversation.flow_version} is no longer served.")
        return engine

    def followed(self, parent_id: str) -> tuple[Answers, tuple[str, ...]]:
        """A check-in's intake: its answers on its path and the lifestyle areas of its result (read once a request)."""
        if parent_id not in self._followed:
            parent = self._load(parent_id)
            latest, _ = self._latest_answers(parent_id)
            result = json.loads(parent.result_json) if parent.result_json else {}
            self._followed[parent_id] = (self.engine_for(parent).path_answers(parent.state, latest),
                                         tuple(card["id"] for card in result.get("lifestyle") or ()))
        return self._followed[parent_id]

    def with_context(self, conversation: Conversation | Loaded, engine: FlowEngine, latest: Answers) -> Answers:
        """A check-in's answers with the intake answers its red flags look at (e.g. the age band)."""
        if not engine.flow.context or not conversation.parent_id:
            return latest
        return {**engine.context_of(self.followed(conversation.parent_id)[0]), **latest}

    def personal(self, conversation: Conversation | Loaded, question: Question) -> Question:
        """A question whose options are this person's lifestyle areas, narrowed to those of their intake."""
        if not question.personal or not conversation.parent_id:
            return question
        return question.narrowed(self.followed(conversation.parent_id)[1])

    def _latest_answers(self, conversation_id: str) -> tuple[Answers, Row | None]:
        rows = self._reader().execute(_ANSWER_ROWS, {"b_id": conversation_id}).all()
        latest = {row.question_id: _values(row.value_json) for row in rows}
        return latest, (rows[-1] if rows else None)

    def view(self, conversation: Conversation) -> dict[str, Any]:
        engine = self.engine_for(conversation)
        latest, _ = self._latest_answers(conversation.id)
        return self._view(conversation, engine, self.with_context(conversation, engine, latest))

    def _view(self, conversation: Conversation | Loaded, engine: FlowEngine, latest: Answers,
              answers: Answers | None = None) -> dict[str, Any]:
        """The conversation as the API shows it. `answers`: those on the path to its state, when already known."""
        language = self.language_of(conversation)
        flow = self.texts(engine, language)
        if answers is None:
            answers = engine.path_answers(conversation.state, latest)
        suggestions = {q: v for q, v in latest.items() if q not in answers}
        question = None
        if conversation.state not in ENDS:
            q = self.personal(conversation, flow.question(conversation.state))
            suggested = suggestions.get(q.id)
            question = {**question_part(q), "suggested": _stored_value(q, suggested) if suggested else None}
        urgency = triage.urgency(triage.raised_flags(flow, answers))
        return {
            "id": conversation.id,
            "flow": {"id": conversation.flow_id, "version": conversation.flow_version},
            "status": conversation.status,
            "step": conversation.step,
            "question": question,
            "answers": {q: _stored_value(flow.question(q), v) for q, v in answers.items() if flow.has_question(q)},
            "suggestions": {q: _stored_value(flow.question(q), v) for q, v in suggestions.items()},
            "progress": self._progress(conversation.state, engine, answers, latest),
            "urgency": urgency,
            "urgent_advice": self._urgent_advice(flow, answers, urgency),
            "language": language,
            "created_at": iso(conversation.created_at),
            "updated_at": iso(conversation.updated_at),
        }

    @staticmethod
    def _progress(state: str, engine: FlowEngine, answers: Answers, latest: Answers) -> dict[str, int]:
        """Answers on the path, counting those an edit keeps further on, and the questions likely still to come.

        While an earlier answer is being changed, the answers after it still count: progress does not jump back.
        Context answers (a check-in's, from its intake) were never asked here: they do not count.
        """
        own = engine.flow.has_question
        answers = {q: v for q, v in answers.items() if own(q)}
        latest = {q: v for q, v in latest.items() if own(q)}
        if state in ENDS or state not in latest:
            return {"answered": len(answers), "estimated_total": len(answers) + engine.remaining(state, answers)}
        resumed, kept = engine.resume(latest)
        if resumed in STOPS:  # the answer being changed is the one that stopped the check: count from here
            return {"answered": len(answers), "estimated_total": len(answers) + engine.remaining(state, answers)}
        kept = {q: v for q, v in kept.items() if own(q)}
        return {"answered": len(kept), "estimated_total": len(kept) + engine.remaining(resumed, kept)}

    def _urgent_advice(self, flow, answers: Answers, urgency: str) -> dict[str, Any] | None:
        """Once the answers so far need a doctor today: say so at once, with the right first action."""
        if urgency != "same_day":
            return None
        flag = next(f for f in triage.raised_flags(flow, answers) if f.urgency == "same_day")
        level = flow.levels.get("same_day")
        action = regions.same_day_action(self.region)
        return {"title": level.title if level else "Get medical help today", "text": flag.text,
                "action": {**action, "label": self._phrase(flow, flow.language)(action["label"])}}

    def get(self, conversation_id: str) -> dict[str, Any]:
        return self.view(self._load(conversation_id))

    def result(self, conversation_id: str) -> dict[str, Any]:
        """The stored result; asked for in another language than it was made in, the same result in those words."""
        conversation = self._load(conversation_id)
        if conversation.result_json is None:
            raise Conflict("The conversation is not finished yet.", code="not_finished", conversation=self.view(conversation))
        stored = json.loads(conversation.result_json)
        language = self.language_of(conversation)
        if language == conversation.language:
            return stored
        engine = self.engine_for(conversation)
        latest, _ = self._latest_answers(conversation.id)
        flow = self.texts(engine, language)
        latest = self.with_context(conversation, engine, latest)
        result = results.build(flow, engine.path_answers(conversation.state, latest))
        if "changes" in stored:
            result["changes"] = changes.described(stored["changes"], flow, self._phrase(flow, language))
        return result

    def answers_of(self, conversation_id: str) -> tuple[Conversation, Answers]:
        """The conversation and the answers on its path (for summaries and exports)."""
        conversation = self._load(conversation_id)
        engine = self.engine_for(conversation)
        latest, _ = self._latest_answers(conversation.id)
        return conversation, engine.path_answers(conversation.state, self.with_context(conversation, engine, latest))

    # --- changing ----------------------------------------------------------------------------------------------

    def create(self, flow_id: str, version: int | None = None) -> dict[str, Any]:
        engine = self.engines.get(flow_id, version)
        if engine is None and version is not None and self.engines.get(flow_id) is not None:
            raise NotFound(f"Flow '{flow_id}' has no version {version} that is still served.",
                           fields={"version": f"not served: {version}"})
        if engine is None:
            raise NotFound(f"No flow called '{flow_id}'.", fields={"flow": f"unknown flow '{flow_id}'"})
        if engine.flow.follows:
            raise Invalid(f"A '{flow_id}' conversation belongs to a finished '{engine.flow.follows}' conversation: "
                          f"start it from there.", fields={"flow": f"starts from a '{engine.flow.follows}' "
                                                                    f"conversation"})
        now = utcnow()
        conversation = Conversation(id=new_id(), flow_id=flow_id, flow_version=engine.flow.version,
                                    state=engine.flow.start, status="active", step=0,
                                    created_at=now, updated_at=now, language=self.language or ENGLISH)
        self.db.add(conversation)
        self.db.commit()
        return self._view(conversation, engine, {})

    def _advance(self, conversation: Conversation | Loaded, expected_step: int, *, state: str, status: str,
                 result_json: str | None, previous_result_json: str | None,
                 connection: Connection | None = None, answer: dict[str, Any] | None = None) -> None:
        """Move the conversation on by one step, storing the `answer` (b_question_id, b_value_json, b_created_at)
        that moved it, or raise Conflict when someone else got there first.

        On success the loaded conversation carries the new values (what the database now holds), without
        reading the row again.
        """
        values = {"step": expected_step + 1, "updated_at": utcnow(), "state": state, "status": status,
                  "result_json": result_json, "previous_result_json": previous_result_json,
                  "language": self.language_of(conversation)}
        parameters = {"b_id": conversation.id, "b_expected": expected_step, **(answer or {}),
                      **{f"b_{k}": v for k, v in values.items()}}
        on = connection or self.db.connection()
        in_one = answer is not None and _writes_in_one(on)
        _, moved = driver.execute(on, _ADVANCE_AND_ADD if in_one else _ADVANCE, parameters)
        if moved == 1 and answer is not None and not in_one:
            driver.execute(on, _ADD_ANSWER, parameters)
        if moved != 1:
            (connection or self.db).rollback()
            raise Conflict("This conversation has moved on (another answer arrived first).",
                           code="stale_step", conversation=self.view(self._load(conversation.id)))
        for name, value in values.items():
            setattr(conversation, name, value)  # a detached copy: nothing is flushed from it

    def answer(self, conversation_id: str, question_id: str, raw_value: Any, step: int) -> dict[str, Any]:
        """One turn on a connection of its own: cheaper than the session's unit of work, which a turn (a read and a
        guarded write, nothing for the ORM to track) does not need.

        Where the write is one statement (PostgreSQL) it is atomic by itself and guarded by the step the turn read,
        so the turn runs without a transaction around it: no BEGIN and COMMIT, two round trips to the server fewer.
        Elsewhere the UPDATE and the INSERT are one transaction.
        """
        with self.db.get_bind().connect() as connection:
            if _writes_in_one(connection):
                connection.execution_options(isolation_level="AUTOCOMMIT")
            else:
                connection.begin()  # committed by _answer once the turn is stored; anything else is rolled back
            self._turn = connection
            try:
                return self._answer(connection, conversation_id, question_id, raw_value, step)
            finally:
                self._turn = None

    def _answer(self, connection: Connection, conversation_id: str, question_id: str, raw_value: Any,
                step: int) -> dict[str, Any]:
        conversation, latest, last_row = self._load_turn(connection, conversation_id)
        engine = self.engine_for(conversation)
        flow = engine.flow
        if not flow.has_question(question_id):
            raise Invalid(f"Unknown question '{question_id}'.", fields={"question_id": question_id})
        latest = self.with_context(conversation, engine, latest)
        question = self.personal(conversation, flow.question(question_id))
        try:
            values = question.clean(raw_value)
        except AnswerError as err:
            raise Invalid(str(err), fields={"value": str(err)}) from err
        if step != conversation.step or question_id != conversation.state:
            if _is_retry(conversation, last_row, question_id, values, step):
                return self._view(conversation, engine, latest)  # an identical retry: already applied
            message = ("That answer is for an earlier step." if step != conversation.step
                       else f"The current question is '{conversation.state}', not '{question_id}'.")
            raise Conflict(message, code="stale_step", conversation=self._view(conversation, engine, latest))

        answers = engine.path_answers(conversation.state, latest)
        answers[question_id] = values
        next_state = engine.next_state(question_id, answers)
        if next_state not in ENDS and next_state in latest:  # an edit: later answers still on the path are kept
            next_state, answers = engine.resume({**latest, question_id: values})
        result_json, previous = None, conversation.previous_result_json
        if next_state in ENDS:
            language = self.language_of(conversation)
            result_json, previous = self._finish(self.texts(engine, language), answers, previous, language), None
        if conversation.parent_id:
            self.touch(conversation.parent_id, connection)  # before the check-in itself: rows are locked parent first
        stored = {"b_question_id": question_id, "b_value_json": json.dumps(_stored_value(question, values)),
                  "b_created_at": utcnow()}
        try:
            self._advance(conversation, step, state=next_state, status=status_of(next_state),
                          result_json=result_json, previous_result_json=previous, connection=connection, answer=stored)
        except Conflict:
            # Another request won the race. If it was this same answer (a retry sent twice at once), say so.
            conversation, latest, last_row = self._load_turn(connection, conversation_id)
            if _is_retry(conversation, last_row, question_id, values, step):
                return self._view(conversation, engine, self.with_context(conversation, engine, latest))
            raise
        connection.commit()
        latest[question_id] = values
        return self._view(conversation, engine, latest, answers)

    def _finish(self, flow: Flow, answers: Answers, previous_json: str | None, language: str) -> str:
        """The result as stored; after a changed answer it says what moved since the result before the change."""
        result = results.build(flow, answers)
        if previous_json:
            moved = changes.moves(json.loads(previous_json), result)
            result["changes"] = changes.described(moved, flow, self._phrase(flow, language))
        return json.dumps(result)

    def rewind(self, conversation_id: str, question_id: str) -> dict[str, Any]:
        conversation = self._load(conversation_id)
        engine = self.engine_for(conversation)
        if not engine.flow.has_question(question_id):
            raise Invalid(f"Unknown question '{question_id}'.", fields={"question_id": question_id})
        latest, _ = self._latest_answers(conversation.id)
        latest = self.with_context(conversation, engine, latest)
        if question_id == conversation.state:  # already there: nothing moves, so a client's step stays good
            return self._view(conversation, engine, latest)
        on_path = question_id in engine.path_answers(conversation.state, latest)
        if not on_path:
            raise Conflict(f"'{question_id}' has not been asked in this conversation yet.",
                           conversation=self._view(conversation, engine, latest))
        self._advance(conversation, conversation.step, state=question_id, status="active", result_json=None,
                      previous_result_json=conversation.result_json or conversation.previous_result_json)
        self.db.commit()
        return self._view(conversation, engine, latest)

    def delete(self, conversation_id: str) -> None:
        """Delete a conversation with its answers, result, share links and check-ins."""
        conversation = self._load(conversation_id)
        self.delete_rows(conversation.id)
        self.db.commit()

    def delete_rows(self, conversation_id: str) -> None:
        """The deletes of `delete`, in the current transaction."""
        family = select(Conversation.id).where(or_(Conversation.id == conversation_id,
                                                   Conversation.parent_id == conversation_id))
        self.db.execute(delete(Share).where(Share.conversation_id.in_(family)))
        self.db.execute(delete(Answer).where(Answer.conversation_id.in_(family)))
        self.db.execute(delete(Conversation).where(Conversation.parent_id == conversation_id))
        self.db.execute(delete(Conversation).where(Conversation.id == conversation_id))

    def touch(self, conversation_id: str, connection: Connection | None = None) -> None:
        """Mark a conversation as in use (a check-in keeps its intake from being purged)."""
        touched = update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == conversation_id).values(updated_at=utcnow())
        (connection or self.db.connection()).execute(touched)
