"""Daily check-ins: conversations of the flow that follows an intake's flow (flows/daily-check.yaml), one per day.

A check-in belongs to a finished intake (`parent_id`) and a day (`day`, unique per intake). Starting one on a day
that already has one in progress returns that one (a double tap or a retry starts nothing new); on a day whose
check-in has ended, the new one replaces it. Check-ins keep their intake alive for retention (each touches the
intake), and deleting the intake deletes them (conversations.Service.delete).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from assistant.content.flows import EXCLUSIVE_VALUE, Answers
from assistant.engine import triage
from assistant.engine.conversations import Service, _values, new_id
from assistant.engine.machine import FlowEngine
from assistant.store.models import Answer, Conversation, utcnow
from assistant.web.errors import Conflict, Invalid, NotFound


def today() -> date:
    return utcnow().date()


def day_of(asked: date | None) -> date:
    """The day a check-in is for: the person's own date when given (it is never more than a day from UTC's)."""
    if asked is None:
        return today()
    if abs((asked - today()).days) > 1:
        raise Invalid("The date must be today's date where you are.", fields={"date": "not today"})
    return asked


@dataclass(frozen=True)
class Entry:
    """One check-in as the list, the chart and the exports read it."""
    id: str
    day: date
    status: str
    scores: dict[str, int | None]
    tried: tuple[str, ...]
    urgency: str
    answers: Answers
    flow_version: int = 1
    updated_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "date": self.day.isoformat(), "status": self.status, "scores": self.scores,
                "tried": list(self.tried), "urgency": self.urgency}


class Checkins:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.db = service.db

    def _intake(self, intake_id: str) -> tuple[Conversation, FlowEngine]:
        intake = self.service._load(intake_id)
        engine = self.service.engines.follower(intake.flow_id) if intake.parent_id is None else None
        if engine is None:
            raise NotFound("No intake with that id has daily check-ins.")
        return intake, engine

    def start(self, intake_id: str, asked: date | None = None) -> tuple[dict[str, Any], bool]:
        """Today's check-in for an intake: (conversation, created?)."""
        intake, engine = self._intake(intake_id)
        if intake.status != "finished":
            raise Conflict("Check-ins start once the check is finished with a result.", code="not_finished",
                           conversation=self.service.view(intake))
        day = day_of(asked)
        existing = self._on(intake.id, day)
        if existing is not None and existing.status == "active":
            return self.service.view(existing), False
        if existing is not None:
            self.service.delete_rows(existing.id)  # a second check-in the same day replaces the first
        now = utcnow()
        checkin = Conversation(id=new_id(), flow_id=engine.flow.id, flow_version=engine.flow.version,
                               state=engine.flow.start, status="active", step=0, created_at=now, updated_at=now,
                               language=self.service.language or intake.language, parent_id=intake.id, day=day)
        self.service.touch(intake.id)
        self.db.add(checkin)
        try:
            self.db.commit()
        except IntegrityError:  # the same start arrived twice at once: the other one made it
            self.db.rollback()
            existing = self._on(intake.id, day)
            if existing is None:
                raise
            return self.service.view(existing), False
        return self.service.view(checkin), True

    def belongs(self, checkin_id: str, intake_id: str) -> bool:
        return self.db.scalar(select(Conversation.parent_id).where(Conversation.id == checkin_id)) == intake_id

    def _on(self, intake_id: str, day: date) -> Conversation | None:
        return self.db.scalar(select(Conversation).where(Conversation.parent_id == intake_id,
                                                         Conversation.day == day))

    def entries(self, intake_id: str, days: int | None = None) -> list[Entry]:
        """The intake's check-ins, oldest first (only the last `days` days when given)."""
        intake, _ = self._intake(intake_id)
        query = select(Conversation).where(Conversation.parent_id == intake.id).order_by(Conversation.day)
        if days is not None:
            query = query.where(Conversation.day > today() - timedelta(days=days))
        checkins = list(self.db.scalars(query))
        if not checkins:
            return []
        rows = self.db.execute(select(Answer.conversation_id, Answer.question_id, Answer.value_json)
                               .where(Answer.conversation_id.in_([c.id for c in checkins])).order_by(Answer.id))
        latest: dict[str, Answers] = {c.id: {} for c in checkins}
        for row in rows:
            latest[row.conversation_id][row.question_id] = _values(row.value_json)
        return [self._entry(c, latest[c.id]) for c in checkins]

    def _entry(self, checkin: Conversation, latest: Answers) -> Entry:
        engine = self.service.engine_for(checkin)
        flow = engine.flow
        answers = engine.path_answers(checkin.state, self.service.with_context(checkin, engine, latest))
        own = {q: v for q, v in answers.items() if flow.has_question(q)}
        tried = next((v for q, v in own.items() if flow.question(q).personal), ())
        return Entry(id=checkin.id, day=checkin.day, status=checkin.status,
                     scores={q: flow.score(q, own[q]) if q in own else None for q in flow.scores},
                     tried=tuple(v for v in tried if v != EXCLUSIVE_VALUE),
                     urgency=triage.urgency(triage.raised_flags(flow, answers)), answers=own,
                     flow_version=checkin.flow_version, updated_at=checkin.updated_at)

    def list(self, intake_id: str) -> list[dict[str, Any]]:
        return [entry.as_json() for entry in self.entries(intake_id)]
