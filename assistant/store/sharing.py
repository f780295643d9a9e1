"""Share links, without Flask: create, resolve, revoke.

A link carries a random token of 256 bits (`secrets.token_urlsafe(32)`). Only its SHA-256 is stored, so a copy of
the database cannot be turned back into working links, and the token is never derived from the conversation id.
Every time comparison goes through `now`, a function the caller passes in, so tests can move the clock.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.web.errors import Conflict, Gone, Invalid, NotFound
from assistant.store.models import Conversation, Share, utcnow

TOKEN_BYTES = 32  # 256 bits of randomness; the contract asks for at least 128
MIN_DAYS, DEFAULT_DAYS, MAX_DAYS = 1, 7, 30
# token_urlsafe(32) gives 43 characters of [A-Za-z0-9_-]; anything else cannot be one of our tokens.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")

Clock = Callable[[], datetime]
NO_CONVERSATION = "No conversation with that id. It may have been deleted or never existed."


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewLink:
    """A freshly created link: the only moment the token exists outside the person's hands."""
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class SharedConversation:
    """What a valid token opens: the conversation, and until when."""
    conversation: Conversation
    expires_at: datetime


class Sharing:
    def __init__(self, db: Session, now: Clock = utcnow) -> None:
        self.db = db
        self.now = now

    def _conversation(self, conversation_id: str) -> Conversation:
        conversation = self.db.get(Conversation, conversation_id) if conversation_id else None
        if conversation is None:
            raise NotFound(NO_CONVERSATION)
        return conversation

    def create(self, conversation_id: str, expires_in_days: int = DEFAULT_DAYS) -> NewLink:
        if not isinstance(expires_in_days, int) or not MIN_DAYS <= expires_in_days <= MAX_DAYS:
            raise Invalid(f"A link can last from {MIN_DAYS} to {MAX_DAYS} days.",
                          fields={"expires_in_days": f"must be between {MIN_DAYS} and {MAX_DAYS}"})
        conversation = self._conversation(conversation_id)
        if conversation.parent_id is not None:  # a daily check-in: its intake's summary and exports show it
            raise NotFound("A check-in is shared with its intake: make the link with the intake's id.")
        if conversation.result_json is None:
            raise Conflict("Finish the conversation first: a link shares its summary.", code="not_finished")
        now = self.now()
        token = new_token()
        expires_at = now + timedelta(days=expires_in_days)
        self.db.add(Share(token_hash=token_hash(token), conversation_id=conversation.id, created_at=now,
                          expires_at=expires_at, revoked_at=None))
        try:
            self.db.commit()
        except IntegrityError:  # the conversation was deleted since it was read: the link has nothing to open
            self.db.rollback()
            raise NotFound(NO_CONVERSATION) from None
        return NewLink(token=token, expires_at=expires_at)

    def revoke_all(self, conversation_id: str) -> int:
        """Stop every link of the conversation; returns how many were still live."""
        conversation = self._conversation(conversation_id)
        revoked = self.db.execute(
            update(Share).where(Share.conversation_id == conversation.id, Share.revoked_at.is_(None))
            .values(revoked_at=self.now()))
        self.db.commit()
        return revoked.rowcount

    def active_links(self, conversation_id: str) -> int:
        now = self.now()
        rows = self.db.scalars(select(Share).where(Share.conversation_id == conversation_id,
                                                   Share.revoked_at.is_(None), Share.expires_at > now)).all()
        return len(rows)

    def resolve(self, token: str) -> SharedConversation:
        """The conversation behind a token; NotFound for a token we never issued (or whose conversation was
        deleted), Gone for one that expired or was revoked."""
        share = self.db.get(Share, token_hash(token)) if TOKEN_SHAPE.match(token or "") else None
        if share is None:
            raise NotFound("This link does not work. It may have been mistyped, or the conversation was deleted.")
        if share.revoked_at is not None:
            raise Gone("This link was switched off by the person who shared it.", reason="revoked")
        if share.expires_at <= self.now():
            raise Gone("This link has expired.", reason="expired")
        conversation = self.db.get(Conversation, share.conversation_id)
        if conversation is None:  # deleted; the share row goes with it, but be safe
            raise NotFound("This link does not work any more: the conversation was deleted.")
        return SharedConversation(conversation=conversation, expires_at=share.expires_at)
