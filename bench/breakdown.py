"""Where the CPU time of one answer turn goes, layer by layer, in one process (no sockets, no gunicorn).

CPU time (time.process_time) per call, the best of a few repeats, for:
  floor            a bare Flask app's fixed-JSON route (test client)
  stack floor      the same route on the product app: Flask + the security stack (headers, CSRF, rate-limit hooks)
  answer turn      POST /api/v1/conversations/{id}/answers through the whole app (test client)
  service          conversations.Service.answer alone: database reads and writes, engine, result on the last turn
  engine           the engine part of a turn alone (as in engine_cost.py)
  request schema   marshmallow: AnswerRequest() and load() of the body (api.py)
  response schema  marshmallow: ConversationOut.dump() of a reply, which the turn no longer does (api.py sends the
                   service's dict as it is): shown for comparison, not part of the turn
What is left (answer turn - stack floor - service - request schema) is Flask's JSON body parsing and response
building.
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable

from common import OUT, SECRET_KEY, SQLITE_URL, reset_database


def cpu_per_call(function: Callable[[int], Any], calls: int, repeat: int = 3) -> float:
    """Milliseconds of CPU per call; `function(i)` is called with i = 0..calls*repeat-1 (fresh data each call)."""
    best = float("inf")
    for r in range(repeat):
        started = time.process_time()
        for i in range(r * calls, (r + 1) * calls):
            function(i)
        best = min(best, (time.process_time() - started) / calls * 1000)
    return best


def turns_for(client, count: int) -> list[tuple[str, str, dict]]:
    """(conversation id, path, body) for `count` turns, step by step across conversations."""
    from profile_turn import prepared
    turns = prepared(client, count // 12 + 2)[:count]
    return [(path.split("/")[4], path, body) for path, body in turns]


def run(url: str = SQLITE_URL, calls: int = 600) -> dict[str, Any]:
    from flask import Flask

    from assistant import create_app

    from assistant.store import db

    from assistant.web import schemas
    from assistant.engine.conversations import Service
    from engine_cost import conversation_turns, engine_turn
    from load import flow_engine

    reset_database(url)
    app = create_app({"SECRET_KEY": SECRET_KEY, "DATABASE_URL": url, "RATELIMIT_ENABLED": False,
                      "PUBLIC_URL": "https://bench.invalid"})
    app.add_url_rule("/bench/stack-floor", "stack_floor", lambda: {"status": "ok", "service": "floor"})
    client = app.test_client()
    bare = Flask("floor")
    bare.add_url_rule("/", "floor", lambda: {"status": "ok", "service": "floor"})
    bare_client = bare.test_client()
    repeat = 3
    http_turns = turns_for(client, calls * repeat + 50)
    service_turns = turns_for(client, calls * repeat + 50)
    for _, path, body in http_turns[:50]:  # warm caches and the connection pool
        client.post(path, json=body)

    def http_turn(i: int) -> None:
        _, path, body = http_turns[50 + i]
        response = client.post(path, json=body)
        assert response.status_code == 200, response.get_json()

    def service_turn(i: int) -> None:
        conversation_id, _, body = service_turns[50 + i]
        with app.app_context():
            Service(db.session(), app.extensions["engines"]).answer(conversation_id, body["question_id"],
                                                                    body["value"], body["step"])

    for i in range(-50, 0):
        service_turn(i)
    raw_bodies = [json.dumps(body) for _, _, body in http_turns]
    views = []
    with app.app_context():
        for conversation_id, _, _ in http_turns[:200:12]:
            views.append(Service(db.session(), app.extensions["engines"]).get(conversation_id))
    engine = flow_engine()
    engine_turns = conversation_turns()

    result = {
        "floor_ms": cpu_per_call(lambda i: bare_client.get("/"), calls, repeat),
        "stack_floor_ms": cpu_per_call(lambda i: client.get("/bench/stack-floor"), calls, repeat),
        "answer_turn_ms": cpu_per_call(http_turn, calls, repeat),
        "service_ms": cpu_per_call(service_turn, calls, repeat),
        "engine_ms": cpu_per_call(lambda i: engine_turn(engine, *engine_turns[i % len(engine_turns)]),
                                  calls, repeat),
        "request_schema_ms": cpu_per_call(lambda i: schemas.AnswerRequest().load(json.loads(raw_bodies[i])),
                                          calls, repeat),
        "response_schema_ms": cpu_per_call(lambda i: schemas.ConversationOut().dump(views[i % len(views)]),
                                           calls, repeat),
    }
    result["database_ms"] = max(result["service_ms"] - result["engine_ms"], 0.0)
    result["rest_ms"] = max(result["answer_turn_ms"] - result["stack_floor_ms"] - result["service_ms"]
                            - result["request_schema_ms"], 0.0)
    app.extensions["db_engine"].dispose()
    return {k: round(v, 3) for k, v in result.items()}


def main() -> None:
    import argparse

    from common import POSTGRES_URL, ensure_postgres_database
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=600)
    args = parser.parse_args()
    results = {"sqlite": run(SQLITE_URL, args.calls)}
    if ensure_postgres_database(POSTGRES_URL) is None:
        results["postgresql"] = run(POSTGRES_URL, args.calls)
    OUT.mkdir(exist_ok=True)
    (OUT / "breakdown.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
