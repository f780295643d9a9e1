"""Retention: nothing is kept longer than RETENTION_DAYS (default 30). `flask purge` deletes what is older.

A conversation is old when it has not changed for RETENTION_DAYS (its `updated_at`); it goes with its answers, its
result, all its share links and its daily check-ins. Each check-in touches its intake, so an intake someone still
checks in on stays (its check-ins older than RETENTION_DAYS go on their own). A share link is also deleted on its
own once it was created, or has expired, more than RETENTION_DAYS ago, even when its conversation is still in use. Run `flask purge` daily (a cron job or the
platform's scheduler); it is safe to run at any time and from several machines at once. `flask purge --all` empties
the store on purpose (it asks first; `--yes` for scripts).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from assistant.store import db
from assistant.store.models import Answer, Conversation, Share, utcnow

BATCH = 500  # conversations per transaction: short locks, bounded memory


@dataclass(frozen=True)
class Purged:
    conversations: int = 0
    answers: int = 0
    shares: int = 0

    def __add__(self, other: "Purged") -> "Purged":
        return Purged(self.conversations + other.conversations, self.answers + other.answers,
                      self.shares + other.shares)


def retention_days(app: Flask) -> int:
    """RETENTION_DAYS: a whole number of days, at least 1 (30 unless set), checked at start-up (config.check)."""
    return app.config["RETENTION_DAYS"]


def cutoff_for(days: int, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=days)


def _purge_batch(session: Session, cutoff: datetime) -> Purged | None:
    """Delete one batch of old conversations with everything they own; None when there are none left."""
    query = select(Conversation.id).where(Conversation.updated_at < cutoff).order_by(Conversation.id).limit(BATCH)
    if session.get_bind().dialect.name == "postgresql":
        # Lock the rows so a turn arriving now waits and then finds the conversation gone (a clean 404), and skip
        # rows another purge already holds.
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if not ids:
        session.rollback()
        return None
    # an intake goes with its daily check-ins (each check-in touches its intake, so they are never newer)
    children = set(session.scalars(select(Conversation.id).where(Conversation.parent_id.in_(ids))))
    family = list(set(ids) | children)
    shares = session.execute(delete(Share).where(Share.conversation_id.in_(family))).rowcount
    answers = session.execute(delete(Answer).where(Answer.conversation_id.in_(family))).rowcount
    checkins = session.execute(delete(Conversation).where(Conversation.parent_id.in_(ids))).rowcount
    # Checked again: a conversation answered since it was selected stays (SQLite has no row locks to rely on).
    conversations = session.execute(
        delete(Conversation).where(Conversation.id.in_(ids), Conversation.updated_at < cutoff)).rowcount
    if conversations != len(set(ids) - children):
        session.rollback()  # someone came back to one of them in the meantime: leave this batch whole, retry
        return Purged()
    session.commit()
    return Purged(conversations + checkins, answers, shares)


def purge(session: Session, days: int, now: datetime | None = None) -> Purged:
    """Delete conversations (with answers, results, links) untouched for `days`, and links older than that."""
    return purge_before(session, cutoff_for(days, now))


def purge_all(session: Session) -> Purged:
    """Empty the store on purpose (`flask purge --all`): every conversation, answer, result and link."""
    return purge_before(session, datetime.max)


def purge_before(session: Session, cutoff: datetime) -> Purged:
    total, retries = Purged(), 0
    while (batch := _purge_batch(session, cutoff)) is not None:
        if batch == Purged():
            retries += 1
            if retries > 3:
                break
        total += batch
    old_links = session.execute(delete(Share).where(or_(Share.created_at < cutoff, Share.expires_at < cutoff)))
    session.commit()
    return total + Purged(shares=old_links.rowcount)


def _counts(purged: Purged) -> str:
    # Counts only: nothing about the people or their answers.
    return (f"Purged {purged.conversations} conversation(s), {purged.answers} answer(s) and {purged.shares} share "
            f"link(s)")


@click.command("purge")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Delete what is older than this many days (default: RETENTION_DAYS, 30 unless set).")
@click.option("--all", "everything", is_flag=True,
              help="Delete every conversation, answer and share link now, whatever its age (asks first).")
@click.option("--yes", is_flag=True, help="With --all: do not ask.")
@with_appcontext
def purge_command(days: int | None, everything: bool, yes: bool) -> None:
    """Delete conversations, answers and share links older than the retention period (or all of them)."""
    if everything:
        if days:
            raise click.UsageError("--all deletes everything; it does not go with --days.")
        if not yes:
            click.confirm("Delete every conversation, answer and share link now? This cannot be undone", abort=True)
        click.echo(f"{_counts(purge_all(db.session()))}: nothing is stored now.")
        return
    days = days or retention_days(current_app)
    click.echo(f"{_counts(purge(db.session(), days))} older than {days} day(s).")
