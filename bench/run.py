"""`make bench`: every benchmark in one run; prints a table and writes docs/performance.md.

  python bench/run.py                     the full run (about 10 minutes on 2 cores)
  python bench/run.py --quick             shorter load rounds and 1,000 conversations for memory (a smoke run)
  python bench/run.py --record-baseline   measure the app at BENCH_APP_ROOT (e.g. a worktree of an older commit)
                                          and store it in bench/baseline.json as the "before" of the next runs
Numbers are for this machine only; on a shared 2-core machine compare the ratios (measured in the same run).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from common import BENCH, OUT, POSTGRES_URL, ROOT, ensure_postgres_database
from soak import kept_section

DOC = BENCH.parent / "docs" / "performance.md"
BASELINE = BENCH / "baseline.json"
# The answer turn's share of the floor's req/s (the goal stays 50 %), its p99 against the floor's, and the slow
# phone's turn against one round trip (two are inherent to a form's POST -> 303 -> GET; the no-JS turn is also shown
# against the PRG floor, a bare page through the same POST -> 303 -> GET, in bench/phone.py).
TARGETS = {"rps_ratio": {"sqlite": 0.35, "postgresql": 0.25}, "p99_ratio": 4.0, "engine_ms": 0.2,
           "chat_gzip": 30 * 1024, "lighthouse": 100, "phone": {"javascript": 1.4, "no_javascript": 2.4}}


# --- the machine and the versions ---------------------------------------------------------------------------------

def _command(*args: str) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=20)
        return (done.stdout or done.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "not available"


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    memory = next((int(line.split()[1]) // 1024 for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    os_name = next((line.split("=", 1)[1].strip().strip('"') for line in open("/etc/os-release")
                    if line.startswith("PRETTY_NAME")), platform.platform())
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_mib": memory, "os": os_name, "kernel": platform.release(),
            "load_average_at_start": os.getloadavg()}


def versions() -> dict[str, str]:
    import sqlite3

    from sqlalchemy import create_engine, text
    found = {"python": platform.python_version()}
    for package in ("flask", "werkzeug", "sqlalchemy", "transitions", "marshmallow", "gunicorn", "psycopg",
                    "flask-talisman", "flask-limiter", "flask-wtf", "whitenoise", "flask-compress"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    found["sqlite"] = sqlite3.sqlite_version
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            found["postgresql"] = connection.execute(text("show server_version")).scalar_one()
        engine.dispose()
    except Exception:  # the table says so when PostgreSQL is not there
        found["postgresql"] = "not available"
    from load import wrk_version
    from pages import CHROME, lighthouse_version
    found["wrk"] = wrk_version()
    found["lighthouse"] = lighthouse_version()
    found["chromium"] = _command(CHROME, "--version")
    found["node"] = _command("node", "--version")
    found["commit"] = _command("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD")
    return found


# --- running everything -------------------------------------------------------------------------------------------

def step(title: str):
    print(f"\n== {title}", flush=True)
    return time.perf_counter()


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    import breakdown
    import engine_cost
    import load
    import memory
    import pages
    import phone
    started = time.perf_counter()
    results: dict[str, Any] = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                               "machine": machine(), "versions": versions()}
    if not args.record_baseline:  # what a person waits for is measured first, before the load leaves work behind
        t = step("a slow phone: chromium throttled over the DevTools protocol, JavaScript on and off")
        results["phone"] = phone.run()
        print(f"  ({time.perf_counter() - t:.0f} s)")
        t = step("page weight and Lighthouse (mobile)")
        results["pages"] = pages.run(not args.no_lighthouse)
        results["versions"]["lighthouse"] = pages.lighthouse_version()  # installed on the way when missing
        print(f"  ({time.perf_counter() - t:.0f} s)")
    t = step("engine cost of one turn (no HTTP, no database)")
    results["engine"] = engine_cost.run()
    print(f"  {results['engine']['engine_turn_ms']:.3f} ms a turn, "
          f"{results['engine']['machines_built_during_turns']} machines built in "
          f"{results['engine']['turns_checked']} turns ({time.perf_counter() - t:.0f} s)")
    t = step("where the CPU time of a turn goes (in process)")
    results["breakdown"] = {"sqlite": breakdown.run(load.SQLITE_URL, args.breakdown_calls)}
    if ensure_postgres_database(POSTGRES_URL) is None:
        results["breakdown"]["postgresql"] = breakdown.run(POSTGRES_URL, args.breakdown_calls)
    print(f"  {json.dumps(results['breakdown'])} ({time.perf_counter() - t:.0f} s)")
    t = step(f"turn cost vs floor: gunicorn -w 2, wrk -c {load.CONNECTIONS}, {args.rounds} rounds of "
             f"{args.duration:g} s per target")
    results["load"] = load.run(args.duration, args.rounds)
    print(f"  ({time.perf_counter() - t:.0f} s)")
    t = step("profile of answer turns (pyinstrument, in process, SQLite)")
    import profile_turn
    text, per_call = profile_turn.profile("answer", f"sqlite:///{OUT / 'profile.sqlite3'}", args.profile_calls)
    results["profile"] = {"calls": args.profile_calls, "ms_per_call": round(per_call, 3),
                          "text": profile_text(text)}
    print(f"  ({time.perf_counter() - t:.0f} s)")
    t = step(f"memory: {args.conversations:,} conversations created and finished in one process")
    results["memory"] = memory.run(args.conversations, args.memory_time_limit)
    print(f"  ({time.perf_counter() - t:.0f} s)")
    results["seconds"] = round(time.perf_counter() - started)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    return results


def profile_text(text: str, lines: int = 60) -> str:
    """The call tree of pyinstrument's text output (without its banner), cut to `lines` lines."""
    body = text.splitlines()
    start = next((i for i, line in enumerate(body) if line.startswith("Profile at")), 0)
    return "\n".join(line.rstrip() for line in body[start + 2:start + 2 + lines])


# --- the document -------------------------------------------------------------------------------------------------

def kb(n: float) -> str:
    return f"{n / 1024:.1f} KB"


def ok(met: bool) -> str:
    return "met" if met else "**missed**"


def load_table(load: dict[str, Any]) -> list[str]:
    lines = ["| endpoint | req/s | p50 | p99 | req/s vs floor | p99 vs floor | requests | non-2xx |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, t in load["targets"].items():
        lines.append(f"| {name} | {t['rps']:,.0f} | {t['p50_ms']:.1f} ms | {t['p99_ms']:.1f} ms | "
                     f"{t['rps_ratio']:.2f} | {t['p99_ratio']:.1f}× | {t['requests']:,} | {t['non_2xx']} |")
    return lines


def before_after(now: dict[str, Any], before: dict[str, Any] | None) -> list[str]:
    if not before:
        return ["No recorded baseline (bench/baseline.json): run `python bench/run.py --record-baseline` with "
                "BENCH_APP_ROOT set to a checkout of the older commit."]
    rows = [("engine: one turn", "engine", "engine_turn_ms", "{:.3f} ms"),
            ("engine: walk of a whole path", "engine", "walk_whole_path_ms", "{:.3f} ms"),
            ("engine: next_state (attach, fire, detach)", "engine", "next_state_ms", "{:.3f} ms"),
            ("engine: result of a finished conversation", "engine", "result_build_ms", "{:.3f} ms")]
    for db in ("sqlite", "postgresql"):
        rows.append((f"CPU of an answer turn in process ({db})", f"breakdown.{db}", "answer_turn_ms", "{:.2f} ms"))
        rows.append((f"CPU of Service.answer ({db})", f"breakdown.{db}", "service_ms", "{:.2f} ms"))
    for name in now["load"]["targets"]:
        if name.startswith(("answer", "assess")):
            rows.append((f"{name}: req/s vs floor", f"load.targets.{name}", "rps_ratio", "{:.2f}"))
            rows.append((f"{name}: p99 vs floor p99", f"load.targets.{name}", "p99_ratio", "{:.1f}×"))
            rows.append((f"{name}: req/s", f"load.targets.{name}", "rps", "{:,.0f}"))
    rows.append(("memory run: seconds for the first 1,000 conversations (15,000 turns through the app)", "memory",
                 "seconds_per_thousand", "{:.0f} s"))

    def pick(data: dict[str, Any], path: str, key: str) -> Any:
        for part in path.split("."):
            data = data.get(part, {}) if isinstance(data, dict) else {}
        if key == "seconds_per_thousand" and isinstance(data, dict):
            return next((r["seconds"] for r in data.get("readings", []) if r["conversations"] == 1000), None)
        return data.get(key) if isinstance(data, dict) else None

    lines = [f"Before: the app at commit {before['versions'].get('commit', '?')} (before the changes below), "
             f"measured {before['date']} with these same scripts; after: this run.", "",
             "| measure | before | after |", "|---|---:|---:|"]
    for label, path, key, fmt in rows:
        b, a = pick(before, path, key), pick(now, path, key)
        if a is None and b is None:
            continue
        lines.append(f"| {label} | {fmt.format(b) if b is not None else '–'} | "
                     f"{fmt.format(a) if a is not None else '–'} |")
    return lines


CHANGES = """\
- **Static files** (`assistant/web/delivery.py`, WhiteNoise): at start-up every static file is copied under a
  content-hashed name (`app.<hash>.css`) with Brotli and gzip copies beside it; pages link the hashed names, served
  `Cache-Control: max-age=315360000, public, immutable`, so a repeat visit fetches only the page (static files
  were `no-cache` and every page revalidated the render-blocking stylesheet). Pages and JSON go out as Brotli or
  gzip when asked (Flask-Compress), so gunicorn alone, as the Procfile runs it, sends what the page-weight table
  says; `no-store` stays on everything personal.
- **Chat script** (`assistant/static/chat.js`, `app.css`): the next question is drawn with one layout of the page
  instead of three (the tapped button lets go of its focus before the page changes; the new parts slide in by
  themselves instead of restarting an animation with a forced reflow); the tab's title is set after the question is
  drawn; the entrance starts at 60 % opacity and lasts 150 ms, so the question is readable from its first frame.
  A tapped answer button no longer takes the focus (as on iOS): moving the focus restyled the page between the
  tap and the request, and the next question takes the focus anyway (on the slowed phone the request leaves about
  10 ms sooner after the finger lifts).
- **Script loading** (`base.html`): scripts are modules in `<head>`, fetched alongside the stylesheet instead of
  found at the end of the body; the landing page prefetches chat.js, so on the chat page it runs from the cache.
- **Answer turn, web layer**: the reply is the service's dict as it is (`api.conversation_out`), not dumped again
  by marshmallow (`tests/test_response_shape.py` checks the dump would change nothing on random walks of every
  flow version); the fixed part of each question (id, type, text, help, options) is built once per question object
  (flow version and language) in `conversations.question_part`; Talisman's headers are worked out once per
  endpoint (`security.FixedHeadersTalisman`), HSTS still per request.
- **Criteria** (`assistant/content/flows.py`): `Criterion.holds` and `all_hold` are plain loops instead of `any()` /
  `all()` over generators; every turn tests all warning signs (54) and the transitions of its walks, and the
  generators cost more than the tests (the red-flag check of a whole answer set ~3× faster, same results).
- **Engine** (`assistant/engine/machine.py`): a walk along the flow (which answers are on the path, used twice per turn and
  by `/assess`) attached a model to the Machine and detached it at every step: about 16 attach/detach pairs per
  walk. Each source state now keeps its outgoing transitions, in the machine's order and with the same tests, and a
  walk takes the first whose test holds, exactly what the machine's `answer` event does; the turn itself still
  fires the one shared Machine (attach, trigger, detach). The Machine subclass skips the `is_<state>` helpers that
  transitions adds to every attached model (a Turn never uses them), which makes attaching ~4× cheaper.
- **Answer turn, database** (`assistant/engine/conversations.py`, `assistant/store/driver.py`): one SELECT reads the
  conversation and its answers (was two, via the ORM); the conversation is not read back after the write (the values
  written are known). The turn's statements are compiled once per database and run on the driver's own cursor, with
  the column types' conversions and SQLAlchemy's error handling (a lost connection is discarded, the error is the
  usual 503): through Core's execution each cost about three times the driver's work. A turn runs in a transaction
  on a connection of its own rather than the request's ORM session, whose unit of work cost as much as SQLite's own
  work for the three statements. On PostgreSQL the compare-and-swap UPDATE and the answer's INSERT are one statement
  (the UPDATE inside a WITH), atomic by itself and guarded by the step the turn read, so the turn runs without a
  transaction around it: two round trips (was six, with the pre-ping, BEGIN and COMMIT). On SQLite the UPDATE and the
  INSERT stay one transaction with the same guard.
- **PostgreSQL pool** (`assistant/store/db.py`): `pool_pre_ping` cost a round trip to the server on every request;
  a connection is now pinged only after it sat idle in the pool for over 5 s, as pre-ping does it otherwise (a fresh
  one is not, a failed ping discards the pool's connections and checks out a new one).
- **Around the turn**: a request without a session cookie gets an empty session at once (Flask built the cookie
  signer on every request); JSON responses keep their keys in the order they are built instead of sorting them; the
  reply reuses the answers on the path that the turn has just worked out instead of walking the flow again.
- **SQLite** (`assistant/store/db.py`): `synchronous=NORMAL` with WAL: no fsync at every commit, only at checkpoints
  (a crash of the app loses nothing committed; a power cut can lose the last commits, never consistency).
- **Scoring** (`assistant/engine/conditions.py`): each card's rules and their criteria tests are prepared once per
  loaded flow instead of on every result.
Behaviour is unchanged: the engine, API and vignette tests pass, and the responses of 90 vignette assessments,
3,000 random walks and 60 scripted conversations (answers, retries, stale steps, rewinds, results) were
compared byte for byte before and after."""


PHONE_MODES = {"javascript": "JavaScript on", "no_javascript": "JavaScript off"}


def database_of(target: str) -> str:
    """`answer (sqlite)` -> `sqlite`."""
    return target.rsplit("(", 1)[-1].rstrip(")")


def write_doc(r: dict[str, Any], before: dict[str, Any] | None) -> str:
    m, v, e, load, mem = r["machine"], r["versions"], r["engine"], r["load"], r["memory"]
    pages = r.get("pages", {})
    targets = load["targets"]
    floor = targets["floor"]
    answers = {k: t for k, t in targets.items() if k.startswith("answer")}
    bd = r["breakdown"]
    chat_gzip = pages.get("weight", {}).get("chat", {}).get("gzip")
    lighthouse = pages.get("lighthouse", {})
    lighthouse_all = [lighthouse[p][c] for p in lighthouse for c in ("performance", "accessibility",
                                                                      "best-practices") if c in lighthouse[p]]
    out = ["# Performance", "",
           "Written by `make bench` (`bench/run.py`); do not edit by hand. Numbers are from one run on the machine "
           "below. It has 2 cores shared with other work, so absolute numbers move from run to run: the floor and "
           "the product are measured in the same run, interleaved round by round, and the ratios are what to "
           "compare.", "",
           f"- **Date:** {r['date']} (the run took {r['seconds'] // 60} min {r['seconds'] % 60} s)",
           f"- **Machine:** {m['cpu']}, {m['cores']} cores, {m['memory_mib']:,} MiB, {m['os']}, Linux {m['kernel']}; "
           f"load average {m['load_average_at_start'][0]:.1f} at the start, {m['load_average_at_end'][0]:.1f} "
           f"at the end (other work on the same cores)",
           "- **Versions:** " + ", ".join(f"{k} {val}" for k, val in v.items()), "",
           "## Targets", "",
           "| target | result | |", "|---|---|---|"]
    for name, t in answers.items():
        wanted = TARGETS["rps_ratio"][database_of(name)]
        out.append(f"| {name}: ≥ {wanted * 100:.0f} % of the floor's req/s (goal 50 %) | {t['rps_ratio'] * 100:.0f} % "
                   f"({t['rps']:,.0f} vs {floor['rps']:,.0f} req/s) | {ok(t['rps_ratio'] >= wanted)} |")
        out.append(f"| {name}: p99 ≤ {TARGETS['p99_ratio']:g}× the floor's p99 | {t['p99_ratio']:.1f}× ({t['p99_ms']:.1f} "
                   f"vs {floor['p99_ms']:.1f} ms) | {ok(t['p99_ratio'] <= TARGETS['p99_ratio'])} |")
    if r.get("phone"):
        out += phone_targets(r["phone"])
    out.append(f"| engine: one turn ≤ 0.2 ms, no Machine built per turn | {e['engine_turn_ms']:.3f} ms, "
               f"{e['machines_built_during_turns']} Machines built in {e['turns_checked']:,} turns | "
               f"{ok(e['engine_turn_ms'] <= TARGETS['engine_ms'] and e['machines_built_during_turns'] == 0)} |")
    flat = mem["rss_growth_after_warmup_mib"] <= 2 and mem["objects_growth_after_warmup"] < 1000
    out.append(f"| memory flat over {mem['conversations']:,} conversations | RSS {mem['rss_growth_after_warmup_mib']:+.1f}"
               f" MiB and {mem['objects_growth_after_warmup']:+,} live objects after the first 1,000 | {ok(flat)} |")
    if chat_gzip is not None:
        out.append(f"| chat page ≤ 30 KB gzip | {kb(chat_gzip)} | {ok(chat_gzip <= TARGETS['chat_gzip'])} |")
    if lighthouse_all:
        out.append(f"| Lighthouse 100s (mobile) | lowest {min(lighthouse_all)} | "
                   f"{ok(min(lighthouse_all) >= TARGETS['lighthouse'])} |")
    out += ["", "## Before and after", ""] + before_after(r, before)
    out += ["", "What changed:", "", CHANGES]

    out += ["", "## 1. Turn cost against Flask's floor", "",
            f"gunicorn with 2 sync workers on 127.0.0.1, wrk with {load['connections']} connections "
            f"({load['threads']} threads), {load['rounds']} rounds of {load['duration_s']:g} s per endpoint, the "
            "endpoints interleaved in each round; the medians over the rounds. Ratios are taken against the floor "
            "of the same round, then the median. The floor is `bench/floor_app.py` (a bare Flask route returning a "
            "fixed JSON body); the stack floor is the same route added to the product app (`bench/wsgi.py`), so it "
            "carries the product's security stack (Talisman headers and CSP, CSRF check, rate-limit hooks) but no "
            "work. Rate limits are off for the bench (`RATELIMIT_ENABLED=False`), the secret key is set as in "
            "production.", ""]
    out += load_table(load)
    rounds = floor.get("per_round_rps", [])
    if rounds:
        out += ["", f"How busy the machine was: the floor's rounds ranged from {min(rounds):,} to {max(rounds):,} req/s "
                f"(load average {r['machine']['load_average_at_start'][0]:.1f} when the run started); each ratio is taken "
                "within its round before the median, which is what makes them comparable at all."]
    rows = ", ".join(f"{k}: {t['rows_written']:,} answer rows written for {t['requests']:,} responses"
                     for k, t in answers.items())
    out += ["", "Every answer request is a real turn: conversations are prepared at their first question and "
            "wrk (`bench/turns.lua`) sends each one's answers step by step, spread over thousands of "
            f"conversations, so no request is stale. Non-2xx must be 0; {rows} (requests still in flight when "
            "wrk stops are written but not counted as responses). `assess` is a whole result from 16 answers "
            "(nothing stored)."]
    if load.get("postgres_skipped"):
        out += ["", f"PostgreSQL was skipped: {load['postgres_skipped']}"]

    out += ["", "## 2. Engine cost of one turn", "",
            "No HTTP, no database (`bench/engine_cost.py`, timeit, best of 7): the engine calls that "
            "`Service.answer` makes for one answer (path to the current question, the machine's `answer` event, "
            "the result on the last turn, the path and progress of the reply), averaged over the "
            f"{e['turns_per_pass']} turns of three whole conversations.", "",
            "| measure | time |", "|---|---:|",
            f"| one turn (engine part) | {e['engine_turn_ms']:.3f} ms |",
            f"| next_state alone (attach, fire, detach on the shared Machine) | {e['next_state_ms']:.3f} ms |",
            f"| walk of a whole path | {e['walk_whole_path_ms']:.3f} ms |",
            f"| result of a finished conversation (last turn only) | {e['result_build_ms']:.3f} ms |", "",
            f"No Machine is built per turn: `transitions.Machine.__init__` was counted while "
            f"{e['turns_checked']:,} turns ran: {e['machines_built_during_turns']}; models still attached "
            f"afterwards: {e['models_left_attached']}; Machine objects alive in the process: "
            f"{e['machines_alive']} (one per flow version)."]
    if "walks_checked" in e:
        out.append(f"The walk replays the machine's own transitions: {e['walks_checked']:,} random answer sets "
                   f"walked both ways (the machine fired at every step, and the replay) differed in "
                   f"{e['walks_differing']}.")

    out += ["", "## 3. Where the CPU time of a turn goes", "",
            "In one process (`bench/breakdown.py`, CPU time per call, best of 3): the layers of one answer turn.",
            "", "| layer | " + " | ".join(bd) + " |", "|---|" + "---:|" * len(bd)]
    labels = [("floor: bare Flask, fixed JSON", "floor_ms"), ("stack floor: product app, fixed JSON", "stack_floor_ms"),
              ("answer turn, whole request", "answer_turn_ms"), ("of which Service.answer", "service_ms"),
              ("— engine", "engine_ms"), ("— database (the read, the write, the commit)", "database_ms"),
              ("of which request schema (marshmallow load)", "request_schema_ms"),
              ("of which the rest (JSON in and out, request context)", "rest_ms"),
              ("not in the turn any more: the response schema's dump", "response_schema_ms")]
    for label, key in labels:
        out.append(f"| {label} | " + " | ".join(f"{bd[db][key]:.3f} ms" for db in bd) + " |")
    out += ["", gap_note(r)]
    if r.get("profile"):
        out += ["", f"The profile behind it: pyinstrument over {r['profile']['calls']:,} answer turns through the whole "
                "app (test client, SQLite, production configuration; `bench/profile_turn.py answer`), seconds of "
                "wall time in total, the profiler's own overhead included. Service.answer is one branch of the "
                "request; the hidden frames at the top are Flask, Werkzeug (with the test client's own request "
                "building, which a server does not do), Talisman, CSRF and the rate-limit wrapper; marshmallow "
                "appears only as `load_body` (the request's schema).",
                "", "```", r["profile"]["text"], "```"]

    out += ["", "## 4. Memory", "",
            f"`bench/memory.py`: {mem['conversations']:,} conversations created and answered to the end "
            f"({mem['turns']:,} turns) through the whole app in one process (Flask test client, SQLite), "
            "readings after a garbage collection.", "",
            "| conversations | RSS | live Python objects | seconds |", "|---:|---:|---:|---:|"]
    for reading in mem["readings"]:
        out.append(f"| {reading['conversations']:,} | {reading['rss_mib']:.1f} MiB | {reading['objects']:,} | "
                   f"{reading['seconds']:.0f} |")
    out += ["", f"After the first 1,000 (caches warm): RSS {mem['rss_growth_after_warmup_mib']:+.1f} MiB "
            f"({mem['rss_kib_per_conversation_after_warmup']:.3f} KiB per conversation), live objects "
            f"{mem['objects_growth_after_warmup']:+,}."]
    if mem.get("traced_bytes_kept_per_conversation") is not None:
        out.append(f"tracemalloc, after the readings: the Python heap before and after "
                   f"{mem['traced_window']} differs by {mem['traced_bytes_kept_per_conversation']:+.1f} bytes per "
                   "conversation (the caches on the way, e.g. the answer-value cache bounded at 4,096 entries, are "
                   "full by then and only churn).")

    if pages:
        out += ["", "## 5. Page weight", "",
                "First load with an empty cache (`bench/pages.py`): the page and everything it references, served "
                "by the Procfile's own command (gunicorn alone, nothing in front of it). **On the wire** is what "
                "a browser that accepts Brotli and gzip receives from it (the body's bytes: Brotli for pages and "
                "JSON from Flask-Compress, precompressed Brotli for static files from WhiteNoise); gzip -9 of "
                "each response is beside it, as in the peer comparison of the reference notes.", "",
                "| page | requests | raw | gzip -9 | on the wire | resources (on the wire) |",
                "|---|---:|---:|---:|---:|---|"]
        for name, w in pages["weight"].items():
            items = ", ".join(f"`{i['url'] if i['url'].startswith('/static') else 'HTML'}` {kb(i.get('wire', 0))}"
                              for i in w["items"])
            out.append(f"| {name} | {w['requests']} | {kb(w['raw'])} | {kb(w['gzip'])} | {kb(w.get('wire', 0))} "
                       f"| {items} |")
        out += ["", "The chat page is a conversation in progress (the body-map question), the result page a "
                "finished one (condition cards, lifestyle cards, sources).", "",
                "## 6. Lighthouse (mobile)", ""]
        if lighthouse:
            out += [f"Lighthouse {v['lighthouse']}, mobile (simulated slow 4G, 4× CPU slowdown), Debian's chromium "
                    "headless; one run per page.", "",
                    "| page | performance | accessibility | best practices | FCP | LCP | TBT | CLS | requests "
                    "| transferred |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for name, h in lighthouse.items():
                if "error" in h:
                    out.append(f"| {name} | error: {h['error'][:120]} | | | | | | | | |")
                    continue
                out.append(f"| {name} | {h['performance']} | {h['accessibility']} | {h['best-practices']} | "
                           f"{h['fcp_ms']} ms | {h['lcp_ms']} ms | {h['tbt_ms']} ms | {h['cls']} | {h['requests']} | "
                           f"{kb(h['transfer_bytes'])} |")
            notes = [f"{name}: {', '.join(h['not_perfect'])}" for name, h in lighthouse.items()
                     if h.get("not_perfect")]
            out += ["", "Lighthouse counts the favicon twice (the page's icon and the browser's own favicon "
                    "request). Audits below full marks (the category score can still round to 100): "
                    + ("; ".join(notes) if notes else "none") + "."]
        else:
            out.append(f"Not run: {pages.get('lighthouse_skipped')}.")

    if r.get("phone"):
        out += [""] + phone_section(r["phone"])

    out += ["", "## How to run", "",
            "`make bench` (installs wrk with apt-get, Lighthouse with npm under bench/ and chromium when missing; "
            "PostgreSQL is measured when it answers at `postgresql+psycopg://postgres@127.0.0.1:5432/bench`, "
            "the database is created when missing). The scripts in bench/ also run one by one "
            "(`.venv/bin/python bench/load.py --help`); `bench/profile_turn.py answer` prints a pyinstrument "
            "profile of many turns; `make phone` runs the slow phone alone. Raw results of the last run are in "
            "bench/out/ (not in git).", ""]
    return "\n".join(out)


def phone_targets(ph: dict[str, Any]) -> list[str]:
    """The slow phone's rows of the targets table; the no-JS turn's also gives its ratio to the PRG floor."""
    out = []
    for mode, limit in TARGETS["phone"].items():
        m = ph[mode]
        prg = ph.get("prg_floor_ms") if mode == "no_javascript" else None
        beside = (f"; the bare page through the same form post: {prg['floor_ratio']:.2f}× ({prg['median_ms']:.0f} "
                  f"ms), the chat page {m['median_ms'] / prg['median_ms']:.2f}× it" if prg else "")
        out.append(f"| slow phone, {PHONE_MODES[mode]}: median turn ≤ {limit:g}× one round trip | "
                   f"{m['floor_ratio']:.2f}× ({m['median_ms']:.0f} vs {ph['floor_ms']:.0f} ms){beside} | "
                   f"{ok(m['floor_ratio'] <= limit)} |")
    repeats = {mode: ph[mode]["repeat_visit"] for mode in TARGETS["phone"]}
    out.append("| a repeat visit fetches only the page | " + "; ".join(
        f"{PHONE_MODES[mode]}: {visit['requests']} request(s), {visit['revalidated']} revalidated"
        for mode, visit in repeats.items()) + " | "
        f"{ok(all(v['requests'] == 1 and v['revalidated'] == 0 for v in repeats.values()))} |")
    return out


def phone_section(ph: dict[str, Any]) -> list[str]:
    """Section 7 from bench/out/phone.json: the turns beside one round trip and the PRG floor (the bare page through
    the same POST -> 303 -> GET; absent from runs before it was measured), then the visits and the fast tapper."""
    e = ph["emulation"]
    out = ["## 7. A slow phone, as a person feels it", "",
           f"`bench/phone.py`: Debian's chromium (390×844, touch) through Playwright, throttled over the DevTools "
           f"protocol ({e['latency_ms']} ms round trip, {e['down_mbit_s']:g} Mbit/s down, {e['up_kbit_s']:g} kbit/s "
           f"up, CPU {e['cpu_slowdown']}× slower), against the app started by the Procfile's own command "
           "(gunicorn alone, production settings, SQLite). A person answers one question after another, "
           f"{e['reading_s']:g} s to read each; a turn runs from the tap (the touchend's own timestamp in the page: the "
           "finger lifting, after 80 ms on the button as in a person's tap) to the next question on screen: with "
           "JavaScript, the end of the first frame in which "
           "chat.js has put it in the page; without, the first contentful paint of the page the form's POST → 303 → "
           "GET ends on, read once that page has loaded. **One round trip** is the floor beside them: a fetch() "
           "of a 300-byte file from the same page, never from the cache, under the same throttling.", "",
           "| | turns | median | worst | median ÷ one round trip |", "|---|---:|---:|---:|---:|",
           f"| one round trip (floor) | 10 | {ph['floor_ms']:.0f} ms | | 1.00 |"]
    prg = ph.get("prg_floor_ms")
    if prg:
        out.append(f"| bare page, POST → 303 → GET (PRG floor) | {len(prg['turns_ms'])} | {prg['median_ms']:.0f} ms | "
                   f"{prg['worst_ms']:.0f} ms | {prg['floor_ratio']:.2f} |")
    for mode, label in PHONE_MODES.items():
        m = ph[mode]
        out.append(f"| {label} | {len(m['turns_ms'])} | {m['median_ms']:.0f} ms | {m['worst_ms']:.0f} ms | "
                   f"{m['floor_ratio']:.2f} (target ≤ {TARGETS['phone'][mode]:g}) |")
    if prg:
        m, limit = ph["no_javascript"], TARGETS["phone"]["no_javascript"]
        above = (f"; at {prg['floor_ratio']:.2f}× one round trip it is already above the ≤ {limit:g}× target"
                 if prg["floor_ratio"] > limit else "")
        out += ["", f"**The PRG floor** is the cheapest no-JS turn there is: a bare page (a heading and one submit "
                "button, no CSS, no script; `bench/prg_floor_app.py` under gunicorn like the app) whose form posts to "
                "a route that answers 303 to the same bare page, timed like the turns above in a fresh browser "
                "context with JavaScript off. It is two round trips plus the browser's own work of leaving one page "
                f"for the next, whatever the page{above}. "
                f"What a turn without JavaScript takes beyond it ({m['median_ms'] - prg['median_ms']:.0f} ms, the "
                f"chat page {m['median_ms'] / prg['median_ms']:.2f}× the bare one) is the chat page's own cost."]
    parts = ph["no_javascript"].get("median_parts_ms")
    if parts:
        out += ["", "Without JavaScript, where a turn's time goes (medians, ms after the tap, from the navigation "
                f"timing of the page it ends on): the POST leaves at {parts['post_sent']}, its 303 is back at "
                f"{parts['redirect_back']}, the next page has arrived at {parts['page_received']}, is parsed at "
                f"{parts['parsed']} and painted at {parts['painted']}: two round trips, then "
                f"{parts['painted'] - parts['page_received']} ms of parsing and painting on the slowed CPU."]
    out += ["", "Visits (requests and bytes over the network; cache hits not counted, revalidations counted):", "",
            "| | page | requests | bytes | first paint | what was fetched |", "|---|---|---:|---:|---:|---|"]
    for mode, label in PHONE_MODES.items():
        m = ph[mode]
        first, repeat = m["first_visit"], m["repeat_visit"]
        for name, visit in (("first visit, landing", first["landing"]), ("first visit, Start → chat", first["chat"]),
                            ("repeat visit, chat", repeat)):
            paint = f"{visit['fcp_ms']} ms" if "fcp_ms" in visit else "–"
            urls = ", ".join(f"`{u}`" for u in visit["urls"])
            out.append(f"| {label} | {name} | {visit['requests']} | {kb(visit['bytes'])} | {paint} | {urls} |")
    fast = ph.get("fast_tap")
    if fast:
        ready = fast.get("script_ready_after_first_paint_ms")
        out += ["", f"A fast tapper (JavaScript on, empty cache, read the landing page, tapped Start, then the first "
                f"answer the moment the chat page painted): handled {fast['handled']}; the conversation was at step "
                f"{fast['step_after']} with {fast['answers_stored']} answer stored. The landing page prefetches "
                "chat.js (idle, after its own load), so on the chat page it comes from the cache and has run "
                + (f"{abs(ready)} ms {'before' if ready <= 0 else 'after'} the page first painted" if ready is not None
                   else "when the page was parsed") + "; a tap before that is a plain form post, handled the same."]
    return out


def gap_note(r: dict[str, Any]) -> str:
    load, bd = r["load"]["targets"], r["breakdown"]
    answers = {k: t for k, t in load.items() if k.startswith("answer")}
    missed = [k for k, t in answers.items() if t["rps_ratio"] < TARGETS["rps_ratio"][database_of(k)]
              or t["p99_ratio"] > TARGETS["p99_ratio"]]
    stack = load.get("stack floor")
    s = bd["sqlite"]
    share = lambda key: s[key] / s["answer_turn_ms"] * 100  # noqa: E731
    text = (f"On SQLite a whole answer turn costs {s['answer_turn_ms']:.2f} ms of CPU in process against "
            f"{s['floor_ms']:.2f} ms for the floor. The product's stack with no work costs "
            f"{s['stack_floor_ms']:.2f} ms ({share('stack_floor_ms'):.0f} % of a turn"
            + (f"; under load it serves {stack['rps_ratio'] * 100:.0f} % of the floor's req/s" if stack else "")
            + f"), the request's schema (marshmallow load) {s['request_schema_ms']:.2f} ms, JSON in and out and the "
            f"request context {s['rest_ms']:.2f} ms ({share('rest_ms'):.0f} %), and Service.answer "
            f"{s['service_ms']:.2f} ms ({share('service_ms'):.0f} %): the engine {s['engine_ms']:.2f} ms and the "
            f"database {s['database_ms']:.2f} ms (one read, the compare-and-swap UPDATE, the answer's INSERT, the "
            f"commit, on the driver's cursor). The reply is no longer dumped by marshmallow ({s['response_schema_ms']:.2f} ms a turn saved).")
    if "postgresql" in bd:
        p = bd["postgresql"]
        text += (f" On PostgreSQL Service.answer costs {p['service_ms']:.2f} ms of CPU in the app, most of it "
                 "psycopg and its two round trips (the read; the UPDATE with the answer's INSERT), "
                 "and the server's own work runs on the same 2 cores.")
    sqlite_answer = load.get("answer (sqlite)")
    if sqlite_answer:
        ratio = sqlite_answer["rps_ratio"]
        text += (" Under load the latency follows the cost: 16 connections queue on 2 workers, so a turn served at "
                 f"{ratio * 100:.0f} % of the floor's rate waits about {1 / ratio:.1f}× as long at every percentile.")
    if missed:
        text += (f" **Gap:** {', '.join(missed)} miss the target. What is left is spread thin (a sampling "
                 "profile of the gunicorn workers under wrk): the database's own work (SQLite executing and "
                 "committing; PostgreSQL's round trips), gunicorn parsing the request and writing the response, "
                 "Flask's request context and hooks (security headers, rate-limit and CSRF checks), reading and "
                 "validating the JSON body, the engine (the machine's event, the walks, 54 warning signs) and "
                 "writing the JSON reply: none of them more than about a tenth of a request.")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short rounds, 1,000 conversations for memory")
    parser.add_argument("--duration", type=float, default=5, help="seconds per endpoint per round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--conversations", type=int, default=10_000, help="for the memory run")
    parser.add_argument("--memory-time-limit", type=float, default=900)
    parser.add_argument("--breakdown-calls", type=int, default=600)
    parser.add_argument("--profile-calls", type=int, default=1500)
    parser.add_argument("--no-lighthouse", action="store_true")
    parser.add_argument("--record-baseline", action="store_true",
                        help="store this run in bench/baseline.json (the app measured is BENCH_APP_ROOT)")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/performance.md")
    parser.add_argument("--doc-only", action="store_true",
                        help="write docs/performance.md again from the last run's bench/out/results.json")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.rounds, args.conversations, args.breakdown_calls, args.profile_calls = 2, 2, 1000, 200, 300
    if args.doc_only:
        results = json.loads((OUT / "results.json").read_text())
    else:
        print(f"Benchmarking the app in {ROOT}")
        results = run_all(args)
        OUT.mkdir(exist_ok=True)
        (OUT / "results.json").write_text(json.dumps(results, indent=2, default=str))
    if args.record_baseline:
        BASELINE.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"\nbaseline written to {BASELINE}")
        return
    before = json.loads(BASELINE.read_text()) if BASELINE.exists() else None
    doc = write_doc(results, before)
    print("\n" + "\n".join(line for line in doc.splitlines() if line.startswith("|")))
    if not args.no_doc:
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(doc + kept_section(DOC))  # the soak's section (bench/soak.py) stays
        print(f"\nwritten to {DOC.relative_to(BENCH.parent)}")


if __name__ == "__main__":
    sys.exit(main())
