"""Concurrent answers to one conversation, over real HTTP on a threaded server: exactly one is applied.

Runs on SQLite and on PostgreSQL (the `database_url` parametrization). Each round releases all threads at once with a
barrier; whatever the interleaving, one answer wins (200), every other gets 409 with the current conversation, and
the database holds exactly one answer row for the step.
"""
from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from assistant.store import db
from assistant.store.models import Answer, Conversation

from .conftest import call_json

THREADS = 6
ROUNDS = 4


class Server:
    def __init__(self, app) -> None:
        self.app = app
        self.httpd = make_server("127.0.0.1", 0, app, threaded=True)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "Server":
        self.thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.httpd.shutdown()
        self.thread.join(10)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return call_json(self.base + path, method, body)


@pytest.fixture
def server(app):
    with Server(app) as running:
        yield running


def at_once(calls: list[tuple[str, str, Any]], server: Server) -> list[tuple[int, Any]]:
    """Run every call in its own thread, all released together."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[int, Any] | None] = [None] * len(calls)

    def run(i: int, method: str, path: str, body: Any) -> None:
        barrier.wait(timeout=30)
        results[i] = server.call(method, path, body)

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(result is not None for result in results)
    return results  # type: ignore[return-value]


def answer_rows(app, conversation_id: str) -> list[Answer]:
    with app.app_context():
        return list(db.session().scalars(select(Answer).where(Answer.conversation_id == conversation_id)
                                         .order_by(Answer.id)))


def stored_step(app, conversation_id: str) -> int:
    with app.app_context():
        return db.session().get(Conversation, conversation_id).step


def options_of(conversation: dict[str, Any]) -> list[Any]:
    """The question's values, leaving out the one answer that ends the conversation at once (under 18)."""
    question = conversation["question"]
    values = [o["value"] for o in question["options"] if o["value"] != "under_18"]
    if question["type"] == "multi":
        return [[v] for v in values]
    return values


def test_concurrent_different_answers_apply_exactly_one(app, server):
    status, conversation = server.call("POST", "/api/v1/conversations", {"flow": "muscle-pain"})
    assert status == 201
    cid = conversation["id"]
    for _ in range(ROUNDS):
        step, question = conversation["step"], conversation["question"]["id"]
        values = (options_of(conversation) * THREADS)[:THREADS]
        if question == "red_flags":  # keep going rather than stopping on an emergency answer
            values = [["none"]] * THREADS
        results = at_once([("POST", f"/api/v1/conversations/{cid}/answers",
                            {"question_id": question, "value": value, "step": step}) for value in values], server)
        statuses = Counter(status for status, _ in results)
        winners = [body for status, body in results if status == 200]
        assert statuses[200] >= 1, statuses
        assert set(statuses) <= {200, 409}, statuses
        for status, body in results:
            if status == 409:
                assert body["error"]["code"] == "stale_step"
                assert body["error"]["conversation"]["step"] == step + 1
        # Several 200s are possible only for identical answers (an idempotent retry); one row either way.
        assert len({json.dumps(body["answers"][question]) for body in winners}) == 1
        rows = [row for row in answer_rows(app, cid) if row.step == step]
        assert len(rows) == 1, [(row.question_id, row.value_json) for row in rows]
        assert json.loads(rows[0].value_json) == winners[0]["answers"][question]
        assert stored_step(app, cid) == step + 1
        conversation = winners[0]
    assert len(answer_rows(app, cid)) == ROUNDS


def test_a_storm_of_identical_retries_stores_one_answer(app, server):
    status, conversation = server.call("POST", "/api/v1/conversations", {})
    cid, step = conversation["id"], conversation["step"]
    body = {"question_id": "age_band", "value": "40_49", "step": step}
    results = at_once([("POST", f"/api/v1/conversations/{cid}/answers", body)] * THREADS, server)
    assert [status for status, _ in results] == [200] * THREADS  # the same answer sent at once: idempotent
    for _, current in results:
        assert current["step"] == step + 1 and current["answers"] == {"age_band": "40_49"}
    assert len(answer_rows(app, cid)) == 1
    # and a late retry after the storm is still the idempotent 200
    assert server.call("POST", f"/api/v1/conversations/{cid}/answers", body)[0] == 200
    assert len(answer_rows(app, cid)) == 1


def test_answer_racing_a_rewind_ends_in_one_serial_order(app, server):
    """A rewind names no step, so both may apply one after the other; never both on the same step."""
    _, conversation = server.call("POST", "/api/v1/conversations", {})
    cid = conversation["id"]
    _, conversation = server.call("POST", f"/api/v1/conversations/{cid}/answers",
                                  {"question_id": "age_band", "value": "40_49", "step": 0})
    step = conversation["step"]
    (answered, _), (rewound, _) = at_once([
        ("POST", f"/api/v1/conversations/{cid}/answers", {"question_id": "red_flags", "value": ["none"], "step": step}),
        ("POST", f"/api/v1/conversations/{cid}/rewind", {"question_id": "age_band"}),
    ], server)
    assert {answered, rewound} <= {200, 409} and 200 in (answered, rewound)
    applied = [answered, rewound].count(200)
    assert stored_step(app, cid) == step + applied
    _, final = server.call("GET", f"/api/v1/conversations/{cid}")
    red_flag_rows = [row for row in answer_rows(app, cid) if row.question_id == "red_flags"]
    if rewound == 200:  # alone, or after the answer: back at age_band, the answer (if any) kept as a suggestion
        assert final["question"]["id"] == "age_band" and "red_flags" not in final["answers"]
        assert len(red_flag_rows) == (1 if answered == 200 else 0)
        if answered == 200:
            assert final["suggestions"]["red_flags"] == ["none"]
    else:  # the rewind lost the race against the answer
        assert final["answers"]["red_flags"] == ["none"] and len(red_flag_rows) == 1


def test_many_conversations_in_parallel_do_not_disturb_each_other(app, server):
    conversations = [server.call("POST", "/api/v1/conversations", {})[1] for _ in range(THREADS)]
    results = at_once([("POST", f"/api/v1/conversations/{c['id']}/answers",
                        {"question_id": "age_band", "value": "65_plus", "step": 0}) for c in conversations], server)
    assert [status for status, _ in results] == [200] * THREADS
    for conversation in conversations:
        assert len(answer_rows(app, conversation["id"])) == 1
