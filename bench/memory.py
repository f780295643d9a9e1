"""Memory of one process that creates and finishes many conversations (default 10,000) through the whole app.

The Flask test client drives the production configuration on a SQLite file: each conversation is created and
answered to its end (the three bench people in turn), one request per turn, as a phone would. Every 1,000
conversations the script records the resident set size (RSS, from /proc) and the number of live Python objects after
a garbage collection. Flat means: after the first thousand (caches warm), readings do not keep growing with the
number of conversations. Then tracemalloc (which slows every allocation and takes memory of its own, so it stays out
of the readings above) traces 1,500 more conversations: the Python heap it sees after the first 500 (caches that
churn have refilled) is compared with the heap after the next 1,000; the difference is what those 1,000 kept.
"""
from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc
from typing import Any

from common import OUT, SECRET_KEY, reset_database

CHECKPOINT = 1000


def rss_kib() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def reading(done: int, started: float) -> dict[str, Any]:
    gc.collect()
    return {"conversations": done, "rss_mib": round(rss_kib() / 1024, 1), "objects": len(gc.get_objects()),
            "seconds": round(time.perf_counter() - started, 1)}


def run(conversations: int = 10_000, time_limit: float = 900) -> dict[str, Any]:
    from assistant import create_app
    from load import profile_paths
    url = f"sqlite:///{OUT / 'memory.sqlite3'}"
    OUT.mkdir(exist_ok=True)
    reset_database(url)
    app = create_app({"SECRET_KEY": SECRET_KEY, "DATABASE_URL": url, "RATELIMIT_ENABLED": False,
                      "PUBLIC_URL": "https://bench.invalid"})
    client = app.test_client()
    paths = profile_paths()
    started = time.perf_counter()
    turns = 0

    def converse(n: int) -> None:
        nonlocal turns
        response = client.post("/api/v1/conversations", json={"flow": "muscle-pain"})
        assert response.status_code == 201
        conversation = response.get_json()
        for question_id, value in paths[n % len(paths)]:
            response = client.post(f"/api/v1/conversations/{conversation['id']}/answers",
                                   json={"question_id": question_id, "value": value, "step": conversation["step"]})
            assert response.status_code == 200, response.get_json()
            conversation = response.get_json()
            turns += 1
        assert conversation["status"] == "finished", conversation["status"]

    readings = [reading(0, started)]
    done = 0
    for n in range(conversations):
        if time.perf_counter() - started > time_limit:
            break
        converse(n)
        done = n + 1
        if done % CHECKPOINT == 0:
            readings.append(reading(done, started))
            print(f"  {readings[-1]}", flush=True)
    if done % CHECKPOINT:
        readings.append(reading(done, started))
    measured_turns = turns
    traced: dict[str, Any] = {}
    if done >= CHECKPOINT:  # the traced window, after the readings
        tracemalloc.start()
        for n in range(done, done + CHECKPOINT // 2):
            converse(n)
        gc.collect()
        traced["start_bytes"] = tracemalloc.get_traced_memory()[0]
        first = tracemalloc.take_snapshot()
        for n in range(done + CHECKPOINT // 2, done + CHECKPOINT // 2 + CHECKPOINT):
            converse(n)
        gc.collect()
        traced["end_bytes"] = tracemalloc.get_traced_memory()[0]
        traced["top"] = [str(s) for s in tracemalloc.take_snapshot().compare_to(first, "lineno")[:5]]
        tracemalloc.stop()
    app.extensions["db_engine"].dispose()
    warm = next((r for r in readings if r["conversations"] >= CHECKPOINT), readings[-1])
    end = readings[-1]
    later = max(end["conversations"] - warm["conversations"], 1)
    summary = {
        "conversations": done, "turns": measured_turns, "time_limited": done < conversations,
        "readings": readings,
        "rss_growth_after_warmup_mib": round(end["rss_mib"] - warm["rss_mib"], 1),
        "rss_kib_per_conversation_after_warmup": round((end["rss_mib"] - warm["rss_mib"]) * 1024 / later, 3),
        "objects_growth_after_warmup": end["objects"] - warm["objects"],
        "traced_window": f"conversations {done + CHECKPOINT // 2 + 1:,}-{done + CHECKPOINT // 2 + CHECKPOINT:,}"
                         if "end_bytes" in traced else None,
        "traced_bytes_kept_per_conversation":
            round((traced["end_bytes"] - traced["start_bytes"]) / CHECKPOINT, 1) if "end_bytes" in traced else None,
        "traced_top": traced.get("top", []),
    }
    (OUT / "memory.json").write_text(json.dumps(summary, indent=2))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--time-limit", type=float, default=900, help="stop early after this many seconds")
    args = parser.parse_args()
    print(json.dumps(run(args.conversations, args.time_limit), indent=2))


if __name__ == "__main__":
    main()
