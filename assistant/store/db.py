"""The database lifecycle: engine and session per app, one session per request, migrations, `flask init-db`."""
from __future__ import annotations

import logging
import os
import sqlite3
import stat
import time
from pathlib import Path

import click
import psycopg
from alembic import command
from alembic.config import Config
from flask import Flask, current_app, g
from flask.cli import with_appcontext
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)

# A PostgreSQL that goes silent (connections open, no answers) must not hold a request until gunicorn kills the
# worker: every wait is bounded, so a turn answers 503 within 5 s (a dead pooled connection, then a failed reconnect:
# 2 + 2 s) and the next request after the database returns is served again.
CONNECT_TIMEOUT = 2            # seconds to open a connection (libpq's minimum)
ANSWER_TIMEOUT = 2.0           # seconds any one exchange with the server may take, measured here (client side)
SERVER_TIMEOUTS = {            # the server's own limits, below ANSWER_TIMEOUT so a slow but alive server cancels first
    "statement_timeout": "1500ms",
    "lock_timeout": "1500ms",
    "idle_in_transaction_session_timeout": "10s",
}
IDLE_BEFORE_PING = 5.0         # seconds: a pooled connection idle longer is pinged before use (see _ping_when_idle)
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 3, "keepalives_count": 3,
              "tcp_user_timeout": 10_000}  # a vanished peer is noticed by the kernel, also on idle pooled connections


class PatientConnection(psycopg.Connection):
    """psycopg's connection that gives up on any one exchange with the server after ANSWER_TIMEOUT seconds.

    Neither statement_timeout (the server must be answering to apply it) nor TCP keepalives (something in between
    may still acknowledge packets) end a wait on a server that went silent; only the client can. On timeout the
    connection is closed, since its protocol state is unknown, so SQLAlchemy discards it and the error is a 503.
    """

    answer_timeout = ANSWER_TIMEOUT

    def wait(self, gen, *args, timeout=None, **kwargs):  # type: ignore[no-untyped-def, override]
        try:
            return super().wait(gen, *args, timeout=self.answer_timeout if timeout is None else timeout, **kwargs)
        except psycopg.errors._WaitTimeout:  # what psycopg (>= 3.3) raises when wait(timeout=) runs out
            self.pgconn.finish()
            raise


def _connect_patiently(_dialect, _record, cargs, cparams) -> PatientConnection:
    return PatientConnection.connect(*cargs, **cparams)


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pool_pre_ping, only for connections that sat idle in the pool.

    pool_pre_ping pings on every checkout: one more round trip to the server on every request. A connection given
    back a moment ago is as alive as a ping would show, so only one idle longer than IDLE_BEFORE_PING is pinged, as
    pre-ping does it: a fresh connection is not, and a failed ping discards every pooled connection (the server
    restarted) and the pool checks out a new one. A connection lost while busy fails its statement: discarded, 503.
    """
    @event.listens_for(engine, "connect")
    def note_fresh(_dbapi_connection, record) -> None:
        record.info["idle_since"] = None

    @event.listens_for(engine, "checkin")
    def note_idle_since(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_when_idle(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if not engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise  # as pre-ping: only a lost connection is replaced, any other error is reported
            raise exc.InvalidatePoolError("a pooled connection did not answer a ping") from error


def normalise_url(url: str) -> str:
    """Accept the usual postgres:// spellings and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL syncs at checkpoints instead of at every commit: a committed turn survives a crash of the
    # app, and only a power loss can take back the last few commits (the database itself stays consistent).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# --- SQLite that was (or is) read-only -----------------------------------------------------------------------------

SIDECARS = ("-wal", "-shm")  # WAL mode's companion files, created next to the database


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for other databases and in-memory ones)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _can(path: Path, mode: int) -> bool:
    """os.access for the user the process acts as (its effective ids), where the system can tell."""
    return os.access(path, mode, effective_ids=os.access in os.supports_effective_ids)


def writable_problems(path: Path) -> list[str]:
    """What stops this process from writing the SQLite database at `path` (empty when nothing does)."""
    folder = path.parent
    if not folder.is_dir():
        return [f"the folder {folder} does not exist"]
    problems = []
    if not _can(folder, os.W_OK | os.X_OK):
        problems.append(f"the folder {folder} is not writable (SQLite creates {path.name}-wal and "
                        f"{path.name}-shm next to the database)")
    problems += [f"{file} is read-only" for file in [path, *(Path(f"{path}{s}") for s in SIDECARS)]
                 if file.exists() and not _can(file, os.W_OK)]
    return problems


def say_if_not_writable(path: Path) -> None:
    problems = writable_problems(path)
    if problems:
        log.error("The SQLite database cannot be written by this process (user id %s): %s. Until that is fixed, "
                  "nothing can be saved and every change answers 503 'storage unavailable'; once the permissions "
                  "are right the app carries on by itself, without a restart.", os.geteuid(), "; ".join(problems))


def _repair_sidecars(path: Path) -> None:
    """A connection opened while the database was read-only created -wal/-shm read-only too (SQLite copies the
    database's mode). Once the database is writable again, give them its mode, or every connection stays read-only."""
    if not _can(path, os.W_OK):
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    for sidecar in (Path(f"{path}{s}") for s in SIDECARS):
        try:
            if sidecar.exists() and not _can(sidecar, os.W_OK):
                sidecar.chmod(mode)
        except OSError:  # not ours to change: say_if_not_writable names it
            pass


def _read_only_means_reconnect(path: Path):
    def handle_error(context: ExceptionContext) -> None:
        error = context.original_exception
        if isinstance(error, sqlite3.Error) and getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_READONLY:
            # A connection opened read-only stays so: discard it (and the pool), so the next request opens the file
            # afresh and writes again as soon as the permissions allow.
            _repair_sidecars(path)
            say_if_not_writable(path)
            context.is_disconnect = True
            # Close its statement now: an unfinished one keeps SQLite from really closing the connection, and while
            # any connection of this process has the file open, new ones share its read-only -shm mapping.
            cursor = getattr(context.execution_context, "cursor", None)
            if cursor is not None:
                cursor.close()
    return handle_error


def make_engine(url: str, serving: bool = True) -> Engine:
    """The engine for `url`. `serving`: the timeouts of a request (see above); migrations pass False."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        path = sqlite_file(url)
        if path is not None:
            event.listen(engine, "handle_error", _read_only_means_reconnect(path))
        return engine
    if not serving:
        return create_engine(url, connect_args={"connect_timeout": 10, **KEEPALIVES})
    options = " ".join(f"-c {name}={value}" for name, value in SERVER_TIMEOUTS.items())
    engine = create_engine(url, pool_size=5, max_overflow=5, pool_timeout=5,
                           connect_args={"connect_timeout": CONNECT_TIMEOUT, "options": options, **KEEPALIVES})
    event.listen(engine, "do_connect", _connect_patiently)
    _ping_when_idle(engine)
    return engine


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def init_app(app: Flask) -> None:
    url = normalise_url(app.config["DATABASE_URL"])
    app.config["DATABASE_URL"] = url
    engine = make_engine(url)
    path = sqlite_file(url)
    if path is not None:
        say_if_not_writable(path)  # at start-up, in words, rather than as 503s later
    app.extensions["db_engine"] = engine
    app.extensions["db_sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(close_session)
    app.cli.add_command(init_db_command)


def session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessions"]()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or migrate the database to the latest schema."""
    upgrade(current_app.config["DATABASE_URL"])
    click.echo("Database is up to date.")
