"""Database tables (SQLAlchemy 2, typed). Times are naive UTC."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Conversation(Base):
    __tablename__ = "conversation"
    # a daily check-in belongs to an intake conversation: one per day (a second one the same day replaces it)
    __table_args__ = (UniqueConstraint("parent_id", "day", name="uq_conversation_parent_day"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(64))
    flow_version: Mapped[int]
    state: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    step: Mapped[int] = mapped_column(default=0)
    result_json: Mapped[str | None] = mapped_column(Text)
    # the result before an answer was changed (kept from the rewind until the conversation ends again)
    previous_result_json: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    parent_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("conversation.id", ondelete="CASCADE", name="fk_conversation_parent"))
    day: Mapped[date | None]


class Answer(Base):
    """Every answer ever given, so back/edit keeps history; the latest row per question counts."""
    __tablename__ = "answer"
    __table_args__ = (Index("ix_answer_conversation_step", "conversation_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(64))
    value_json: Mapped[str] = mapped_column(Text)
    step: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Share(Base):
    """A share link: only the SHA-256 of its token is stored."""
    __tablename__ = "share"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
