"""Storage outages: 503 with a clear JSON error or a friendly page, nothing half-written, and recovery by itself.

- PostgreSQL is reached through a small TCP proxy that this test stops and starts, as a network cut or a database
  restart would; the proxy can also cut the connection in the middle of a turn (after the step was moved on, before
  the answer row is written), to show that a turn is one transaction.
- SQLite is locked by another process holding a write transaction (a backup tool or a migration would): writes
  cannot happen, so they answer 503 and change nothing, and they work again once the lock is gone.
- SQLite opened while its file was read-only (a restore, a wrong chown): 503 while it is, writes again once the
  permissions are back, and a clear message at start-up.
The app is never restarted or touched between outage and recovery.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint, current_app
from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import make_url

from assistant.store import db
from assistant.engine.conversations import Service
from assistant.store.models import Answer, Conversation

from .conftest import _empty_postgres, make_app
from .tcp_proxy import TcpProxy

TOKEN_SHAPED = "T" * 43


# --- a page that reads or writes, whatever the chat pages look like today -------------------------------------------

def page_blueprint() -> Blueprint:
    bp = Blueprint("outage_page", __name__)

    @bp.get("/test-outage-page")
    def page():
        conversation = Service(db.session(), current_app.extensions["engines"]).create("muscle-pain")
        return f"<p>started {len(conversation['id'])}</p>"

    return bp


def state(engine, conversation_id: str) -> dict[str, Any]:
    """What the database really holds, read around the app."""
    with engine.connect() as connection:
        conversation = connection.execute(select(Conversation).where(Conversation.id == conversation_id)).one()
        answers = connection.execute(select(Answer.question_id, Answer.step)
                                     .where(Answer.conversation_id == conversation_id).order_by(Answer.id)).all()
    return {"step": conversation.step, "state": conversation.state, "answers": [tuple(a) for a in answers]}


def assert_unavailable_json(response) -> None:
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "unavailable"
    assert "nothing was saved" in error["message"]
    assert int(response.headers["Retry-After"]) > 0


def assert_unavailable_page(response) -> None:
    assert response.status_code == 503
    assert "text/html" in response.content_type
    text = response.get_data(as_text=True)
    assert "right back" in text and "nothing was saved" in text
    assert "Traceback" not in text and "OperationalError" not in text


def answer(client, conversation: dict[str, Any], value: Any):
    return client.post(f"/api/v1/conversations/{conversation['id']}/answers",
                       json={"question_id": conversation["question"]["id"], "value": value,
                             "step": conversation["step"]})


# --- PostgreSQL through the proxy -------------------------------------------------------------------------------------

@pytest.fixture
def proxied(postgres_url):
    _empty_postgres(postgres_url)
    real = make_url(postgres_url)
    proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432))
    proxy.start()
    # No TLS through the proxy, so it can see where a statement begins.
    url = real.set(host="127.0.0.1", port=proxy.port, query={**real.query, "sslmode": "disable"})
    app = make_app(url.render_as_string(hide_password=False))
    app.register_blueprint(page_blueprint())
    direct = create_engine(postgres_url)
    yield app, proxy, direct
    proxy.stop()
    app.extensions["db_engine"].dispose()
    direct.dispose()


@pytest.mark.postgres
def test_postgresql_down_is_503_json_and_page_and_recovers_by_itself(proxied):
    app, proxy, direct = proxied
    client = app.test_client()
    conversation = client.post("/api/v1/conversations", json={}).get_json()
    conversation = answer(client, conversation, "40_49").get_json()
    before = state(direct, conversation["id"])

    proxy.stop()  # the database is gone: open connections drop, new ones are refused
    assert_unavailable_json(client.get(f"/api/v1/conversations/{conversation['id']}"))
    assert_unavailable_json(answer(client, conversation, ["none"]))
    assert_unavailable_json(client.post("/api/v1/conversations", json={}))
    assert_unavailable_page(client.get("/test-outage-page"))
    assert_unavailable_page(client.get(f"/s/{TOKEN_SHAPED}"))
    fhir = client.get(f"/s/{TOKEN_SHAPED}/fhir", headers={"Accept": "application/fhir+json"})
    assert fhir.status_code == 503 and fhir.get_json()["error"]["code"] == "unavailable"
    assert state(direct, conversation["id"]) == before  # nothing was written

    proxy.start()  # the database is back; the app is not restarted
    again = client.get(f"/api/v1/conversations/{conversation['id']}")
    assert again.status_code == 200 and again.get_json()["step"] == conversation["step"]
    resumed = answer(client, conversation, ["none"])
    assert resumed.status_code == 200, resumed.get_json()
    assert client.get("/test-outage-page").status_code == 200
    assert state(direct, conversation["id"])["step"] == before["step"] + 1


@pytest.mark.postgres
def test_a_turn_cut_in_the_middle_leaves_nothing_half_written(proxied):
    app, proxy, direct = proxied
    client = app.test_client()
    conversation = client.post("/api/v1/conversations", json={}).get_json()
    before = state(direct, conversation["id"])

    proxy.cut_when(b"INSERT INTO answer")  # the write that moves the step on and stores the answer row
    assert_unavailable_json(answer(client, conversation, "40_49"))
    assert proxy.cuts == 1
    assert state(direct, conversation["id"]) == before  # neither the step nor the answer: the turn rolled back

    retried = answer(client, conversation, "40_49")  # the phone retries the same answer: it applies once
    assert retried.status_code == 200, retried.get_json()
    after = state(direct, conversation["id"])
    assert after["step"] == before["step"] + 1 and after["answers"] == [("age_band", 0)]
    assert answer(client, conversation, "40_49").status_code == 200  # an identical retry stays idempotent
    assert state(direct, conversation["id"]) == after


@pytest.mark.postgres
def test_a_silent_postgresql_answers_503_fast_and_recovers_by_itself(proxied):
    """Connections open, no answers: the turn, a new conversation and a page answer 503 before the frozen proxy's
    guard (30 s) would thaw it, i.e. on the app's own timeouts (at most 2 s + 2 s by db.py's settings)."""
    app, proxy, direct = proxied
    client = app.test_client()
    conversation = client.post("/api/v1/conversations", json={}).get_json()
    conversation = answer(client, conversation, "40_49").get_json()
    before = state(direct, conversation["id"])

    proxy.freeze()
    try:
        assert_unavailable_json(answer(client, conversation, ["none"]))  # its pooled connection went silent
        assert_unavailable_json(client.post("/api/v1/conversations", json={}))  # a new one cannot open either
        assert_unavailable_page(client.get("/test-outage-page"))
        assert proxy.frozen, "the requests ended only because the guard thawed the database"
    finally:
        proxy.thaw()
    assert state(direct, conversation["id"]) == before

    resumed = answer(client, conversation, ["none"])  # the database is back; the app is not restarted
    assert resumed.status_code == 200, resumed.get_json()
    assert state(direct, conversation["id"])["answers"] == [("age_band", 0), ("red_flags", 1)]


@pytest.mark.postgres
def test_a_database_going_silent_in_the_middle_of_a_turn_leaves_nothing_half_written(proxied):
    app, proxy, direct = proxied
    client = app.test_client()
    conversation = client.post("/api/v1/conversations", json={}).get_json()
    before = state(direct, conversation["id"])

    proxy.freeze_when(b"INSERT INTO answer")  # the write that moves the step on is sent; then silence
    assert_unavailable_json(answer(client, conversation, "40_49"))
    assert proxy.frozen, "the turn ended only because the guard thawed the database"
    proxy.thaw()  # what was held back now arrives, without a COMMIT, on a connection the app has closed
    retried = answer(client, conversation, "40_49")
    assert retried.status_code == 200, retried.get_json()
    after = state(direct, conversation["id"])
    assert after["step"] == before["step"] + 1 and after["answers"] == [("age_band", 0)]


@pytest.mark.postgres
def test_a_restart_seen_by_an_idle_pooled_connection_costs_no_request(proxied, monkeypatch):
    """A connection that sat idle in the pool is pinged before use: after a database restart (every connection
    dropped) the next request gets a fresh connection instead of an error."""
    app, proxy, direct = proxied
    client = app.test_client()
    conversation = client.post("/api/v1/conversations", json={}).get_json()
    proxy.stop()
    time.sleep(0.3)  # the proxy's listener thread lets go of its port
    proxy.start()  # a restart: the pooled connection is dead, new ones open
    monkeypatch.setattr(db, "IDLE_BEFORE_PING", 0.0)  # any idle time counts as long
    resumed = answer(client, conversation, "40_49")
    assert resumed.status_code == 200, resumed.get_json()
    assert state(direct, conversation["id"])["answers"] == [("age_band", 0)]


@pytest.mark.postgres
def test_a_connection_in_steady_use_is_not_pinged_on_every_request(proxied, monkeypatch):
    """The ping is one more round trip to the server: requests that follow each other closely go without it."""
    app, proxy, direct = proxied
    pings = []
    dialect = app.extensions["db_engine"].dialect
    real_ping = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda connection: pings.append(1) or real_ping(connection))
    client = app.test_client()
    conversation = client.post("/api/v1/conversations", json={}).get_json()
    for value in ("40_49", ["none"]):
        conversation = answer(client, conversation, value).get_json()
    assert conversation["step"] == 2
    assert pings == []
    monkeypatch.setattr(db, "IDLE_BEFORE_PING", 0.0)
    assert client.get(f"/api/v1/conversations/{conversation['id']}").status_code == 200
    assert pings == [1]  # idle long enough: pinged once before use


def test_every_pooled_connection_busy_is_503_not_500(tmp_path):
    """The pool's own timeout (all its connections in use for longer than it waits) is storage unavailable too."""
    from sqlalchemy.exc import TimeoutError as PoolTimeout
    app = make_app(f"sqlite:///{tmp_path / 'pool.sqlite3'}")
    bp = Blueprint("pool_busy", __name__)

    @bp.get("/test-pool-busy")
    def busy():
        raise PoolTimeout("QueuePool limit reached")

    app.register_blueprint(bp)
    assert_unavailable_page(app.test_client().get("/test-pool-busy"))


def test_database_timeouts_add_up_to_less_than_five_seconds():
    """The worst case of a request on a silent database: its pooled connection times out, the reconnect too."""
    from assistant.store.db import ANSWER_TIMEOUT, CONNECT_TIMEOUT, SERVER_TIMEOUTS
    assert ANSWER_TIMEOUT + CONNECT_TIMEOUT < 5
    assert int(SERVER_TIMEOUTS["statement_timeout"].removesuffix("ms")) < ANSWER_TIMEOUT * 1000


# --- SQLite locked by another process ------------------------------------------------------------------------------

LOCK_HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def sqlite_app(tmp_path):
    path = tmp_path / "outage.sqlite3"
    url = f"sqlite:///{path}"
    db.upgrade(url)
    app = make_app(url)
    app.register_blueprint(page_blueprint())

    @event.listens_for(app.extensions["db_engine"], "connect")
    def _wait_less(dbapi_connection, _record):  # the default 5 s wait for a lock, shortened to keep the test quick
        dbapi_connection.execute("PRAGMA busy_timeout=200")

    yield app, path
    app.extensions["db_engine"].dispose()


def test_sqlite_locked_by_another_process_is_503_and_recovers(sqlite_app):
    app, path = sqlite_app
    client = app.test_client()
    conversation = client.post("/api/v1/conversations", json={}).get_json()
    direct = create_engine(f"sqlite:///{path}")
    before = state(direct, conversation["id"])

    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert_unavailable_json(answer(client, conversation, "40_49"))
        assert_unavailable_json(client.post("/api/v1/conversations", json={}))
        assert_unavailable_page(client.get("/test-outage-page"))
        reading = client.get(f"/api/v1/conversations/{conversation['id']}")  # reads still work under WAL
        assert reading.status_code == 200 and reading.get_json()["step"] == before["step"]
    finally:
        holder.stdin.close()
        holder.wait(10)
        holder.stdout.close()
    assert state(direct, conversation["id"]) == before

    resumed = answer(client, conversation, "40_49")
    assert resumed.status_code == 200, resumed.get_json()
    assert state(direct, conversation["id"])["answers"] == [("age_band", 0)]
    assert client.get("/test-outage-page").status_code == 200
    direct.dispose()


# --- SQLite opened while read-only ----------------------------------------------------------------------------------

NOBODY = 65534


@contextmanager
def as_app_user():
    """File permissions mean nothing to root: when the tests run as root, the app's part runs as `nobody`."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture
def app_folder(tmp_path):
    # As `nobody`, Python cannot import from root's own folders: import everything a request needs first.
    warm = make_app(f"sqlite:///{tmp_path / 'warm.sqlite3'}")
    db.upgrade(warm.config["DATABASE_URL"])
    answer(warm.test_client(), warm.test_client().post("/api/v1/conversations", json={}).get_json(), "40_49")
    warm.extensions["db_engine"].dispose()
    folder = Path(tempfile.mkdtemp(prefix="assistant-ro-"))
    folder.chmod(0o755)
    if os.geteuid() == 0:
        os.chown(folder, NOBODY, NOBODY)
    yield folder
    folder.chmod(0o755)
    shutil.rmtree(folder)


def test_sqlite_opened_read_only_writes_again_once_permissions_are_back(app_folder, caplog):
    path = app_folder / "assistant.sqlite3"
    url = f"sqlite:///{path}"
    with as_app_user():
        db.upgrade(url)
    path.chmod(0o444)
    caplog.set_level(logging.ERROR, logger="assistant.store.db")
    with as_app_user():
        app = make_app(url)
        client = app.test_client()
        assert_unavailable_json(client.post("/api/v1/conversations", json={}))
        assert_unavailable_json(client.post("/api/v1/conversations", json={}))
    # SQLite created -wal/-shm with the database's read-only mode; they stay so after the file is fixed
    assert any(not (Path(f"{path}{s}").stat().st_mode & 0o200) for s in ("-wal", "-shm"))

    path.chmod(0o644)  # permissions restored; the app is not restarted
    with as_app_user():
        statuses = []
        for _ in range(3):
            statuses.append(client.post("/api/v1/conversations", json={}).status_code)
            if statuses[-1] == 201:
                break
        assert statuses[-1] == 201 and statuses.count(503) <= 1, statuses  # at most the request that found out
        conversation = client.post("/api/v1/conversations", json={}).get_json()
        assert answer(client, conversation, "40_49").status_code == 200
    app.extensions["db_engine"].dispose()
    said = [r.getMessage() for r in caplog.records if r.name == "assistant.store.db"]
    assert said and f"{path} is read-only" in said[0] and "without a restart" in said[0], said  # at start-up


def test_an_answer_on_a_read_only_sqlite_is_503_and_applies_once_writable(app_folder):
    """A turn's statements run on the driver's cursor (store/driver.py): a read-only file is still a 503 for an
    answer and a rewind, never a 500, and the same answer applies once the permissions are back."""
    path = app_folder / "assistant.sqlite3"
    url = f"sqlite:///{path}"
    with as_app_user():
        db.upgrade(url)
        app = make_app(url)
        started = app.test_client().post("/api/v1/conversations", json={}).get_json()
        conversation = answer(app.test_client(), started, "40_49").get_json()  # at the warning signs, step 1
        app.extensions["db_engine"].dispose()
    path.chmod(0o444)
    with as_app_user():
        app = make_app(url)
        client = app.test_client()
        rewind = f"/api/v1/conversations/{conversation['id']}/rewind"
        assert_unavailable_json(answer(client, conversation, ["none"]))
        assert_unavailable_json(client.post(rewind, json={"question_id": "age_band"}))
        assert client.post(rewind, json={"question_id": "red_flags"}).status_code == 200  # already there: no write
    path.chmod(0o644)
    with as_app_user():
        statuses = []
        for _ in range(3):
            statuses.append(answer(client, conversation, ["none"]).status_code)
            if statuses[-1] == 200:
                break
        assert statuses[-1] == 200 and statuses.count(503) <= 1, statuses
    app.extensions["db_engine"].dispose()


def test_start_up_says_clearly_when_the_database_folder_is_not_writable(app_folder, caplog):
    path = app_folder / "assistant.sqlite3"
    url = f"sqlite:///{path}"
    with as_app_user():
        db.upgrade(url)
    caplog.set_level(logging.ERROR, logger="assistant.store.db")
    with as_app_user():
        make_app(url).extensions["db_engine"].dispose()
    assert not [r for r in caplog.records if r.name == "assistant.store.db"]  # all is well: nothing said

    app_folder.chmod(0o555)
    with as_app_user():
        app = make_app(url)
        assert_unavailable_json(app.test_client().post("/api/v1/conversations", json={}))
        app.extensions["db_engine"].dispose()
    said = [r.getMessage() for r in caplog.records if r.name == "assistant.store.db"]
    assert said and f"the folder {app_folder} is not writable" in said[0], said
    assert "assistant.sqlite3-wal" in said[0] and "503" in said[0]
