"""Shared pieces of the benchmark scripts: paths, servers on 127.0.0.1, databases, the answers a bench person gives."""
from __future__ import annotations

import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

BENCH = Path(__file__).resolve().parent
# the checkout whose app is measured: this one, or another (e.g. a worktree of an older commit, for "before")
ROOT = Path(os.environ.get("BENCH_APP_ROOT") or BENCH.parent).resolve()
OUT = BENCH / "out"
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
SQLITE_URL = f"sqlite:///{OUT / 'bench.sqlite3'}"
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
SECRET_KEY = os.environ.get("BENCH_SECRET_KEY") or secrets.token_hex(32)

sys.path.insert(0, str(ROOT))

# Three people, three paths through the flow (pain, weakness, exhaustion); none stops at a red flag.
PROFILES = [
    {"age_band": "40_49", "sex": "female", "red_flags": ["none"], "main_complaint": "pain",
     "pain_locations": ["everywhere", "neck", "lower_back"], "pain_sides": "both_sides",
     "pain_character": ["deep_ache", "tender_all_over"], "duration": "over_3_months", "onset": "gradual",
     "morning_stiffness": "under_30_min", "time_pattern": "constant", "exertion_response": "no_change",
     "triggers": ["stress", "cold"], "associated": ["unrefreshing_sleep", "brain_fog", "headaches"],
     "exposures": ["none"], "history": ["none"]},
    {"age_band": "50_64", "sex": "male", "red_flags": ["none"], "main_complaint": "pain_and_weakness",
     "weakness_pattern": ["stairs_or_rising", "arms_overhead"], "pain_locations": ["thighs", "upper_arms"],
     "pain_sides": "both_sides", "pain_character": ["deep_ache", "cramping"], "duration": "6_weeks_to_3_months",
     "onset": "over_days", "morning_stiffness": "30_to_60_min", "time_pattern": "after_activity",
     "exertion_response": "worse_during", "triggers": ["exertion"], "associated": ["cramps_twitches"],
     "exposures": ["statin"], "history": ["diabetes"]},
    {"age_band": "18_39", "sex": "other", "red_flags": ["none"], "main_complaint": "exhaustion",
     "duration": "over_3_months", "onset": "sudden", "morning_stiffness": "none", "time_pattern": "episodes",
     "exertion_response": "crash_next_day", "triggers": ["exertion", "standing_up"],
     "associated": ["lightheaded_on_standing", "palpitations", "brain_fog"], "exposures": ["recent_infection"],
     "history": ["hypermobility"]},
]


def python() -> str:
    return sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answered on {HOST}:{port} within {timeout:.0f} s")


class Server:
    """gunicorn with 2 sync workers on 127.0.0.1, the way the Procfile serves the app."""

    def __init__(self, name: str, app: str, env: dict[str, str] | None = None, workers: int = 2) -> None:
        self.name, self.app, self.workers = name, app, workers
        self.env = {**os.environ, "SECRET_KEY": SECRET_KEY, **(env or {})}
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log = OUT / f"gunicorn-{name}.log"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    cwd: Path | None = None  # where the command runs (None: here)

    def command(self) -> list[str]:
        return [str(VENV_BIN / "gunicorn"), "--workers", str(self.workers), "--bind", f"{HOST}:{self.port}",
                "--chdir", str(BENCH), "--pythonpath", str(ROOT), "--log-level", "warning", "--timeout", "30",
                self.app]

    def start(self) -> "Server":
        OUT.mkdir(exist_ok=True)
        self.process = subprocess.Popen(self.command(), cwd=self.cwd, env=self.env, stdout=self.log.open("w"),
                                        stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_port(self.port)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"{self.name} did not start; see {self.log}") from None
        return self

    def pids(self) -> list[int]:
        """The master and its workers (children of the master), for RSS readings."""
        if self.process is None:
            return []
        found = [self.process.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(stat[1]) == self.process.pid:
                    found.append(int(entry.name))
        return found

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn stops its own workers
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.process = None


class ProcfileServer(Server):
    """The app started exactly as the Procfile's `web:` line starts it (gunicorn alone, gunicorn.conf.py, 2 workers),
    on 127.0.0.1 through $PORT, with production settings: nothing in front of it compresses or caches."""

    cwd = ROOT  # the Procfile's command runs from the project's root

    def __init__(self, name: str, database_url: str) -> None:
        super().__init__(name, "", {"DATABASE_URL": database_url, "PUBLIC_URL": "https://bench.invalid",
                                    "WEB_CONCURRENCY": "2"})
        self.env.pop("ASSISTANT_DEV", None)
        self.env["PORT"] = str(self.port)

    def command(self) -> list[str]:
        line = next(l for l in (ROOT / "Procfile").read_text().splitlines() if l.startswith("web:"))
        words = shlex.split(line.removeprefix("web:"))
        return [str(VENV_BIN / words[0]), *words[1:], "--log-level", "warning"]


@contextmanager
def servers(*items: Server) -> Iterator[tuple[Server, ...]]:
    started = []
    try:
        for server in items:
            started.append(server.start())
        yield items
    finally:
        for server in reversed(started):
            server.stop()


def reset_database(url: str) -> None:
    """An empty database at the latest schema (SQLite: a new file; PostgreSQL: the tables dropped and migrated)."""
    from sqlalchemy import create_engine, text

    from assistant.store.db import upgrade
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        engine = create_engine(url)
        with engine.begin() as connection:
            for table in ("share", "answer", "conversation", "alembic_version"):
                connection.execute(text(f"DROP TABLE IF EXISTS {table} CASCADE"))
        engine.dispose()
    upgrade(url)


def ensure_postgres_database(url: str) -> str | None:
    """Create the bench database when the server answers but the database is missing. None when usable, else why."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as err:  # missing database or no server: try to create it once, below
        first = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    parsed = make_url(url)
    psql = shutil.which("psql")
    if psql is None:
        return f"PostgreSQL not reachable ({first}) and psql is missing"
    command = [psql, "-h", parsed.host or HOST, "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres",
               "-d", "postgres", "-c", f'CREATE DATABASE "{parsed.database}"']
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        return f"PostgreSQL not usable ({first}); createdb said: {done.stderr.strip()}"
    return None
