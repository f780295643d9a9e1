import pytest

from assistant import create_app
from assistant.web.security import InsecureConfiguration
from assistant.store.db import normalise_url


def test_test_config_overrides_defaults(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    app = create_app({"TESTING": True, "DATABASE_URL": url})
    assert app.testing
    assert app.config["DATABASE_URL"] == url
    assert "muscle-pain" in {e.flow.id for e in app.extensions["engines"].latest()}


def test_default_database_is_sqlite_in_instance_folder(monkeypatch):
    monkeypatch.setenv("ASSISTANT_DEV", "1")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["DATABASE_URL"].startswith("sqlite:///")
    assert app.config["DATABASE_URL"].endswith("instance/assistant.sqlite3")


def test_database_url_from_environment(monkeypatch):
    monkeypatch.setenv("ASSISTANT_DEV", "1")
    monkeypatch.setenv("DATABASE_URL", "postgres://someone@db.example:5432/app")
    app = create_app()
    assert app.config["DATABASE_URL"] == "postgresql+psycopg://someone@db.example:5432/app"


def test_normalise_url_keeps_other_urls():
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"
    assert normalise_url("postgresql://a@b/c") == "postgresql+psycopg://a@b/c"


def test_init_db_command_creates_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    app = create_app({"TESTING": True, "DATABASE_URL": url})
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    from sqlalchemy import inspect
    assert {"conversation", "answer", "share"} <= set(inspect(app.extensions["db_engine"]).get_table_names())


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("ASSISTANT_DEV", raising=False)
    monkeypatch.setenv("PUBLIC_URL", "https://checkin.example.org")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(InsecureConfiguration, match="SECRET_KEY must be set"):
        create_app()


def test_production_starts_with_secret_key_and_secure_cookies(monkeypatch):
    monkeypatch.delenv("ASSISTANT_DEV", raising=False)
    monkeypatch.setenv("PUBLIC_URL", "https://checkin.example.org")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
