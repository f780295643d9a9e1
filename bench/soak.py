"""The soak (part of `make bench`, or `make soak` alone): 200 simulated phones for 10 minutes against 2 gunicorn workers
on PostgreSQL, served as the Procfile serves it (gunicorn.conf.py), with one worker killed with SIGKILL and the
database frozen for 20 s mid-run. Afterwards every answer a phone logged as accepted must be in the database exactly
once. Writes bench/out/soak.json and its own section of docs/performance.md.

  python bench/soak.py                     the full run (10 min, 200 phones, kill at 3 min, freeze at 5 min)
  python bench/soak.py --minutes 2 --users 40 --kill-at 40 --freeze-at 70      a short smoke run
  python bench/soak.py --doc-only          the section of docs/performance.md again, from bench/out/soak.json

The phones (bench/soak_phone.py, locust headless) each use their own 127.x source address, so per-client rate
limits hold as for real phones; the database is reached through a TCP proxy (tests/tcp_proxy.py) that the run
freezes: connections stay open and nothing answers, as with a hung server. Rate limits are counted in Redis when it
answers on 127.0.0.1:6379 (database 14, emptied first), as in production.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from common import BENCH, HOST, OUT, ROOT, SECRET_KEY, VENV_BIN, Server, ensure_postgres_database, reset_database, \
    wait_for_port

DOC = BENCH.parent / "docs" / "performance.md"
HEADING = "## Soak: 200 phones, a worker killed, the database frozen"
SOAK_URL = os.environ.get("BENCH_SOAK_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/soak")
REDIS_URL = "redis://127.0.0.1:6379/14"


class ProcfileServer(Server):
    """gunicorn started the Procfile's way (`-c gunicorn.conf.py`), on 127.0.0.1."""

    def start(self) -> "ProcfileServer":
        OUT.mkdir(exist_ok=True)
        command = [str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"{HOST}:{self.port}",
                   "--chdir", str(ROOT), "--error-logfile", str(self.log), self.app]
        self.process = subprocess.Popen(command, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        wait_for_port(self.port, timeout=60)
        return self


def redis_answers() -> bool:
    try:
        import redis
        connection = redis.Redis.from_url(REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        connection.flushdb()
        return True
    except Exception:  # no Redis: each worker counts its own limits, as the app does without REDIS_URL
        return False


def percentiles(stats_csv: Path) -> dict[str, Any]:
    with stats_csv.open() as handle:
        row = next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")
    return {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
            "p50_ms": float(row["50%"]), "p99_ms": float(row["99%"]), "max_ms": float(row["Max Response Time"]),
            "rps": float(row["Requests/s"])}


def check_answers(log: Path, url: str) -> dict[str, Any]:
    """Each accepted answer against the database: found once, lost (not there) or doubled (more than once)."""
    from sqlalchemy import create_engine, text
    accepted, statuses = [], Counter()
    for line in log.read_text().splitlines():
        record = json.loads(line)
        if "statuses" in record:
            statuses.update(record["statuses"])
        else:
            accepted.append(record)
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = Counter((c, q, s, v) for c, q, s, v in connection.execute(
            text("SELECT conversation_id, question_id, step, value_json FROM answer")))
    engine.dispose()
    seen = Counter((a["conversation"], a["question_id"], a["step"], json.dumps(a["value"])) for a in accepted)
    found = sum(1 for key in seen if rows.get(key) == 1)
    lost = sum(1 for key in seen if not rows.get(key))
    doubled = sum(1 for key in seen if rows.get(key, 0) > 1) + sum(n - 1 for n in seen.values() if n > 1)
    unconfirmed = sum(rows.values()) - sum(rows[key] for key in seen if key in rows)
    five_xx = {code: n for code, n in statuses.items() if code.isdigit() and int(code) >= 500}
    return {"accepted": len(accepted), "found": found, "lost": lost, "doubled": doubled,
            "stored_but_never_confirmed": unconfirmed, "statuses": dict(statuses),
            "5xx_other_than_503": sum(n for code, n in five_xx.items() if code != "503"),
            "503": five_xx.get("503", 0)}


def worker_pids(server: Server) -> list[int]:
    return [pid for pid in server.pids() if pid != server.process.pid]


def run(args: argparse.Namespace) -> dict[str, Any]:
    problem = ensure_postgres_database(SOAK_URL)
    if problem:
        raise SystemExit(f"the soak needs PostgreSQL: {problem}")
    reset_database(SOAK_URL)
    from sqlalchemy.engine import make_url

    from tests.tcp_proxy import TcpProxy  # the same proxy the outage tests use (ROOT is on sys.path: common.py)
    real = make_url(SOAK_URL)
    proxy = TcpProxy((real.host or HOST, real.port or 5432))
    proxy.thaw_after = args.freeze_seconds + 5  # never frozen for longer than asked, whatever happens here
    proxy.start()
    through_proxy = real.set(host=HOST, port=proxy.port, query={**real.query, "sslmode": "disable"})
    redis = redis_answers()
    env = {"DATABASE_URL": through_proxy.render_as_string(hide_password=False), "SECRET_KEY": SECRET_KEY,
           "PUBLIC_URL": "https://soak.invalid", "WEB_CONCURRENCY": "2", "TRUSTED_PROXIES": "0"}
    env.update({"REDIS_URL": REDIS_URL} if redis else {})
    server = ProcfileServer("soak", "assistant:create_app()", env=env)
    for name in ("ASSISTANT_DEV", "FORCE_HTTPS", "REDIS_URL"):  # production: only what is set above
        if name not in env:
            server.env.pop(name, None)
    log = OUT / "soak-accepted.jsonl"
    log.unlink(missing_ok=True)
    events: list[str] = []
    load_at_start = os.getloadavg()[0]
    server.start()
    locust = None
    try:
        locust = subprocess.Popen(
            [str(VENV_BIN / "locust"), "-f", str(BENCH / "soak_phone.py"), "--headless", "-u", str(args.users),
             "-r", str(max(1, args.users // 10)), "-t", f"{int(args.minutes * 60)}s", "--host", server.url,
             "--csv", str(OUT / "soak"), "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING"],
            env={**os.environ, "SOAK_LOG": str(log)}, stdout=(OUT / "soak-locust.log").open("w"),
            stderr=subprocess.STDOUT)
        started = time.monotonic()

        def at(seconds: float) -> None:
            time.sleep(max(0.0, started + seconds - time.monotonic()))

        at(args.kill_at)
        victim = worker_pids(server)[0]
        os.kill(victim, signal.SIGKILL)
        events.append(f"{args.kill_at:.0f} s: SIGKILL to gunicorn worker {victim}")
        at(args.freeze_at)
        proxy.freeze()
        events.append(f"{args.freeze_at:.0f} s: database frozen (connections open, no answers)")
        time.sleep(args.freeze_seconds)
        proxy.thaw()
        events.append(f"{args.freeze_at + args.freeze_seconds:.0f} s: database answers again")
        locust.wait(timeout=args.minutes * 60 + 120)
    finally:
        if locust is not None and locust.poll() is None:
            locust.terminate()
            locust.wait(30)
        server.stop()
        proxy.stop()
    result = {"users": args.users, "minutes": args.minutes, "workers": 2, "database": "postgresql",
              "rate_limits_in": "redis" if redis else "each worker's memory", "events": events,
              "load_average": {"start": load_at_start, "end": os.getloadavg()[0]},
              **percentiles(OUT / "soak_stats.csv"), **check_answers(log, SOAK_URL)}
    (OUT / "soak.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def section(r: dict[str, Any]) -> str:
    ok = r["lost"] == 0 and r["doubled"] == 0 and r["5xx_other_than_503"] == 0
    lines = [
        HEADING, "",
        f"`make soak` (also run by `make bench`): {r['users']} simulated phones (locust headless, each its own 127.x "
        f"source address) held whole conversations for {r['minutes']:g} minutes against 2 gunicorn workers started "
        f"as the Procfile starts them, on PostgreSQL through a proxy, rate limits in {r['rate_limits_in']}. "
        "Mid-run: " + "; ".join(r["events"]) + ". Each phone retried an answer after a 503, a broken connection or a "
        "timeout, and logged every answer the server accepted; afterwards each was looked up in the database.",
        "",
        "| measure | value |", "|---|---|",
        f"| requests | {r['requests']:,} ({r['rps']:.0f} per second) |",
        f"| answers accepted (logged by the phones) | {r['accepted']:,} |",
        f"| found in the database exactly once | {r['found']:,} |",
        f"| lost | {r['lost']} |",
        f"| doubled | {r['doubled']} |",
        f"| stored, never confirmed to a phone (in flight when the phones were stopped) | "
        f"{r['stored_but_never_confirmed']} |",
        f"| 503 (storage unavailable, retried) | {r['503']:,} |",
        f"| 5xx other than 503 | {r['5xx_other_than_503']} |",
        f"| broken connections and timeouts (the killed worker's requests) | "
        f"{sum(n for k, n in r['statuses'].items() if not k.isdigit()):,} |",
        f"| latency p50 / p99 / max (all requests, retries included) | {r['p50_ms']:.0f} ms / {r['p99_ms']:.0f} ms / "
        f"{r['max_ms'] / 1000:.1f} s |",
        "",
        ("**Held:** every accepted answer is stored exactly once, and every server error was a clean 503."
         if ok else "**Not held:** see bench/out/soak.json."),
        "",
        f"The machine has 2 cores, shared: its load average was {r['load_average']['start']:.1f} when the run "
        f"started and {r['load_average']['end']:.1f} when it ended (other work, the phones themselves and the proxy "
        "included), so the 2 workers got a small share of the CPU and the phones queued: read the latency as this "
        "machine's, not the app's. While the database was frozen each request waited at most 4 s for it (db.py's "
        "timeouts) before its 503, and the requests behind it waited in gunicorn's backlog.",
    ]
    return "\n".join(lines) + "\n"


def section_in(doc: str) -> str:
    """This section as it stands in `doc`, from its heading to the next one (or the end), or ''."""
    start = doc.find(HEADING)
    if start < 0:
        return ""
    end = doc.find("\n## ", start)
    return doc[start:] if end < 0 else doc[start:end + 1]


def write_section(text: str) -> None:
    """Replace this section of docs/performance.md (or add it at the end); the other sections are left as they are."""
    doc = DOC.read_text()
    old = section_in(doc)
    if old:
        DOC.write_text(doc.replace(old, text + ("\n" if old.endswith("\n\n") else "")))
    else:
        DOC.write_text(doc.rstrip("\n") + "\n\n" + text)


def kept_section(doc: Path = DOC) -> str:
    """This section of `doc`, for bench/run.py to keep when it writes the rest of the file."""
    text = section_in(doc.read_text()) if doc.exists() else ""
    return "\n" + text.rstrip("\n") + "\n" if text else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--kill-at", type=float, default=180, help="seconds into the run: SIGKILL one worker")
    parser.add_argument("--freeze-at", type=float, default=300, help="seconds into the run: freeze the database")
    parser.add_argument("--freeze-seconds", type=float, default=20)
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/performance.md")
    parser.add_argument("--doc-only", action="store_true",
                        help="write the section of docs/performance.md again from the last run (bench/out/soak.json)")
    args = parser.parse_args()
    result = json.loads((OUT / "soak.json").read_text()) if args.doc_only else run(args)
    print(json.dumps(result, indent=2))
    if not args.no_doc:
        write_section(section(result))
        print(f"written to {DOC.relative_to(BENCH.parent)}")
    if result["lost"] or result["doubled"] or result["5xx_other_than_503"]:
        raise SystemExit("the soak found lost or doubled answers, or server errors other than 503")


if __name__ == "__main__":
    main()
