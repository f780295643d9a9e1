"""Settings are checked once, at start-up: a bad one stops the app (and the CLI) with a message naming it and saying
what it should be, instead of starting and answering 500 on every page."""
from __future__ import annotations

import pytest

from assistant import create_app
from assistant.config import SettingsError

from .conftest import make_app


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """A production-like environment for create_app() without a test config: it reads the environment."""
    for name in ("ASSISTANT_DEV", "REDIS_URL", "FORCE_HTTPS", "TRUSTED_PROXIES", "RETENTION_DAYS", "PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret")
    monkeypatch.setenv("PUBLIC_URL", "https://checkin.example.org")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'settings.sqlite3'}")
    return monkeypatch


@pytest.mark.parametrize("name, value, says", [
    ("RETENTION_DAYS", "0", "RETENTION_DAYS must be a whole number of at least 1, not '0'"),
    ("RETENTION_DAYS", "soon", "flask purge --all"),
    ("RETENTION_DAYS", "-3", "RETENTION_DAYS must be a whole number of at least 1"),
    ("TRUSTED_PROXIES", "one", "TRUSTED_PROXIES must be a whole number of at least 0, not 'one'"),
    ("FORCE_HTTPS", "maybe", "FORCE_HTTPS must be 1 (on) or 0 (off), not 'maybe'"),
    ("REDIS_URL", "127.0.0.1:6379", "REDIS_URL must be a redis://"),
    ("DATABASE_URL", "mysql://db/assistant", "DATABASE_URL must be a SQLite or PostgreSQL URL"),
    ("DATABASE_URL", "not a url", "DATABASE_URL must be a SQLite or PostgreSQL URL"),
    ("PUBLIC_URL", "http://checkin.example.org", "PUBLIC_URL must start with https://"),
])
def test_a_bad_setting_stops_the_start_with_a_clear_message(environment, name, value, says):
    environment.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        create_app()
    assert says in str(refused.value)


def test_every_bad_setting_is_named_at_once(environment):
    environment.setenv("RETENTION_DAYS", "0")
    environment.setenv("TRUSTED_PROXIES", "-1")
    with pytest.raises(SettingsError) as refused:
        create_app()
    assert "RETENTION_DAYS" in str(refused.value) and "TRUSTED_PROXIES" in str(refused.value)


def test_good_settings_are_read_in_their_type(environment):
    for name, value in (("RETENTION_DAYS", "14"), ("TRUSTED_PROXIES", "1"), ("FORCE_HTTPS", "true"),
                        ("REDIS_URL", "redis://127.0.0.1:1/0")):
        environment.setenv(name, value)
    app = create_app()
    assert (app.config["RETENTION_DAYS"], app.config["TRUSTED_PROXIES"], app.config["FORCE_HTTPS"]) == (14, 1, True)
    app.extensions["db_engine"].dispose()


def test_defaults_when_unset(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'd.sqlite3'}")
    assert (app.config["RETENTION_DAYS"], app.config["TRUSTED_PROXIES"], app.config["FORCE_HTTPS"]) == (30, 0, False)
    app.extensions["db_engine"].dispose()


def test_the_cli_refuses_too(environment, tmp_path):
    """`flask purge` (a cron job) with RETENTION_DAYS=0 must not run with a guess: it stops with the same message."""
    from click.testing import CliRunner
    from flask.cli import FlaskGroup
    environment.setenv("RETENTION_DAYS", "0")
    result = CliRunner().invoke(FlaskGroup(create_app=create_app), ["purge"])
    assert result.exit_code != 0
    assert "RETENTION_DAYS must be a whole number of at least 1" in str(result.exception or result.output)


def test_a_test_config_is_checked_as_well(tmp_path):
    with pytest.raises(SettingsError, match="RETENTION_DAYS"):
        make_app(f"sqlite:///{tmp_path / 'x.sqlite3'}", RETENTION_DAYS=0)
