"""Turn cost against Flask's own floor: gunicorn (2 workers) on 127.0.0.1, wrk with 16 connections, fixed duration.

Targets, measured interleaved in the same run (floor, then the product on SQLite, then on PostgreSQL, round after
round) so that the noise of a shared machine falls on all of them alike:
  floor          GET / of bench/floor_app.py, a fixed JSON body
  stack floor    the same fixed JSON from a route added to the product app (bench/wsgi.py): Flask plus the
                 product's security stack (headers, CSRF, rate-limit hooks), no database
  answer         POST /api/v1/conversations/{id}/answers, every request a valid turn with its database write
  assess         POST /api/v1/assess with a whole set of answers (a full result, nothing stored)
Every answer round gets freshly prepared conversations, and afterwards the answer rows in the database are counted:
they must equal the requests wrk sent, with no non-2xx response.
"""
from __future__ import annotations

import argparse
import functools
import json
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from common import (BENCH, OUT, POSTGRES_URL, PROFILES, SQLITE_URL, Server, ensure_postgres_database,
                    reset_database, servers)

CONNECTIONS = 16
THREADS = 2
MAX_RPS = 9000  # turns prepared per second of a round: more than this machine can serve, so wrk never runs out


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if _is_root() else ["sudo"]
    for attempt in range(10):  # another apt-get may hold the dpkg lock for a while
        update = subprocess.run(sudo + ["apt-get", "update", "-qq"], capture_output=True, text=True)
        install = subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "wrk"], capture_output=True, text=True)
        if install.returncode == 0 and shutil.which("wrk"):
            return shutil.which("wrk")
        print(f"  apt-get install wrk failed (attempt {attempt + 1}): "
              f"{(install.stderr or update.stderr).strip().splitlines()[-1:]}; retrying in 15 s")
        time.sleep(15)
    raise RuntimeError("could not install wrk with apt-get")


def _is_root() -> bool:
    import os
    return os.geteuid() == 0


def wrk_version() -> str:
    done = subprocess.run([ensure_wrk(), "--version"], capture_output=True, text=True)
    first = (done.stdout or done.stderr).splitlines()[0].strip()  # "wrk debian/4.1.0-3+b2 [epoll] Copyright ..."
    return first.split(" [")[0].removeprefix("wrk ")


# --- preparing real turns -----------------------------------------------------------------------------------------

@functools.cache
def flow_engine():
    from assistant.config import PROJECT_ROOT
    from assistant.engine.machine import Engines
    from assistant.content.flows import load_flows
    return Engines(load_flows(PROJECT_ROOT / "flows")).get("muscle-pain")


@functools.cache
def profile_paths() -> list[list[tuple[str, Any]]]:
    """For each bench person, the questions the flow asks them in order, with their answer."""
    from assistant.engine.machine import FINISHED
    from assistant.content.flows import as_values
    engine = flow_engine()
    paths = []
    for profile in PROFILES:
        walk = engine.walk({q: as_values(v) for q, v in profile.items()})
        assert walk.end == FINISHED, walk
        paths.append([(q, profile[q]) for q in walk.visited])
    return paths


def prepare_turns(url: str, conversations: int, file: Path) -> int:
    """Insert fresh conversations at their first question and write every turn they will take, step by step."""
    from sqlalchemy import create_engine, insert

    from assistant.engine.conversations import new_id
    from assistant.store.db import make_engine
    from assistant.store.models import Conversation, utcnow
    engine = make_engine(url) if url.startswith("sqlite") else create_engine(url)
    paths = profile_paths()
    version = flow_engine().flow.version
    now = utcnow()
    ids = [new_id() for _ in range(conversations)]
    start = paths[0][0][0]
    with engine.begin() as connection:
        connection.execute(insert(Conversation), [
            {"id": i, "flow_id": "muscle-pain", "flow_version": version, "state": start, "status": "active", "step": 0,
             "created_at": now, "updated_at": now} for i in ids])
    engine.dispose()
    lines = 0
    with file.open("w") as out:
        for step in range(max(len(p) for p in paths)):
            for n, conversation_id in enumerate(ids):
                path = paths[n % len(paths)]
                if step < len(path):
                    question_id, value = path[step]
                    body = json.dumps({"question_id": question_id, "value": value, "step": step},
                                      separators=(",", ":"))
                    out.write(f"{n}\t/api/v1/conversations/{conversation_id}/answers\t{body}\n")
                    lines += 1
    return lines


def count_answers(url: str) -> int:
    from sqlalchemy import create_engine, func, select

    from assistant.store.models import Answer
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(Answer)).scalar_one()
    engine.dispose()
    return count


# --- running wrk --------------------------------------------------------------------------------------------------

def wrk(url: str, script: str, args: list[str], duration: float) -> dict[str, Any]:
    command = [ensure_wrk(), "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{duration:g}s", "--timeout", "5s",
               "-s", str(BENCH / script), url, "--", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    line = next((l for l in done.stdout.splitlines() if l.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-800:]} {done.stderr[-800:]}")
    result = json.loads(line[len("BENCH "):])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


class Target:
    def __init__(self, name: str, server: Server, kind: str, database: str | None = None) -> None:
        self.name, self.server, self.kind, self.database = name, server, kind, database
        self.runs: list[dict[str, Any]] = []

    def run(self, duration: float, record: bool = True) -> dict[str, Any]:
        if self.kind == "floor":
            result = wrk(self.server.url + "/", "fixed.lua", ["GET"], duration)
        elif self.kind == "stack":
            result = wrk(self.server.url + "/bench/stack-floor", "fixed.lua", ["GET"], duration)
        elif self.kind == "assess":
            body = OUT / "assess.json"
            body.write_text(json.dumps({"flow": "muscle-pain", "answers": PROFILES[0]}))
            result = wrk(self.server.url + "/api/v1/assess", "fixed.lua", ["POST", str(body)], duration)
        else:
            file = OUT / f"turns-{self.name}.tsv"
            paths = profile_paths()
            per_conversation = sum(len(p) for p in paths) / len(paths)
            conversations = int(MAX_RPS * duration / per_conversation) + 200
            prepared = prepare_turns(self.database, conversations, file)
            before = count_answers(self.database)
            result = wrk(self.server.url, "turns.lua", [str(file), str(THREADS)], duration)
            result["rows_written"] = count_answers(self.database) - before
            result["prepared"] = prepared
            if result["exhausted"]:
                raise RuntimeError(f"{self.name}: wrk used up all {prepared} prepared turns; raise MAX_RPS")
        if record:
            self.runs.append(result)
        return result


def summarise(targets: list[Target]) -> dict[str, Any]:
    floor = next(t for t in targets if t.kind == "floor")
    summary: dict[str, Any] = {}
    for target in targets:
        runs = target.runs
        entry = {
            "rps": statistics.median(r["rps"] for r in runs),
            "p50_ms": statistics.median(r["p50_us"] for r in runs) / 1000,
            "p99_ms": statistics.median(r["p99_us"] for r in runs) / 1000,
            "requests": sum(r["requests"] for r in runs),
            "non_2xx": sum(r["non_2xx"] for r in runs),
            "socket_errors": sum(r["socket_errors"] for r in runs),
            "rounds": len(runs),
            # ratio against the floor measured in the same round, then the median over rounds
            "rps_ratio": statistics.median(r["rps"] / f["rps"] for r, f in zip(runs, floor.runs)),
            "p99_ratio": statistics.median(r["p99_us"] / f["p99_us"] for r, f in zip(runs, floor.runs)),
            "per_round_rps": [round(r["rps"]) for r in runs],
        }
        if target.kind == "answer":
            entry["rows_written"] = sum(r["rows_written"] for r in runs)
            entry["turns_sent"] = sum(r["turns_sent"] for r in runs)
        summary[target.name] = entry
    return summary


def run(duration: float = 5, rounds: int = 4, warmup: float = 2) -> dict[str, Any]:
    OUT.mkdir(exist_ok=True)
    ensure_wrk()
    databases = {"sqlite": SQLITE_URL}
    postgres_problem = ensure_postgres_database(POSTGRES_URL)
    if postgres_problem:
        print(f"  PostgreSQL skipped: {postgres_problem}")
    else:
        databases["postgresql"] = POSTGRES_URL
    for url in databases.values():
        reset_database(url)
    floor = Server("floor", "floor_app:app")
    apps = {name: Server(name, "wsgi:app", {"BENCH_DATABASE_URL": url}) for name, url in databases.items()}
    targets = [Target("floor", floor, "floor"), Target("stack floor", apps["sqlite"], "stack")]
    for name, server in apps.items():
        targets.append(Target(f"answer ({name})", server, "answer", databases[name]))
        targets.append(Target(f"assess ({name})", server, "assess", databases[name]))
    with servers(floor, *apps.values()):
        for target in targets:
            target.run(warmup, record=False)
        for round_number in range(rounds):
            for target in targets:
                result = target.run(duration)
                print(f"  round {round_number + 1}/{rounds} {target.name:22s} {result['rps']:8.0f} req/s  "
                      f"p50 {result['p50_us'] / 1000:6.2f} ms  p99 {result['p99_us'] / 1000:6.2f} ms  "
                      f"non-2xx {result['non_2xx']}" +
                      (f"  rows {result['rows_written']}/{result['requests']}" if target.kind == "answer" else ""),
                      flush=True)
    summary = {"duration_s": duration, "rounds": rounds, "connections": CONNECTIONS, "threads": THREADS,
               "workers": 2, "databases": list(databases), "postgres_skipped": postgres_problem,
               "targets": summarise(targets)}
    (OUT / "load.json").write_text(json.dumps(summary, indent=2))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=5, help="seconds per target per round")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    summary = run(args.duration, args.rounds)
    print(json.dumps(summary["targets"], indent=2))


if __name__ == "__main__":
    main()
