"""The database lifecycle: engine and session per app, one session per request, migrations, `flask init-db`."""
from __future__ import annotations

from pathlib import Path

import click
import psycopg
from alembic import command
from alembic.config import Config
from flask import Flask, current_app, g
from flask.cli import with_appcontext
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"

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


def make_engine(url: str, serving: bool = True) -> Engine:
    """The engine for `url`. `serving`: the timeouts of a request (see above); migrations pass False."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if not serving:
        return create_engine(url, connect_args={"connect_timeout": 10, **KEEPALIVES})
    options = " ".join(f"-c {name}={value}" for name, value in SERVER_TIMEOUTS.items())
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, pool_timeout=5,
                           connect_args={"connect_timeout": CONNECT_TIMEOUT, "options": options, **KEEPALIVES})
    event.listen(engine, "do_connect", _connect_patiently)
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
