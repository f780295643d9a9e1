"""Shared fixtures: an app per test on SQLite (and on PostgreSQL when it answers), a client, and a Talk helper."""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from assistant import create_app
from assistant.store.db import upgrade

from .https_client import BrowserClient

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TABLES = ("share", "answer", "conversation")
LOCALES = Path(__file__).resolve().parent.parent / "assistant" / "locales"


def pytest_sessionstart(session: pytest.Session) -> None:
    """The pages' gettext catalogs compiled as `make test` does (pybabel compile), for a run of pytest alone."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    for po in LOCALES.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source, mo.open("wb") as target:
                write_mo(target, read_po(source, locale=po.parts[-3]))


def _postgres_answers() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as err:  # any failure to connect means: skip, and say why
        return f"PostgreSQL does not answer at {POSTGRES_URL}: {type(err).__name__}"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    reason = _postgres_answers()
    if reason:
        pytest.skip(reason)
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        for table in TABLES + ("alembic_version",):
            connection.execute(text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    engine.dispose()
    upgrade(POSTGRES_URL)
    return POSTGRES_URL


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
        upgrade(url)
        return url
    url = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


def make_app(database_url: str, **config: Any):
    settings = {"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": database_url}
    settings.update(config)
    if not settings["TESTING"]:  # as deployed: links are built on PUBLIC_URL, the address the test client uses
        settings.setdefault("PUBLIC_URL", "https://localhost")
    app = create_app(settings)
    app.test_client_class = BrowserClient  # over HTTPS, with the Referer a browser sends (tests/https_client.py)
    return app


@pytest.fixture
def app(database_url):
    app = make_app(database_url)
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def call_json(url: str, method: str, body: Any = None) -> tuple[int, Any]:
    """One HTTP request to a served app: (status, decoded JSON body or None)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        raw = err.read()
        return err.code, json.loads(raw) if raw else None


class Talk:
    """Hold a conversation over the JSON API as a person would, one answer at a time."""

    def __init__(self, client, flow: str = "muscle-pain") -> None:
        self.client = client
        response = client.post("/api/v1/conversations", json={"flow": flow})
        assert response.status_code == 201, response.get_json()
        self.conversation = response.get_json()
        self.asked: list[str] = []

    @property
    def id(self) -> str:
        return self.conversation["id"]

    def answer(self, value: Any, question_id: str | None = None):
        question_id = question_id or self.conversation["question"]["id"]
        response = self.client.post(f"/api/v1/conversations/{self.id}/answers",
                                    json={"question_id": question_id, "value": value,
                                          "step": self.conversation["step"]})
        if response.status_code == 200:
            self.conversation = response.get_json()
            self.asked.append(question_id)
        return response

    def through(self, answers: dict[str, Any]) -> "Talk":
        """Answer every question the flow asks from `answers` until it ends."""
        while self.conversation["status"] == "active":
            question_id = self.conversation["question"]["id"]
            assert question_id in answers, f"the flow asked '{question_id}', which the story does not answer"
            response = self.answer(answers[question_id])
            assert response.status_code == 200, response.get_json()
        return self

    def result(self) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/conversations/{self.id}/result")
        assert response.status_code == 200, response.get_json()
        return response.get_json()


@pytest.fixture
def talk(client):
    return lambda flow="muscle-pain": Talk(client, flow)


WIDESPREAD_PAIN = {
    "age_band": "40_49", "sex": "female", "red_flags": ["none"], "main_complaint": "pain",
    "pain_locations": ["everywhere", "neck", "lower_back"], "pain_sides": "both_sides",
    "pain_character": ["deep_ache", "tender_all_over"], "duration": "over_3_months", "onset": "gradual",
    "morning_stiffness": "under_30_min", "time_pattern": "constant", "exertion_response": "no_change",
    "triggers": ["stress", "cold"], "associated": ["unrefreshing_sleep", "brain_fog", "headaches"],
    "exposures": ["none"], "history": ["none"],
}
