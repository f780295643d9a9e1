"""Where the time of a request goes: pyinstrument over many answer turns and assessments, in one process.

Goes through the whole Flask stack (test client, no socket) with the production configuration on SQLite (or
--database URL), so the profile shows request handling, the service, the engine, the ORM and the JSON output.
Prints the profile and writes bench/out/profile-<what>.txt.
"""
from __future__ import annotations

import argparse
import json
import time

from common import OUT, PROFILES, SECRET_KEY, reset_database


def make_client(url: str):
    from assistant import create_app
    app = create_app({"SECRET_KEY": SECRET_KEY, "DATABASE_URL": url, "RATELIMIT_ENABLED": False,
                      "PUBLIC_URL": "https://bench.invalid"})
    return app, app.test_client()


def prepared(client, conversations: int) -> list[tuple[str, dict]]:
    """Every turn of `conversations` conversations, ordered step by step (as the load test sends them)."""
    from load import profile_paths
    paths = profile_paths()
    ids = []
    for _ in range(conversations):
        response = client.post("/api/v1/conversations", json={"flow": "muscle-pain"})
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    turns = []
    for step in range(max(len(p) for p in paths)):
        for n, conversation_id in enumerate(ids):
            path = paths[n % len(paths)]
            if step < len(path):
                question_id, value = path[step]
                turns.append((f"/api/v1/conversations/{conversation_id}/answers",
                              {"question_id": question_id, "value": value, "step": step}))
    return turns


def profile(what: str, url: str, count: int, interval: float = 0.0005) -> tuple[str, float]:
    from pyinstrument import Profiler
    reset_database(url) if url.startswith("sqlite") else None
    app, client = make_client(url)
    if what == "answer":
        turns = prepared(client, max(1, count // 15 + 1))[:count]
        calls = [(path, body) for path, body in turns]
    else:
        calls = [("/api/v1/assess", {"flow": "muscle-pain", "answers": PROFILES[0]})] * count
    profiler = Profiler(interval=interval)
    started = time.perf_counter()
    profiler.start()
    for path, body in calls:
        response = client.post(path, json=body)
        assert response.status_code == 200, (path, response.status_code, response.get_json())
    profiler.stop()
    per_call_ms = (time.perf_counter() - started) / len(calls) * 1000
    app.extensions["db_engine"].dispose()
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    OUT.mkdir(exist_ok=True)
    (OUT / f"profile-{what}.txt").write_text(text)
    return text, per_call_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["answer", "assess"])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--database", default=f"sqlite:///{OUT / 'profile.sqlite3'}")
    args = parser.parse_args()
    text, per_call = profile(args.what, args.database, args.count)
    print(text)
    print(json.dumps({"what": args.what, "calls": args.count, "ms_per_call_with_profiler": round(per_call, 3)}))


if __name__ == "__main__":
    main()
