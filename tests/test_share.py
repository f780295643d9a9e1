"""Share links: token strength and hashing, expiry and revoke, read-only pages, headers, QR code, the person's page."""
from __future__ import annotations

import base64
import html as html_lib
import hashlib
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import segno
from sqlalchemy import inspect, select, text

from assistant.store import db
from assistant.web.errors import Gone, NotFound
from assistant.store.models import Share
from assistant.store.sharing import Sharing, token_hash

from .conftest import WIDESPREAD_PAIN

TOKEN = re.compile(r"/s/([A-Za-z0-9_-]+)")
START = datetime(2026, 3, 1, 9, 0, 0)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app) -> Clock:
    app.config["CLOCK"] = clock = Clock()
    return clock


@pytest.fixture
def finished(talk):
    return talk().through(WIDESPREAD_PAIN)


def share(client, conversation_id: str, **body) -> dict:
    response = client.post(f"/api/v1/conversations/{conversation_id}/shares", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def token_of(url: str) -> str:
    return TOKEN.search(url).group(1)


def path_of(url: str) -> str:
    return "/s/" + token_of(url)


def every_stored_value(app) -> list[str]:
    """Every value in every table of the database, as text."""
    engine = app.extensions["db_engine"]
    values = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                values.extend(str(v) for v in row)
    return values


SHARE_HEADERS = {"Cache-Control": "no-store"}


def assert_share_headers(response, referrer_policy: str = "no-referrer") -> None:
    assert response.headers.get("Referrer-Policy") == referrer_policy, response.request.path
    for name, value in SHARE_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name), response.request.path)
    assert "noindex" in response.headers.get("X-Robots-Tag", "")


# --- tokens -----------------------------------------------------------------------------------------------------------

def test_tokens_are_long_random_and_only_their_hash_is_stored(app, client, finished):
    links = [share(client, finished.id) for _ in range(5)]
    tokens = [token_of(link["url"]) for link in links]
    assert len(set(tokens)) == 5
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128, "a token carries at least 128 bits"
        assert finished.id not in token and token not in finished.id

    stored = every_stored_value(app)
    for token in tokens:
        assert not any(token in value for value in stored), "a token was found in clear in the database"
    with app.app_context():
        hashes = set(db.session().scalars(select(Share.token_hash)))
    assert hashes == {hashlib.sha256(t.encode()).hexdigest() for t in tokens}


def test_sqlite_file_never_holds_a_token(tmp_path):
    from assistant.store.db import upgrade

    from .conftest import Talk, make_app
    path = tmp_path / "scan.sqlite3"
    upgrade(f"sqlite:///{path}")
    app = make_app(f"sqlite:///{path}")
    client = app.test_client()
    conversation = Talk(client).through(WIDESPREAD_PAIN)
    tokens = [token_of(share(client, conversation.id)["url"]) for _ in range(3)]
    app.extensions["db_engine"].dispose()
    raw = b"".join(p.read_bytes() for p in Path(tmp_path).glob("scan.sqlite3*"))
    assert conversation.id.encode() in raw  # the scan does see what is stored
    for token in tokens:
        assert token.encode() not in raw
        assert token_hash(token).encode() in raw


def test_domain_expiry_and_revoke_with_injected_clock(app, finished):
    clock = Clock()
    with app.app_context():
        sharing = Sharing(db.session(), now=clock)
        link = sharing.create(finished.id, expires_in_days=2)
        assert link.expires_at == START + timedelta(days=2)
        clock.advance(days=2, seconds=-1)
        assert sharing.resolve(link.token).conversation.id == finished.id
        clock.advance(seconds=1)
        with pytest.raises(Gone) as expired:
            sharing.resolve(link.token)
        assert expired.value.extra == {"reason": "expired"}
        other = sharing.create(finished.id, expires_in_days=30)
        assert sharing.revoke_all(finished.id) == 2  # the expired one is switched off too
        with pytest.raises(Gone) as revoked:
            sharing.resolve(other.token)
        assert revoked.value.extra == {"reason": "revoked"}
        with pytest.raises(NotFound):
            sharing.resolve("x" * 43)


# --- the API ------------------------------------------------------------------------------------------------------------

def test_create_defaults_to_seven_days_and_returns_the_contract_shape(client, clock, finished):
    response = client.post(f"/api/v1/conversations/{finished.id}/shares", json={})
    assert response.status_code == 201
    body = response.get_json()
    assert {"url", "expires_at", "qr_svg_url"} <= set(body)
    assert body["expires_at"] == "2026-03-08T09:00:00Z"
    assert body["url"].startswith("http") and body["qr_svg_url"] == body["url"] + "/qr.svg"
    assert response.headers["Location"] == body["url"]
    assert response.headers["Cache-Control"] == "no-store"
    assert share(client, finished.id, expires_in_days=30)["expires_at"] == "2026-03-31T09:00:00Z"
    assert client.post(f"/api/v1/conversations/{finished.id}/shares").status_code == 201  # no body: defaults


@pytest.mark.parametrize("days", [0, 31, -1, "7", 7.5, None, True])
def test_expiry_outside_one_to_thirty_days_is_422(client, finished, days):
    response = client.post(f"/api/v1/conversations/{finished.id}/shares", json={"expires_in_days": days})
    assert response.status_code == 422
    assert "expires_in_days" in response.get_json()["error"]["fields"]


def test_share_api_errors(client, talk, finished):
    url = f"/api/v1/conversations/{finished.id}/shares"
    assert client.post(url, data="days=3", content_type="application/x-www-form-urlencoded").status_code == 415
    assert client.post(url, data="{nope", content_type="application/json").status_code == 400
    assert client.post(url, json=[1]).status_code == 400
    assert client.post("/api/v1/conversations/nope/shares", json={}).status_code == 404
    assert client.delete("/api/v1/conversations/nope/shares").status_code == 404
    unfinished = talk()
    unfinished.answer("40_49")
    response = client.post(f"/api/v1/conversations/{unfinished.id}/shares", json={})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "not_finished"


def test_a_check_in_is_shared_with_its_intake_not_on_its_own(client, finished):
    from .test_checkins import CALM_DAY, CheckIn
    checkin = CheckIn(client, finished.id).through(CALM_DAY)
    assert checkin.conversation["status"] == "finished"
    response = client.post(f"/api/v1/conversations/{checkin.id}/shares", json={})
    assert response.status_code == 404 and "intake" in response.get_json()["error"]["message"]
    assert client.post(f"/api/v1/conversations/{finished.id}/shares", json={}).status_code == 201


# --- expiry and revoke over HTTP --------------------------------------------------------------------------------------

def test_expired_link_is_a_friendly_410(client, clock, finished):
    link = share(client, finished.id, expires_in_days=1)
    page = path_of(link["url"])
    clock.advance(hours=23, minutes=59)
    for suffix in ("", "/handout", "/fhir", "/qr.svg"):
        assert client.get(page + suffix).status_code == 200, suffix
    clock.advance(minutes=1)
    response = client.get(page)
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "This link has stopped working" in html and "expired" in html
    assert_share_headers(response)
    assert client.get(page + "/handout").status_code == 410
    assert client.get(page + "/qr.svg").status_code == 410
    asked_json = client.get(page, headers={"Accept": "application/json"})
    assert asked_json.status_code == 410 and asked_json.get_json()["error"]["reason"] == "expired"
    fhir = client.get(page + "/fhir")
    assert fhir.status_code == 410
    assert fhir.get_json()["error"] == {"code": "gone", "message": "This link has expired.", "fields": {},
                                        "reason": "expired"}


def test_stop_sharing_revokes_every_link_of_that_conversation_only(client, clock, talk, finished):
    first, second = share(client, finished.id), share(client, finished.id)
    someone_else = talk().through(WIDESPREAD_PAIN)
    theirs = share(client, someone_else.id)
    assert client.delete(f"/api/v1/conversations/{finished.id}/shares").status_code == 204
    for link in (first, second):
        response = client.get(path_of(link["url"]))
        assert response.status_code == 410
        assert "switched off" in response.get_data(as_text=True)
        assert client.get(path_of(link["url"]) + "/fhir").get_json()["error"]["reason"] == "revoked"
    assert client.get(path_of(theirs["url"])).status_code == 200
    again = share(client, finished.id)  # sharing can start again with a new link
    assert client.get(path_of(again["url"])).status_code == 200
    assert client.get(path_of(first["url"])).status_code == 410


def test_deleting_the_conversation_kills_its_links(app, client, finished):
    link = share(client, finished.id)
    page = path_of(link["url"])
    assert client.get(page).status_code == 200
    assert client.delete(f"/api/v1/conversations/{finished.id}").status_code == 204
    for suffix in ("", "/handout", "/fhir", "/qr.svg"):
        assert client.get(page + suffix).status_code in (404, 410), suffix
    with app.app_context():
        assert db.session().scalars(select(Share)).all() == []


@pytest.mark.parametrize("token", ["abc", "x" * 43, "x" * 500, "%C3%A9t%C3%A9", "a.b"])
def test_unknown_or_malformed_tokens_are_404_pages(client, token):
    response = client.get(f"/s/{token}")
    assert response.status_code == 404
    assert "does not work" in response.get_data(as_text=True)
    assert client.get(f"/s/{token}/fhir").get_json()["error"]["code"] == "not_found"


# --- what a shared page shows --------------------------------------------------------------------------------------

EDITING = re.compile(r"<(form|input|textarea|select)\b|formaction|contenteditable|/rewind|/answers|method=",
                     re.IGNORECASE)


def test_shared_pages_are_read_only_and_never_show_the_conversation_id(client, finished):
    link = share(client, finished.id)
    page = path_of(link["url"])
    for suffix in ("", "/handout", "/fhir", "/qr.svg"):
        response = client.get(page + suffix)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert finished.id not in body, f"{suffix or 'summary'} shows the conversation id"
        assert_share_headers(response)
    for suffix in ("", "/handout"):
        html = client.get(page + suffix).get_data(as_text=True)
        assert not EDITING.search(html), EDITING.search(html)
        buttons = re.findall(r"<button[^>]*>", html)
        assert all('type="button"' in b for b in buttons)  # only the print button, which submits nothing
        # no referrer ever leaves the page, even though base.html sets a default in a meta tag
        assert re.findall(r'<meta name="referrer" content="([^"]+)"', html)[-1] == "no-referrer"
    assert client.post(page).status_code in (400, 405)  # nothing to post to


def test_summary_and_handout_say_what_was_answered_in_words(app, client, finished):
    """The same facts on both: the person's words on the summary, a clinician's on the handout."""
    link = share(client, finished.id)
    flow = app.extensions["engines"].get("muscle-pain").flow
    result = finished.result()
    summary = html_lib.unescape(client.get(path_of(link["url"])).get_data(as_text=True))
    handout = html_lib.unescape(client.get(path_of(link["url"]) + "/handout").get_data(as_text=True))
    for question_id, value in WIDESPREAD_PAIN.items():
        question = flow.question(question_id)
        for v in [value] if isinstance(value, str) else value:
            if v != "none":
                assert question.label(v).lower() in summary.lower(), question.label(v)
                assert flow.clinical.term(question, v) in handout, flow.clinical.term(question, v)
    top = result["conditions"][0]
    for page in (summary, handout):
        assert top["name"] in page
        assert "version 2" in page or "v2" in page
        assert "%" not in page, "a fit never shows as a percentage"
        assert "Strong match" in page or "strong match" in page
    assert "Leading pattern: Fibromyalgia" in handout
    # a clinician's headings: the question's own name, what the check suggests (not what the person chose), and
    # the answers denied with what they told us rather than under the warning signs
    assert "<dt>Morning stiffness</dt>" in summary and "<dt>Stiffness</dt>" not in summary
    assert "Conditions the check suggests discussing" in summary and "Conditions the check suggests" in handout
    told = summary[summary.index('id="answers-title"'):]
    warning = summary[summary.index('id="warning-title"'):summary.index('id="answers-title"')]
    assert "Asked about and answered no" in told and "Asked about and answered no" not in warning
    assert "widespread" in handout and "> 3 mo" in handout and "insidious onset" in handout
    assert "Print / Save as PDF" in handout
    assert re.search(r'src="/static/handout\.[0-9a-f]{12}\.js"', handout)
    assert "Notes" in handout and "Tests they may ask about" in handout
    assert re.search(r"Name <span class=\"ho-blank\"></span> Date of birth", handout)


def test_handout_lists_pertinent_negatives_medicines_and_key_features(client, talk):
    story = dict(WIDESPREAD_PAIN, red_flags=["weight_loss_night_sweats"], exposures=["statin", "little_sun"],
                 history=["anticoagulant", "diabetes"])
    person = talk().through(story)
    handout = html_lib.unescape(client.get(path_of(share(client, person.id)["url"]) + "/handout").text)
    negatives = re.search(r"Pertinent negatives \(asked, answered no\):</strong> ([^<]+)", handout).group(1)
    assert "dyspnoea" in negatives and "weight loss" not in negatives
    assert re.search(r"\(\+\d+\)\.$", negatives)  # the rest are counted, and listed in the full summary
    assert "Red flags reported:</strong> weight loss / night sweats" in handout
    assert re.search(r"<dt>Medicines</dt><dd>statin; anticoagulant</dd>", handout)
    assert "little sun exposure" in handout and "diabetes" in handout
    fibromyalgia = re.search(r"<strong>Fibromyalgia</strong>(.+?)</li>", handout, re.S).group(1)
    assert "for:" in fibromyalgia and "widespread" in fibromyalgia


def test_a_feature_against_made_of_answers_not_chosen_reads_as_denied(app):
    """Vitamin D's "against": asked about sun and diet, chose neither. "no little sun exposure" said the opposite."""
    from assistant.content.flows import load_flows
    from assistant.config import PROJECT_ROOT
    from assistant.web.share import key_features
    flow = load_flows(PROJECT_ROOT / "flows")[("muscle-pain", 2)]
    with app.test_request_context(headers={"Accept-Language": "en"}):
        _, against = key_features(flow, "vitamin_d_deficiency", {**{k: tuple(v) if isinstance(v, list) else (v,)
                                                                    for k, v in WIDESPREAD_PAIN.items()},
                                                                 "exposures": ("none",)})
    assert "denies little sun exposure, restricted (e.g. vegan) diet" in against
    assert not [text for text in against if text.startswith("no ")]


def test_medicines_asked_and_denied_are_said_as_such(client, talk):
    person = talk().through(WIDESPREAD_PAIN)  # exposures and history: none
    handout = html_lib.unescape(client.get(path_of(share(client, person.id)["url"]) + "/handout").text)
    assert re.search(r"<dt>Medicines</dt><dd>none of those asked about \(statin; diuretic or laxative; .*?"
                     r"proton pump inhibitor; .*?anticoagulant\)</dd>", handout)
    negatives = re.search(r"Pertinent negatives \(asked, answered no\):</strong> ([^<]+)", handout).group(1)
    assert "chest pain" in negatives and "statin" not in negatives  # a medicine is not a warning sign


def test_the_fhir_button_is_for_the_clinician_and_the_handout_leads_back(client, finished):
    link = path_of(share(client, finished.id)["url"])
    clinician = client.get(link).text
    assert "FHIR R4" in clinician and "Back to sharing" not in clinician
    assert 'href="{}/handout"'.format(link) in clinician
    client.set_cookie("conversation", finished.id)  # the person who shared it, previewing
    owner = client.get(link).text
    assert "FHIR R4" not in owner and 'href="/share">‹ Back to sharing' in owner
    assert 'href="{}/handout?from=share"'.format(link) in owner
    back = re.compile(r'<a class="btn quiet" href="([^"]+)">(Back[^<]+)</a>')
    assert back.search(client.get(link + "/handout?from=share").text).groups() == ("/share", "Back to sharing")
    for query in ("", "?from=https://evil.example/", "?from=//evil.example", "?from=summary"):
        assert back.search(client.get(link + "/handout" + query).text).groups() == (link, "Back to the full summary")


def test_emergency_stop_can_be_shared_and_says_so(client, talk):
    stopped = talk().through({"age_band": "40_49", "red_flags": ["chest_pain"]})
    assert stopped.conversation["status"] == "stopped_emergency"
    link = share(client, stopped.id)
    handout = client.get(path_of(link["url"]) + "/handout").get_data(as_text=True)
    assert "Emergency" in handout and "Red flags reported:</strong> chest pain." in handout
    assert "stopped at an emergency warning sign" in handout


def test_a_rewound_conversation_shows_its_answers_without_a_result(client, finished):
    link = share(client, finished.id)
    client.post(f"/api/v1/conversations/{finished.id}/rewind", json={"question_id": "duration"})
    page = client.get(path_of(link["url"])).get_data(as_text=True)
    assert "no result yet" in page
    assert client.get(path_of(link["url"]) + "/fhir").get_json()["status"] == "in-progress"


# --- QR code --------------------------------------------------------------------------------------------------------

def modules_from_svg(svg: bytes) -> tuple[int, list[list[bool]]]:
    """Rebuild the module grid from segno's path (horizontal dark runs: M x y, h n, m dx dy), border included."""
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    paths = root.findall(".//{http://www.w3.org/2000/svg}path")
    background = [p for p in paths if p.get("fill")]
    lines = [p for p in paths if p.get("stroke")]
    assert len(lines) == 1
    size = int(re.match(r"M0 0h(\d+)v", background[0].get("d")).group(1))
    grid = [[False] * size for _ in range(size)]
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", lines[0].get("d")):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            for i in range(int(float(a))):
                grid[int(y)][int(x) + i] = True
            x += float(a)
    return size, grid


def finder_at(grid: list[list[bool]], top: int, left: int) -> bool:
    """A 7x7 finder pattern: dark ring, light ring, dark 3x3 centre."""
    for r in range(7):
        for c in range(7):
            ring = max(abs(r - 3), abs(c - 3))
            if grid[top + r][left + c] != (ring != 2):
                return False
    return True


def test_qr_code_is_an_svg_of_exactly_the_share_link(client, finished):
    link = share(client, finished.id)
    response = client.get(path_of(link["qr_svg_url"]) + "/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = response.data
    assert b"<script" not in svg and b"style=" not in svg
    size, grid = modules_from_svg(svg)
    border = 4
    symbol = size - 2 * border
    assert (symbol - 17) % 4 == 0, "a QR symbol is 21, 25, 29, ... modules wide"
    for top, left in ((0, 0), (0, symbol - 7), (symbol - 7, 0)):
        assert finder_at(grid, border + top, border + left), (top, left)
    assert not any(grid[0]) and not any(row[0] for row in grid), "a quiet zone surrounds the code"
    expected = segno.make(link["url"], error="m", micro=False)
    inner = [row[border:size - border] for row in grid[border:size - border]]
    assert inner == [[bool(m) for m in row] for row in expected.matrix], "the code encodes another text"


# --- the person's page: /share ----------------------------------------------------------------------------------------

@pytest.fixture
def csrf_app(database_url):
    from .conftest import make_app
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    app.config["CLOCK"] = Clock()
    yield app
    app.extensions["db_engine"].dispose()


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_share_page_makes_shows_and_stops_links(csrf_app):
    """Over HTTPS, with the Referer a browser sends under each page's referrer policy (the client's job): the forms
    of /share must pass the CSRF check's same-origin Referer test, while the token never leaves in a Referer."""
    from .conftest import Talk
    client = csrf_app.test_client()
    assert client.get("/share").status_code == 404  # no conversation on this device
    conversation = Talk(client)
    conversation.answer("40_49")
    client.set_cookie("conversation", conversation.id)
    assert "Answer the last questions first" in client.get("/share").get_data(as_text=True)
    conversation.through(WIDESPREAD_PAIN)

    page = client.get("/share")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and conversation.id not in html
    assert page.request.url == "https://localhost/share"
    assert_share_headers(page, referrer_policy="same-origin")  # its URL holds no token; same-origin only
    assert re.findall(r'<meta name="referrer" content="([^"]+)"', html)[-1] == "same-origin"
    chips = re.findall(r'<input type="radio" name="expires_in_days" value="(\d+)"( checked)?>', html)
    assert chips == [("1", ""), ("7", " checked"), ("14", ""), ("30", "")]  # one tap makes a 7-day link
    assert "Stop sharing" not in html  # nothing is shared yet
    assert 'href="/chat/result">‹ Back to your result' in html
    refused = client.post("/share", data={"action": "create", "expires_in_days": "3"})  # no CSRF token
    assert refused.status_code == 400 and "nothing was changed" in refused.get_data(as_text=True)

    token = csrf_token(html)
    created = client.post("/share", data={"csrf_token": token, "action": "create", "expires_in_days": "3"})
    assert created.status_code == 303, created.get_data(as_text=True)[:300]
    assert created.request.headers["Referer"] == "https://localhost/share"
    html = client.get("/share").get_data(as_text=True)
    link_token = token_of(html)
    assert conversation.id not in html
    assert f'<img src="/s/{link_token}/qr.svg"' in html
    assert f'value="http://127.0.0.1:5000/s/{link_token}"' in html  # PUBLIC_URL's default in development and 'id="copy-link" hidden' in html
    # the script says it in the person's own time; without it, the date and how many days are left
    assert '<time datetime="2026-03-04T09:00:00Z" data-local>4 March 2026</time></strong>\n          (in 3 days)' in html
    assert "Stop sharing" in html
    assert f'href="/s/{link_token}/handout?from=share"' in html
    assert client.post("/share", data={"csrf_token": token, "action": "create", "expires_in_days": "31"}
                       ).status_code == 422
    tampered = client.post("/share", data={"csrf_token": token, "action": "delete-everything"})
    assert tampered.status_code == 422 and "so nothing was changed" in tampered.text
    assert "Must be one of" not in tampered.text and "action:" not in tampered.text  # words, not the validator's

    summary = client.get(f"/s/{link_token}")  # "See what your doctor will see", then back to /share
    assert summary.status_code == 200
    assert_share_headers(summary)
    back = client.get("/share")
    assert "Referer" not in back.request.headers  # a no-referrer page: the token did not leave in a Referer
    stopped = client.post("/share", data={"csrf_token": token, "action": "stop"})
    assert stopped.status_code == 303, stopped.get_data(as_text=True)[:300]
    html = client.get("/share").get_data(as_text=True)
    assert "Sharing stopped" in html and link_token not in html
    assert client.get(f"/s/{link_token}").status_code == 410


def test_a_form_posted_from_a_no_referrer_page_is_refused_over_https(csrf_app):
    """Why /share cannot keep `no-referrer`: over HTTPS the CSRF check refuses a post without a same-origin Referer
    (and a no-referrer page sends `Origin: null`), so that policy stops every form of the page."""
    from .conftest import Talk
    client = csrf_app.test_client()
    conversation = Talk(client).through(WIDESPREAD_PAIN)
    client.set_cookie("conversation", conversation.id)
    token = csrf_token(client.get("/share").get_data(as_text=True))
    refused = client.post("/share", data={"csrf_token": token, "action": "create"},
                          headers={"Referer": "", "Origin": "null"})
    assert refused.status_code == 400 and "nothing was changed" in refused.get_data(as_text=True)
    elsewhere = client.post("/share", data={"csrf_token": token, "action": "create"},
                            headers={"Referer": "https://evil.example/share", "Origin": "https://evil.example"})
    assert elsewhere.status_code == 400


# --- sharing while the conversation is being deleted -------------------------------------------------------------------

def delete_just_before_the_link_is_stored(app, conversation_id: str) -> list[bool]:
    """When the app is about to store the link, the conversation is deleted and committed by another connection
    (Delete my answers, or `flask purge`, in another request); returns a list that says whether that happened."""
    from sqlalchemy import delete, event

    from assistant.store.db import make_engine
    from assistant.store.models import Answer, Conversation
    other, happened = make_engine(app.config["DATABASE_URL"]), []

    def delete_first(_connection, _cursor, statement, *_args) -> None:
        if statement.startswith("INSERT INTO share") and not happened:
            happened.append(True)
            with other.begin() as connection:
                for model in (Share, Answer):
                    connection.execute(delete(model).where(model.conversation_id == conversation_id))
                connection.execute(delete(Conversation).where(Conversation.id == conversation_id))
            other.dispose()
    event.listen(app.extensions["db_engine"], "before_cursor_execute", delete_first)
    return happened


def test_sharing_while_the_conversation_is_deleted_is_404_not_an_outage(app, client, finished, caplog):
    happened = delete_just_before_the_link_is_stored(app, finished.id)
    response = client.post(f"/api/v1/conversations/{finished.id}/shares", json={})
    assert happened == [True]
    assert response.status_code == 404, response.get_json()
    assert response.get_json()["error"]["code"] == "not_found"
    assert "storage unavailable" not in caplog.text  # not logged as an outage


def test_the_share_page_while_the_conversation_is_deleted_is_404(csrf_app, caplog):
    from .conftest import Talk
    client = csrf_app.test_client()
    conversation = Talk(client).through(WIDESPREAD_PAIN)
    client.set_cookie("conversation", conversation.id)
    token = csrf_token(client.get("/share").get_data(as_text=True))
    happened = delete_just_before_the_link_is_stored(csrf_app, conversation.id)
    response = client.post("/share", data={"csrf_token": token, "action": "create", "expires_in_days": "7"})
    assert happened == [True]
    assert response.status_code == 404 and "text/html" in response.content_type
    assert "storage unavailable" not in caplog.text
