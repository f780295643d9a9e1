"""What travels: static files under content-hashed names, cached for good and precompressed; pages and JSON
compressed when the browser accepts it; personal responses never cached; the plain-HTML flow unchanged."""
from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

import brotli
import pytest

from assistant.web.delivery import build, hashed_name

from .conftest import WIDESPREAD_PAIN, Talk, make_app

STATIC = Path(__file__).resolve().parent.parent / "assistant" / "static"
HASHED_URL = re.compile(r'(?:href|src)="(/static/([\w/-]+)\.([0-9a-f]{12})\.(\w+))"')
A_YEAR = 365 * 24 * 3600
DECODE = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda body: body}


def body_of(response) -> bytes:
    """The body as the browser reads it, after undoing Content-Encoding."""
    return DECODE[response.headers.get("Content-Encoding")](response.get_data())


def text_of(response) -> str:
    return body_of(response).decode("utf-8")


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.headers.get("Cache-Control", "").split(",") if part.strip()}


def assert_varies_on_encoding(response) -> None:
    vary = {part.strip().lower() for part in response.headers.get("Vary", "").split(",")}
    assert "accept-encoding" in vary, response.headers.get("Vary")


def static_urls(page: str) -> list[tuple[str, str, str, str]]:
    return HASHED_URL.findall(page)


def visit_chat(client, accept: str = "br, gzip") -> str:
    """Landing, Start, the chat page; returns the chat page's HTML."""
    landing = client.get("/", headers={"Accept-Encoding": accept})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', text_of(landing)).group(1)
    assert client.post("/start", data={"csrf_token": csrf}).status_code == 303
    return text_of(client.get("/chat", headers={"Accept-Encoding": accept}))


# --- static files -------------------------------------------------------------------------------------------------

def test_pages_name_static_files_by_their_content_and_those_are_cached_for_good(client):
    page = visit_chat(client)
    found = static_urls(page)
    assert {f"{stem}.{ext}" for _, stem, _, ext in found} >= {"app.css", "chat.js", "favicon.svg"}
    assert not re.search(r'(?:href|src)="/static/[\w/-]+\.(?:css|js|svg)"', page), "an unhashed static URL"
    for url, stem, digest, ext in found:
        source = (STATIC / f"{stem}.{ext}").read_bytes()
        assert digest == hashlib.sha256(source).hexdigest()[:12], url
        with client.get(url) as response:
            assert response.status_code == 200
            assert response.get_data() == source
            policy = cache_control(response)
            assert "immutable" in policy and "public" in policy, policy
            max_age = next(int(p.split("=")[1]) for p in policy if p.startswith("max-age="))
            assert max_age >= A_YEAR
            assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("accept, expected", [("br, gzip", "br"), ("gzip", "gzip"), ("identity", None)])
def test_static_files_come_precompressed_in_what_the_browser_accepts(client, accept, expected):
    for url, stem, _, ext in static_urls(visit_chat(client)):
        if ext == "svg":
            continue  # the icon is too small to gain from compression either way
        with client.get(url, headers={"Accept-Encoding": accept}) as response:
            assert response.status_code == 200
            assert response.headers.get("Content-Encoding") == expected, url
            assert_varies_on_encoding(response)
            assert body_of(response) == (STATIC / f"{stem}.{ext}").read_bytes()
            if expected:
                assert int(response.headers["Content-Length"]) < 0.5 * len(body_of(response))


def test_an_svg_opened_on_its_own_keeps_the_pages_policy(client):
    url = next(u for u, stem, _, ext in static_urls(visit_chat(client)) if ext == "svg")
    with client.get(url) as response:
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "object-src 'none'" in response.headers["Content-Security-Policy"]


def test_unhashed_static_urls_still_work_and_are_revalidated(client):
    with client.get("/static/app.css") as response:
        assert response.status_code == 200
        assert response.get_data() == (STATIC / "app.css").read_bytes()
        assert "immutable" not in cache_control(response)
        assert "no-cache" in cache_control(response)


def test_the_build_is_content_addressed_and_keeps_earlier_versions(tmp_path):
    source, target = tmp_path / "static", tmp_path / "build"
    (source / "css").mkdir(parents=True)
    style = source / "css" / "site.css"
    style.write_text("body { color: black; }\n" * 100)
    first = build(source, target)["css/site.css"]
    assert re.fullmatch(r"css/site\.[0-9a-f]{12}\.css", first)
    assert build(source, target)["css/site.css"] == first  # the same bytes, the same name
    assert gzip.decompress((target / (first + ".gz")).read_bytes()) == style.read_bytes()
    assert brotli.decompress((target / (first + ".br")).read_bytes()) == style.read_bytes()
    style.write_text("body { color: navy; }\n" * 100)
    second = build(source, target)["css/site.css"]
    assert second != first and second == hashed_name("css/site.css", style.read_bytes())
    assert (target / first).exists(), "a page a worker served before may still name the earlier copy"


def test_without_a_writable_build_folder_the_app_serves_static_files_unhashed(tmp_path, database_url):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    app = make_app(database_url, STATIC_BUILD_DIR=str(blocked / "static"))
    try:
        client = app.test_client()
        page = text_of(client.get("/"))
        assert 'href="/static/app.css"' in page
        with client.get("/static/app.css") as response:
            assert response.status_code == 200
    finally:
        app.extensions["db_engine"].dispose()


def test_scripts_load_from_the_head_while_the_page_parses(client):
    page = visit_chat(client)
    head = page[:page.index("</head>")]
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts and all(tag in head for tag in scripts), "a script outside <head> is found only at the end"
    assert all('type="module"' in tag or " defer" in tag for tag in scripts), "a script that blocks parsing"


def test_the_landing_page_prefetches_the_chat_script_the_chat_page_runs(client):
    landing = text_of(client.get("/"))
    chat = visit_chat(client)
    prefetched = re.search(r'<link rel="prefetch" href="(/static/chat\.[0-9a-f]{12}\.js)">', landing).group(1)
    assert f'src="{prefetched}"' in chat, "the chat page runs the very file the landing page put in the cache"
    assert 'rel="prefetch"' not in chat  # it is there already


# --- pages and JSON -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("accept, expected", [("gzip, deflate, br", "br"), ("gzip", "gzip"), ("", None)])
def test_pages_are_compressed_when_asked_and_never_cached(client, accept, expected):
    visit_chat(client)
    for path in ("/", "/chat"):
        response = client.get(path, headers={"Accept-Encoding": accept})
        assert response.status_code == 200
        assert response.headers.get("Content-Encoding") == expected, path
        assert_varies_on_encoding(response)
        assert "no-store" in cache_control(response), path
        assert "</html>" in text_of(response)
        assert int(response.headers["Content-Length"]) == len(response.get_data())


@pytest.mark.parametrize("accept, expected", [("br", "br"), ("gzip", "gzip"), ("", None)])
def test_json_is_compressed_when_asked_and_never_cached(client, accept, expected):
    talk = Talk(client)
    question = talk.conversation["question"]["id"]
    response = client.post(f"/api/v1/conversations/{talk.id}/answers", headers={"Accept-Encoding": accept},
                           json={"question_id": question, "value": WIDESPREAD_PAIN[question], "step": 0})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == expected
    assert_varies_on_encoding(response)
    assert "no-store" in cache_control(response)
    assert json.loads(body_of(response)) == client.get(f"/api/v1/conversations/{talk.id}").get_json()


def test_small_and_error_responses_are_left_as_they_are(client):
    missing = client.get("/api/v1/conversations/" + "x" * 43, headers={"Accept-Encoding": "br"})
    assert missing.status_code == 404 and "Content-Encoding" not in missing.headers
    assert missing.get_json()["error"]["code"]


def test_a_shared_summary_keeps_its_private_headers_when_compressed(client):
    talk = Talk(client).through(WIDESPREAD_PAIN)
    link = client.post(f"/api/v1/conversations/{talk.id}/shares", json={}).get_json()["url"]
    path = "/s/" + link.rsplit("/s/", 1)[1]
    response = client.get(path, headers={"Accept-Encoding": "br"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "br"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers.get("X-Robots-Tag", "")
    assert "</html>" in text_of(response)


# --- the flow without JavaScript, as a browser that accepts compression ------------------------------------------

def test_the_plain_html_flow_reaches_the_result_with_compressed_pages(client):
    page = visit_chat(client)
    for _ in range(40):
        form = re.search(r'<form method="post" action="/chat/answer".*?</form>', page, re.S)
        if form is None:
            break
        hidden = dict(re.findall(r'name="(csrf_token|question_id|step)" value="([^"]*)"', form.group(0)))
        answer = WIDESPREAD_PAIN[hidden["question_id"]]
        posted = client.post("/chat/answer", data={**hidden, "value": answer},
                             headers={"Accept-Encoding": "br, gzip"})
        assert posted.status_code == 303, posted.status_code
        shown = client.get(posted.headers["Location"], headers={"Accept-Encoding": "br, gzip"})
        assert shown.status_code == 200 and shown.headers["Content-Encoding"] == "br"
        page = text_of(shown)
    else:
        pytest.fail("the conversation did not end")
    assert "Fibromyalgia" in page
