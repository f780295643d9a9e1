"""Absolute URLs come from PUBLIC_URL only: share links, QR codes, handout and FHIR URLs, Location, the HTTPS redirect.
A client's Host or X-Forwarded-Host (even through a trusted proxy) never changes them."""
from __future__ import annotations

import pytest
from flask import Flask

from assistant import create_app

from assistant.web import urls
from assistant.config import DEVELOPMENT_PUBLIC_URL, SettingsError, public_url
from assistant.web.share import qr_svg

from .conftest import WIDESPREAD_PAIN, Talk, make_app

PUBLIC = "https://checkin.example.org"
EVIL = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}


@pytest.fixture
def behind_proxy(sqlite_url_factory) -> Flask:
    app = make_app(sqlite_url_factory(), TESTING=False, SECRET_KEY="a-long-random-production-secret",
                   TRUSTED_PROXIES=1, PUBLIC_URL=PUBLIC + "/", RATELIMIT_ENABLED=False)
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def sqlite_url_factory(tmp_path):
    from assistant.store.db import upgrade

    def make(name: str = "urls.sqlite3") -> str:
        url = f"sqlite:///{tmp_path / name}"
        upgrade(url)
        return url
    return make


def test_share_links_qr_handout_fhir_and_location_ignore_the_host_the_client_sent(behind_proxy):
    client = behind_proxy.test_client()
    client.base_url = "https://evil.example"  # the Host header the client sends; X-Forwarded-Host below too
    conversation = Talk(client).through(WIDESPREAD_PAIN)
    created = client.post(f"/api/v1/conversations/{conversation.id}/shares", json={}, headers=EVIL)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    token = body["url"].rsplit("/", 1)[1]
    assert body["url"] == f"{PUBLIC}/s/{token}"
    assert created.headers["Location"] == body["url"]
    assert (body["qr_svg_url"], body["handout_url"], body["fhir_url"]) == (
        f"{PUBLIC}/s/{token}/qr.svg", f"{PUBLIC}/s/{token}/handout", f"{PUBLIC}/s/{token}/fhir")

    qr = client.get(f"/s/{token}/qr.svg", headers=EVIL)
    assert qr.status_code == 200 and qr.data == qr_svg(f"{PUBLIC}/s/{token}")  # the code encodes the real link
    fhir = client.get(f"/s/{token}/fhir", headers=EVIL).get_json()
    assert fhir["questionnaire"].startswith(f"{PUBLIC}/api/v1/flows/muscle-pain/questionnaire|")
    questionnaire = client.get("/api/v1/flows/muscle-pain/questionnaire", headers=EVIL).get_json()
    assert questionnaire["url"] == f"{PUBLIC}/api/v1/flows/muscle-pain/questionnaire"

    client.set_cookie("conversation", conversation.id, domain="evil.example")
    with client.session_transaction(base_url=client.base_url) as session:
        session["share_token"] = token
    page = client.get("/share", headers=EVIL).get_data(as_text=True)
    assert f"{PUBLIC}/s/{token}" in page and "evil.example" not in page


def test_the_https_redirect_goes_to_public_url_not_to_the_host_sent(sqlite_url_factory):
    app = make_app(sqlite_url_factory(), TESTING=False, SECRET_KEY="a-long-random-production-secret",
                   FORCE_HTTPS=True, PUBLIC_URL=PUBLIC)
    client = app.test_client()
    response = client.get("/api/v1/flows?x=1", base_url="http://evil.example", headers={"Host": "evil.example"})
    assert response.status_code == 301
    assert response.headers["Location"] == f"{PUBLIC}/api/v1/flows?x=1"
    form = client.post("/start", base_url="http://evil.example")
    assert form.status_code == 308 and form.headers["Location"] == f"{PUBLIC}/start"
    app.extensions["db_engine"].dispose()


def test_a_path_prefix_is_kept_and_urls_build_outside_a_request(sqlite_url_factory):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": sqlite_url_factory(),
                      "PUBLIC_URL": "https://example.org/check-in/"})
    with app.app_context():  # a CLI command or a background job: no request at all
        assert urls.public_base() == "https://example.org/check-in"
        assert urls.public_url("share.summary", token="T" * 43) == f"https://example.org/check-in/s/{'T' * 43}"
    app.extensions["db_engine"].dispose()


def test_public_url_is_required_and_checked_at_start_up(sqlite_url_factory, monkeypatch):
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    production = {"TESTING": False, "SECRET_KEY": "a-long-random-production-secret",
                  "DATABASE_URL": sqlite_url_factory()}
    with pytest.raises(SettingsError, match="PUBLIC_URL must be set outside development"):
        create_app(production)
    for bad in ("checkin.example.org", "ftp://example.org", "https://", "https://example.org/?a=1",
                "https://user:pw@example.org", "https://example.org/#top"):
        with pytest.raises(SettingsError, match="PUBLIC_URL must look like"):
            create_app({**production, "PUBLIC_URL": bad})
    with pytest.raises(SettingsError, match="must start with https://"):
        create_app({**production, "PUBLIC_URL": "http://checkin.example.org"})
    with pytest.raises(SettingsError, match="FORCE_HTTPS"):
        public_url("http://127.0.0.1:5000", development=True, force_https=True)
    assert public_url(None, development=True) == DEVELOPMENT_PUBLIC_URL == "http://127.0.0.1:5000"
    assert public_url(" https://example.org/ ", development=False) == "https://example.org"
