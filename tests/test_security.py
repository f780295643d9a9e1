"""Web security: headers and CSP, HTTPS, CSRF on forms, rate limits (memory and Redis), size limit, cookies, logs."""
from __future__ import annotations

import logging
import re
import threading
import uuid

import pytest
from flask import Blueprint, Flask, render_template_string, request, session
from werkzeug.serving import make_server

from assistant import create_app
from assistant.web.security import CSP, InsecureConfiguration, limiter, redact

from .conftest import WIDESPREAD_PAIN, Talk, make_app

EXACT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
             "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
REDIS_URL = "redis://127.0.0.1:6379/0"


# --- a tiny form page that exists whatever the chat pages look like today ---------------------------------------

FORM = """<form method="post" action="/test-form"><input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<input name="note"><button>Send</button></form>"""


def form_blueprint() -> Blueprint:
    bp = Blueprint("test_form", __name__)

    @bp.get("/test-form")
    def show():
        session["seen"] = True
        return render_template_string(FORM)

    @bp.post("/test-form")
    def send():
        return "sent"

    @bp.get("/test-boom")
    def boom():
        raise RuntimeError("secret internals: answers=" + request.args.get("x", ""))

    return bp


def with_form(app: Flask) -> Flask:
    app.register_blueprint(form_blueprint())
    return app


def csrf_token_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def sqlite_url(tmp_path):
    from assistant.store.db import upgrade
    url = f"sqlite:///{tmp_path / 'security.sqlite3'}"
    upgrade(url)
    return url


def production_app(url: str, **config) -> Flask:
    """As deployed: not testing, not development, a real secret."""
    settings = {"TESTING": False, "SECRET_KEY": "a-long-random-production-secret", "DATABASE_URL": url,
                "PUBLIC_URL": "https://localhost"}
    settings.update(config)
    return create_app(settings)


@pytest.fixture
def prod(sqlite_url):
    app = with_form(production_app(sqlite_url))
    yield app
    app.extensions["db_engine"].dispose()


# --- headers ---------------------------------------------------------------------------------------------------------

def test_strict_headers_on_pages_api_and_errors(client):
    for path in ("/", "/api/v1/flows", "/api/v1/conversations/nope", "/s/unknown-token", "/no-such-page"):
        response = client.get(path, base_url="http://localhost")
        assert response.headers["Content-Security-Policy"] == EXACT_CSP, path
        assert "unsafe-inline" not in EXACT_CSP and "unsafe-eval" not in EXACT_CSP
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer")
        assert "Access-Control-Allow-Origin" not in response.headers  # no cross-origin reads of anyone's answers
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP: HSTS would be ignored anyway
    assert client.get("/").headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_csp_is_the_declared_policy():
    assert CSP["frame-ancestors"] == "'none'" and CSP["script-src"] == "'self'" and CSP["style-src"] == "'self'"


def test_answers_are_never_cached(client, talk):
    conversation = talk()
    for response in (client.get(f"/api/v1/conversations/{conversation.id}"), conversation.answer("40_49"),
                     client.get("/")):
        assert response.headers["Cache-Control"] == "no-store"


def test_hsts_over_https(client):
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_force_https_redirects_plain_http(sqlite_url):
    app = production_app(sqlite_url, FORCE_HTTPS=True)
    client = app.test_client()
    response = client.get("/api/v1/flows")
    assert response.status_code in (301, 302) and response.headers["Location"].startswith("https://")
    secure = client.get("/api/v1/flows", base_url="https://localhost")
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    app.extensions["db_engine"].dispose()


def test_one_apps_https_setting_does_not_leak_into_another_app_of_the_process(sqlite_url):
    forced = production_app(sqlite_url, FORCE_HTTPS=True)
    plain = make_app(sqlite_url)
    assert plain.test_client().get("/api/v1/flows", base_url="http://localhost").status_code == 200
    assert forced.test_client().get("/api/v1/flows", base_url="http://localhost").status_code in (301, 302)
    for app in (forced, plain):
        app.extensions["db_engine"].dispose()


def test_behind_a_trusted_proxy_the_forwarded_scheme_and_client_count(sqlite_url):
    app = production_app(sqlite_url, FORCE_HTTPS=True, TRUSTED_PROXIES=1)
    seen = {}

    @app.get("/test-who")
    def who():
        seen["addr"], seen["scheme"] = request.remote_addr, request.scheme
        return "ok"

    response = app.test_client().get("/test-who", headers={"X-Forwarded-For": "203.0.113.9",
                                                           "X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert seen == {"addr": "203.0.113.9", "scheme": "https"}
    assert "Strict-Transport-Security" in response.headers
    app.extensions["db_engine"].dispose()


# --- secret key, cookies --------------------------------------------------------------------------------------------

def test_production_refuses_to_start_without_a_real_secret(sqlite_url):
    for secret in (None, "", "dev"):
        with pytest.raises(InsecureConfiguration, match="SECRET_KEY must be set"):
            production_app(sqlite_url, SECRET_KEY=secret)


def test_cookies_are_secure_httponly_samesite_in_production(prod):
    client = prod.test_client()
    response = client.get("/test-form", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "; SameSite=Lax" in cookie


def test_the_conversation_cookie_of_the_chat_is_secure_in_production(prod):
    if "chat.start" not in prod.view_functions:
        pytest.skip("the chat pages have no start form yet")
    client = prod.test_client()
    token = csrf_token_from(client.get("/test-form", base_url="https://localhost").get_data(as_text=True))
    response = client.post("/start", data={"csrf_token": token}, base_url="https://localhost",
                           headers={"Referer": "https://localhost/"})
    assert response.status_code in (302, 303), response.status_code
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("conversation=")]
    assert cookies, response.headers
    assert all("; Secure" in c and "; HttpOnly" in c and "; SameSite=Lax" in c for c in cookies)


# --- CSRF ------------------------------------------------------------------------------------------------------------

def test_csrf_is_enforced_on_html_forms(prod):
    client = prod.test_client()
    page = client.get("/test-form", base_url="https://localhost")
    token = csrf_token_from(page.get_data(as_text=True))
    refused = client.post("/test-form", data={"note": "hi"}, base_url="https://localhost")
    assert refused.status_code == 400
    assert "text/html" in refused.content_type
    forged = client.post("/test-form", data={"note": "hi", "csrf_token": "forged"}, base_url="https://localhost")
    assert forged.status_code == 400
    other_client = prod.test_client()  # a token from someone else's session does not work either
    assert other_client.post("/test-form", data={"csrf_token": token},
                             base_url="https://localhost").status_code == 400
    accepted = client.post("/test-form", data={"note": "hi", "csrf_token": token}, base_url="https://localhost",
                           headers={"Referer": "https://localhost/test-form"})
    assert accepted.status_code == 200 and accepted.get_data(as_text=True) == "sent"


def test_every_html_form_route_refuses_a_post_without_a_token(prod):
    """Whatever forms the chat and share pages have, none accepts a cross-site post."""
    client = prod.test_client()
    form_routes = [rule.rule for rule in prod.url_map.iter_rules()
                   if "POST" in rule.methods and not rule.rule.startswith("/api/") and "<" not in rule.rule]
    assert "/test-form" in form_routes
    for path in form_routes:
        response = client.post(path, data={"question_id": "age_band", "value": "40_49"},
                               base_url="https://localhost")
        assert response.status_code == 400, path


def test_the_json_api_cannot_be_posted_to_from_a_cross_site_form(client):
    """The API is CSRF-exempt because a form cannot send JSON: a form post is refused before anything happens."""
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain"):
        response = client.post("/api/v1/conversations", data="flow=muscle-pain", content_type=content_type)
        assert response.status_code == 415, content_type


# --- rate limits -----------------------------------------------------------------------------------------------------

SMALL_LIMITS = {"api.assess": "60 per minute", "api.create_conversation": "30 per minute",
                "api.answer": "240 per minute", "api.rewind": "120 per minute",
                "api.delete_conversation": "30 per minute", "api.start_checkin": "10 per minute"}


def rate_limited_app(url: str, **config) -> Flask:
    config.setdefault("ROUTE_LIMITS", SMALL_LIMITS)
    return make_app(url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", **config)


def test_default_limits_let_tools_run_many_cases():
    from assistant.web.security import ROUTE_LIMITS
    amount, _, unit = ROUTE_LIMITS["api.assess"].split()
    per_minute = int(amount) * (60 if unit == "second" else 1)
    assert per_minute >= 1000


def exhaust(client, path: str, json_body, limit: int, **kwargs):
    for i in range(limit):
        response = client.post(path, json=json_body, **kwargs)
        assert response.status_code != 429, f"limited after {i} requests"
    return client.post(path, json=json_body, **kwargs)


def assert_rate_limited(response, limit: int):
    assert response.status_code == 429
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited" and error["message"] and error["fields"] == {}
    assert int(response.headers["Retry-After"]) >= 0
    assert response.headers["X-RateLimit-Limit"] == str(limit)


def test_rate_limit_per_route_is_429_json_in_the_error_shape(sqlite_url):
    app = rate_limited_app(sqlite_url)
    client = app.test_client()
    limited = exhaust(client, "/api/v1/assess", {"answers": {"age_band": "40_49"}}, 60)
    assert_rate_limited(limited, 60)
    assert client.post("/api/v1/conversations", json={}).status_code == 201  # other routes have their own count
    app.extensions["db_engine"].dispose()


def test_starting_check_ins_is_rate_limited_on_its_own(sqlite_url):
    app = rate_limited_app(sqlite_url)
    client = app.test_client()
    path = "/api/v1/conversations/" + "a" * 43 + "/checkins"  # the shape of an id, no such intake: 404 until limited
    limited = exhaust(client, path, {}, 10)
    assert_rate_limited(limited, 10)
    assert client.post("/api/v1/conversations", json={}).status_code == 201
    app.extensions["db_engine"].dispose()


def test_a_tool_may_fetch_every_fhir_definition_at_once_while_share_links_stay_slowed(sqlite_url):
    """The Questionnaire, CodeSystems and ValueSets are public, with no key to guess: not under the share API's
    limit."""
    from assistant.web.security import BLUEPRINT_LIMITS
    app = rate_limited_app(sqlite_url)
    client = app.test_client()
    definitions = []
    for engine in app.extensions["engines"].all():
        flow = engine.flow
        base = f"/api/v1/flows/{flow.id}"
        definitions.append(f"{base}/questionnaire?version={flow.version}")
        for question in flow.questions:
            definitions += [f"{base}/codesystems/{question.id}?version={flow.version}",
                            f"{base}/valuesets/{question.id}?version={flow.version}"]
    share_limit = int(BLUEPRINT_LIMITS["share_api"].split()[0])
    assert len(definitions) > 2 * share_limit
    statuses = {client.get(path).status_code for path in definitions}
    assert statuses == {200}
    limited = exhaust(client, "/api/v1/conversations/" + "a" * 43 + "/shares", {}, share_limit)  # 404 until limited
    assert_rate_limited(limited, share_limit)
    app.extensions["db_engine"].dispose()


def fail_storage(monkeypatch) -> None:
    """Every share-link lookup meets a storage outage."""
    from sqlalchemy.exc import OperationalError

    def unavailable(*_args, **_kwargs):
        raise OperationalError("SELECT share", {}, ConnectionError("server closed the connection"))
    monkeypatch.setattr("assistant.store.sharing.Sharing.resolve", unavailable)


def test_retry_after_is_only_on_429_and_503_and_says_what_each_means(sqlite_url, monkeypatch):
    app = rate_limited_app(sqlite_url)
    client = app.test_client()
    created = client.post("/api/v1/conversations", json={})
    assert created.status_code == 201 and "X-RateLimit-Limit" in created.headers  # the limiter counted it
    assert "Retry-After" not in created.headers
    assert "Retry-After" not in client.get("/").headers
    fail_storage(monkeypatch)
    outage = client.get(f"/s/{'T' * 43}/fhir")
    assert outage.status_code == 503 and outage.headers["Retry-After"] == "5"  # ours, not the limiter's window
    limited = exhaust(client, "/api/v1/assess", {"answers": {"age_band": "40_49"}}, 60)
    assert limited.status_code == 429 and 0 <= int(limited.headers["Retry-After"]) <= 60
    app.extensions["db_engine"].dispose()


def test_share_exports_answer_errors_in_their_own_media_type_during_an_outage(client, monkeypatch):
    fail_storage(monkeypatch)
    token = "T" * 43
    fhir = client.get(f"/s/{token}/fhir")  # a FHIR client that sends no Accept header
    assert fhir.status_code == 503 and fhir.mimetype == "application/json"
    assert fhir.get_json()["error"]["code"] == "unavailable"
    qr = client.get(f"/s/{token}/qr.svg")  # an <img>: text, never an HTML page
    assert qr.status_code == 503 and qr.mimetype == "text/plain" and "<" not in qr.get_data(as_text=True)
    page = client.get(f"/s/{token}")
    assert page.status_code == 503 and page.mimetype == "text/html"


def test_rate_limit_is_per_client(sqlite_url):
    app = rate_limited_app(sqlite_url)
    client = app.test_client()
    assert_rate_limited(exhaust(client, "/api/v1/conversations", {}, 30), 30)
    other = client.post("/api/v1/conversations", json={}, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 201
    app.extensions["db_engine"].dispose()


def test_rate_limited_page_is_a_page(sqlite_url):
    app = rate_limited_app(sqlite_url)
    client = app.test_client()
    for _ in range(60):
        client.get("/s/unknown-token")
    response = client.get("/s/unknown-token")
    assert response.status_code == 429 and "text/html" in response.content_type
    app.extensions["db_engine"].dispose()


def redis_unavailable() -> str | None:
    try:
        import redis
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
        return None
    except Exception as err:  # any failure means: skip, and say why
        return f"Redis does not answer at {REDIS_URL}: {type(err).__name__}"


def test_rate_limits_are_shared_through_redis_between_processes(sqlite_url):
    reason = redis_unavailable()
    if reason:
        pytest.skip(reason)
    prefix = f"assistant-test-{uuid.uuid4().hex}"
    config = {"REDIS_URL": REDIS_URL, "RATELIMIT_ENABLED": True, "RATELIMIT_KEY_PREFIX": prefix,
              "ROUTE_LIMITS": SMALL_LIMITS}
    first = make_app(sqlite_url, **config)
    assert first.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    client = first.test_client()
    for _ in range(30):
        assert client.post("/api/v1/conversations", json={}).status_code == 201
    # A second app (as another process would) with its own limiter storage object, counting in the same Redis.
    second = make_app(sqlite_url, **config)
    assert_rate_limited(second.test_client().post("/api/v1/conversations", json={}), 30)
    import redis
    connection = redis.Redis.from_url(REDIS_URL)
    keys = list(connection.scan_iter(f"*{prefix}*"))
    assert keys, "the counts live in Redis"
    connection.delete(*keys)
    for app in (first, second):
        app.extensions["db_engine"].dispose()


# --- sizes, methods, odd URLs, internals ------------------------------------------------------------------------------

def test_request_size_limit_is_413_json_for_the_api_and_a_page_for_forms(prod):
    client = prod.test_client()
    big = "x" * (prod.config["MAX_CONTENT_LENGTH"] + 1)
    api = client.post("/api/v1/assess", data=big, content_type="application/json", base_url="https://localhost")
    assert api.status_code == 413 and api.get_json()["error"]["code"] == "too_large"
    form = client.post("/test-form", data={"note": big}, base_url="https://localhost",
                       headers={"Accept-Language": "es"})
    assert form.status_code == 413 and "text/html" in form.content_type
    assert "así que no se cambió nada" in form.text and "capacity limit" not in form.text  # the page's own words


def test_absurdly_nested_json_is_a_400_not_a_crash(client):
    nested = "[" * 30_000 + "]" * 30_000  # under the size limit, far over Python's recursion limit
    conversation = client.post("/api/v1/conversations", json={}).get_json()
    for path in ("/api/v1/assess", f"/api/v1/conversations/{conversation['id']}/answers",
                 f"/api/v1/conversations/{conversation['id']}/shares"):
        response = client.post(path, data=nested, content_type="application/json")
        assert response.status_code == 400, path
        assert response.get_json()["error"]["code"] == "malformed_json"


def test_wrong_method_is_405_with_allow(client):
    response = client.put("/api/v1/assess", json={})
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


def test_a_forms_address_opened_as_a_page_shows_the_question_and_other_wrong_methods_say_so_in_words(client):
    for path in ("/start", "/chat/answer", "/chat/rewind", "/chat/back", "/chat/delete"):
        opened = client.get(path)  # a restored tab, a copied address: nothing changes
        assert opened.status_code == 303 and opened.headers["Location"].startswith("/chat"), path
    for path in ("/checkin/start", "/checkin/answer", "/checkin/rewind", "/checkin/back"):
        assert client.get(path).status_code == 303, path
    page = client.put("/chat", headers={"Accept-Language": "en-GB"})
    assert page.status_code == 405 and "Go back and use the buttons on the page." in page.text
    assert "The method is not allowed" not in page.text


def test_nul_in_an_id_is_404_not_a_storage_error(client):
    response = client.get("/api/v1/conversations/abc%00def")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_a_server_error_shows_no_internals(prod):
    client = prod.test_client()
    page = client.get("/test-boom?x=42", base_url="https://localhost")
    assert page.status_code == 500 and "secret internals" not in page.get_data(as_text=True)
    api = client.get("/test-boom?x=42", base_url="https://localhost", headers={"Accept": "application/json"})
    assert api.status_code == 500
    assert api.get_json()["error"]["code"] == "internal_error"
    assert "secret internals" not in api.get_data(as_text=True)


# --- logs ------------------------------------------------------------------------------------------------------------

DISTINCTIVE = sorted({v for value in WIDESPREAD_PAIN.values() for v in ([value] if isinstance(value, str) else value)
                      if "_" in v})


def test_no_answers_or_ids_in_the_logs(client, caplog):
    caplog.set_level(logging.DEBUG)
    conversation = Talk(client).through(WIDESPREAD_PAIN)
    client.post(f"/api/v1/conversations/{conversation.id}/answers",
                json={"question_id": "duration", "value": "over_3_months", "step": 0})  # stale
    client.post("/api/v1/assess", json={"answers": {**WIDESPREAD_PAIN, "age_band": "tender_all_over_x"}})  # 422
    client.get(f"/api/v1/conversations/{conversation.id}/result")
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert conversation.id not in logged
    assert not [value for value in DISTINCTIVE if value in logged]


def test_request_logs_redact_conversation_ids_and_share_tokens(sqlite_url, caplog):
    app = make_app(sqlite_url)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        import urllib.request
        caplog.set_level(logging.INFO, logger="werkzeug")
        conversation_id = "A" * 43
        for path in (f"/api/v1/conversations/{conversation_id}", f"/s/{conversation_id}"):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}{path}", timeout=5)
            except Exception:  # 404s raise; the log line is what matters
                pass
    finally:
        server.shutdown()
        thread.join(5)
        app.extensions["db_engine"].dispose()
    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert any("/api/v1/conversations/[redacted]" in line for line in lines), lines
    assert any("/s/[redacted]" in line for line in lines), lines
    assert not any(conversation_id in line for line in lines)


def test_redact_keeps_ordinary_paths():
    assert redact("GET /api/v1/flows HTTP/1.1") == "GET /api/v1/flows HTTP/1.1"
    token = "Zx9_-" * 9
    assert redact(f"GET /s/{token}/handout") == "GET /s/[redacted]/handout"


@pytest.fixture(autouse=True)
def _limiter_back_to_default():
    yield
    limiter.enabled = False  # the next app's init sets it again; nothing counts between tests


# --- data minimisation -----------------------------------------------------------------------------------------------

def test_no_question_can_collect_free_text_or_identity(app):
    """Questions are choices only: there is no field a name, a date of birth or an address could be typed into."""
    for engine in app.extensions["engines"].latest():
        for question in engine.flow.questions:
            assert question.type in ("choice", "multi") and question.options, question.id
            assert not re.search(r"name|email|phone|address|birth|postcode|zip", question.id), question.id


def test_delete_my_answers_removes_everything_and_the_links_stop_working(app, client):
    conversation = Talk(client).through(WIDESPREAD_PAIN)
    link = client.post(f"/api/v1/conversations/{conversation.id}/shares", json={}).get_json()["url"]
    token_path = "/" + link.split("/", 3)[3]
    assert client.get(token_path).status_code == 200
    assert client.delete(f"/api/v1/conversations/{conversation.id}").status_code == 204
    from sqlalchemy import func, select
    from assistant.store import db
    from assistant.store.models import Answer, Conversation, Share
    with app.app_context():
        for model in (Conversation, Answer, Share):
            assert db.session().scalar(select(func.count()).select_from(model)) == 0, model.__name__
    assert client.get(token_path).status_code == 404
    assert client.get(f"/api/v1/conversations/{conversation.id}/result").status_code == 404


class SilentRedis:
    """Accepts connections and never answers (a hung Redis, or one behind a black hole). Each connection is closed by
    whichever side gives up first: the client (its socket timeout) or this server after `guard` seconds."""

    def __init__(self, guard: float = 3.0) -> None:
        import socket
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"
        self.guard, self.ended = guard, []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._hold, args=(connection,), daemon=True).start()

    def _hold(self, connection) -> None:
        import socket
        connection.settimeout(self.guard)
        try:
            while connection.recv(1024):
                pass  # never answer
            self.ended.append("client gave up")
        except socket.timeout:
            self.ended.append("server guard")
        except OSError:
            self.ended.append("client gave up")
        connection.close()


def test_a_redis_that_never_answers_does_not_hold_requests(sqlite_url):
    """The limiter's Redis has a short socket timeout: the client gives up long before the silent server's guard
    (3 s; without a timeout of its own, the limiter's client waited 5 s per command)."""
    redis = SilentRedis()
    app = make_app(sqlite_url, REDIS_URL=redis.url, RATELIMIT_ENABLED=True)
    client = app.test_client()
    for _ in range(3):
        assert client.post("/api/v1/conversations", json={}).status_code == 201  # served, counted in memory
    assert redis.ended and set(redis.ended) == {"client gave up"}, redis.ended
    redis.listener.close()
    app.extensions["db_engine"].dispose()


def test_rate_limiting_survives_redis_going_away(sqlite_url):
    """With Redis unreachable the limits fall back to this process's memory; requests are still served."""
    app = make_app(sqlite_url, REDIS_URL="redis://127.0.0.1:1/0", RATELIMIT_ENABLED=True)
    response = app.test_client().post("/api/v1/conversations", json={})
    assert response.status_code == 201
    app.extensions["db_engine"].dispose()
