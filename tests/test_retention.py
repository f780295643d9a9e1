"""Retention: `flask purge` deletes conversations, answers and share links older than RETENTION_DAYS, and nothing else."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from assistant.store import db, retention
from assistant.store.models import Answer, Conversation, Share, utcnow

from .conftest import WIDESPREAD_PAIN, make_app


def count(app, model, **where) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return db.session().scalar(query)


def age(app, conversation_id: str, days: float) -> None:
    """Make a conversation (and its links) look `days` old."""
    then = utcnow() - timedelta(days=days)
    with app.app_context():
        session = db.session()
        session.execute(update(Conversation).where(Conversation.id == conversation_id)
                        .values(created_at=then, updated_at=then))
        session.execute(update(Share).where(Share.conversation_id == conversation_id)
                        .values(created_at=then, expires_at=then + timedelta(days=7)))
        session.commit()


def shared(client, talk) -> str:
    conversation = talk().through(WIDESPREAD_PAIN)
    response = client.post(f"/api/v1/conversations/{conversation.id}/shares", json={"expires_in_days": 7})
    assert response.status_code == 201, response.get_json()
    return conversation.id


def test_purge_deletes_old_conversations_with_answers_and_links_and_keeps_recent_ones(app, client, runner, talk):
    old, recent = shared(client, talk), shared(client, talk)
    age(app, old, days=31)
    age(app, recent, days=29)
    assert count(app, Answer, conversation_id=old) > 0

    result = runner.invoke(args=["purge"])

    assert result.exit_code == 0, result.output
    assert "Purged 1 conversation(s)" in result.output and "1 share link(s)" in result.output
    assert count(app, Conversation, id=old) == 0
    assert count(app, Answer, conversation_id=old) == 0
    assert count(app, Share, conversation_id=old) == 0
    assert count(app, Conversation, id=recent) == 1
    assert count(app, Answer, conversation_id=recent) > 0
    assert count(app, Share, conversation_id=recent) == 1
    assert client.get(f"/api/v1/conversations/{old}").status_code == 404
    assert client.get(f"/api/v1/conversations/{recent}/result").status_code == 200


def test_a_conversation_in_use_is_kept_even_when_it_was_started_long_ago(app, client, runner, talk):
    conversation = talk()
    then = utcnow() - timedelta(days=90)
    with app.app_context():
        db.session().execute(update(Conversation).where(Conversation.id == conversation.id).values(created_at=then))
        db.session().commit()
    assert runner.invoke(args=["purge"]).exit_code == 0
    assert client.get(f"/api/v1/conversations/{conversation.id}").status_code == 200


def test_old_links_of_a_conversation_still_in_use_are_deleted(app, client, runner, talk):
    conversation_id = shared(client, talk)
    then = utcnow() - timedelta(days=40)
    with app.app_context():
        db.session().execute(update(Share).where(Share.conversation_id == conversation_id)
                             .values(created_at=then, expires_at=then + timedelta(days=7)))
        db.session().commit()
    result = runner.invoke(args=["purge"])
    assert "Purged 0 conversation(s)" in result.output and "1 share link(s)" in result.output
    assert count(app, Share, conversation_id=conversation_id) == 0
    assert count(app, Conversation, id=conversation_id) == 1


def test_retention_days_setting_and_option(database_url, client, talk):
    app = make_app(database_url, RETENTION_DAYS=7)
    conversation = talk()
    age(app, conversation.id, days=8)
    runner = app.test_cli_runner()
    assert "Purged 0 conversation(s)" in runner.invoke(args=["purge", "--days", "9"]).output
    assert "older than 7 day(s)" in runner.invoke(args=["purge"]).output
    assert count(app, Conversation, id=conversation.id) == 0
    app.extensions["db_engine"].dispose()


def test_retention_default_is_30_days_and_the_environment_counts_at_start_up(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    app = make_app(url)
    assert retention.retention_days(app) == 30
    app.extensions["db_engine"].dispose()
    for name, value in (("RETENTION_DAYS", "14"), ("ASSISTANT_DEV", "1"), ("DATABASE_URL", url)):
        monkeypatch.setenv(name, value)
    from assistant import create_app
    app = create_app()
    assert retention.retention_days(app) == 14  # bad values stop the start: test_settings.py
    app.extensions["db_engine"].dispose()


def test_purge_all_empties_the_store_on_purpose_and_asks_first(app, client, runner, talk):
    for _ in range(2):
        shared(client, talk)  # recent conversations with live links: a plain purge keeps them
    before = {model: count(app, model) for model in (Conversation, Answer, Share)}
    assert before[Conversation] == 2 and before[Share] == 2
    declined = runner.invoke(args=["purge", "--all"], input="n\n")
    assert declined.exit_code != 0 and "cannot be undone" in declined.output
    assert {model: count(app, model) for model in before} == before
    assert runner.invoke(args=["purge", "--all", "--days", "3", "--yes"]).exit_code != 0
    done = runner.invoke(args=["purge", "--all", "--yes"])
    assert done.exit_code == 0, done.output
    assert "Purged 2 conversation(s)" in done.output and "nothing is stored now" in done.output
    assert {model: count(app, model) for model in before} == {Conversation: 0, Answer: 0, Share: 0}


def test_purge_output_names_no_one(app, client, runner, talk):
    conversation_id = shared(client, talk)
    age(app, conversation_id, days=45)
    output = runner.invoke(args=["purge"]).output
    assert conversation_id not in output
    assert not any(str(value) in output for value in WIDESPREAD_PAIN.values())


def test_purge_in_batches(app, client, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)
    ids = [client.post("/api/v1/conversations", json={}).get_json()["id"] for _ in range(5)]
    for conversation_id in ids:
        age(app, conversation_id, days=60)
    with app.app_context():
        purged = retention.purge(db.session(), 30)
    assert purged.conversations == 5
    assert count(app, Conversation) == 0


def test_purge_is_safe_to_repeat(app, runner):
    assert runner.invoke(args=["purge"]).exit_code == 0
    assert "Purged 0 conversation(s), 0 answer(s) and 0 share link(s)" in runner.invoke(args=["purge"]).output
