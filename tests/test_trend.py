"""The trend of daily check-ins: a server-drawn SVG chart and its text equivalent, from 0, 1 and 30 entries; on the
result page, the shared summary and the handout (over HTTPS, SQLite and PostgreSQL)."""
import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest

from assistant.engine import checkins as checkins_module
from assistant.engine.checkins import Entry
from assistant.web import trend

from .conftest import WIDESPREAD_PAIN, Talk
from .fhir_forms import answered
from .test_checkins import CALM_DAY, CheckIn

TODAY = date(2026, 3, 30)
NAMES = {"pacing": "Pacing your energy (instead of pushing through)", "sleep_quality": "Better sleep"}


def entry(days_ago: int, pain: int | None, sleep: int = 5, energy: int = 4, tried=("pacing",),
          status: str = "finished", urgency: str = "routine") -> Entry:
    scores = {"pain": pain, "sleep": sleep, "energy": energy, "interference": 3}
    return Entry(id=f"e{days_ago}", day=TODAY - timedelta(days=days_ago), status=status, scores=scores,
                 tried=tuple(tried), urgency=urgency, answers={})


def month() -> list[Entry]:
    """30 days, pain falling from 8 to 3; pacing on the even days, better sleep on every third."""
    return [entry(29 - i, pain=8 - (5 * i) // 29, sleep=3 + i // 6, energy=2 + i // 8,
                  tried=tuple(a for a, on in (("pacing", i % 2 == 0), ("sleep_quality", i % 3 == 0)) if on))
            for i in range(30)]


class Page(HTMLParser):
    """What a screen reader and a printer get: the chart's accessible name and the table's cells."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.rows: list[list[str]] = []
        self.texts: dict[str, str] = {}
        self._cell: list[str] | None = None
        self._in: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self._cell = []
        if tag in ("title", "desc"):
            self._in = dict(attrs).get("id")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag in ("title", "desc"):
            self._in = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in:
            self.texts[self._in] = self.texts.get(self._in, "") + data

    def count(self, tag: str) -> int:
        return sum(1 for t, _ in self.tags if t == tag)


def render(app, built: trend.Trend, **extra) -> Page:
    with app.test_request_context("/"):
        template = app.jinja_env.get_template("_trend.html")
        return Page(template.render(trend=built, **extra))


@pytest.fixture(scope="module")
def plain_app():
    from .conftest import make_app
    return make_app("sqlite://")


def test_no_entries_say_so_and_draw_nothing(plain_app):
    built = trend.build([], NAMES.get, TODAY)
    assert built.entries == () and built.days == trend.SHORT
    page = render(plain_app, built)
    assert page.count("svg") == 0 and page.count("table") == 0


def test_one_entry_is_a_point_on_each_line_and_one_row(plain_app):
    built = trend.build([entry(0, pain=6)], NAMES.get, TODAY)
    assert [len(line.points) for line in built.lines] == [1, 1, 1]
    assert built.summary == "Pain 6 on 1 day; Pacing your energy (instead of pushing through) tried"
    page = render(plain_app, built)
    assert page.count("svg") == 1 and page.count("circle") == 3 and page.count("polyline") == 0
    assert page.count("rect") == 1  # the one day pacing was tried
    header, row = page.rows
    assert header == ["Day", "Pain", "Sleep", "Energy", "Got in the way", "Tried"]
    assert row == ["30 Mar", "6", "5", "4", "3", "Pacing your energy (instead of pushing through)"]


def test_thirty_entries_fill_a_month_with_every_number_in_the_table(plain_app):
    entries = month()
    built = trend.build(entries, NAMES.get, TODAY, summary_name=lambda area: area.replace("_", " "))
    assert built.days == trend.LONG and len(built.entries) == 30
    assert [len(line.points) for line in built.lines] == [30, 30, 30]
    pain = built.lines[0]
    assert pain.points[0].y < pain.points[-1].y  # lower on the chart (SVG y grows down): pain fell from 8 to 3
    assert len(pain.path.split()) == 30
    xs = [p.x for p in pain.points]
    assert xs == sorted(xs) and trend.LEFT < xs[0] and xs[-1] < trend.WIDTH - trend.RIGHT
    assert [(a.id, a.count) for a in built.areas] == [("pacing", 15), ("sleep_quality", 10)]
    assert built.summary == "Pain 8 → 3 over 30 days; pacing tried on 15 of them, sleep quality on 10"
    page = render(plain_app, built, trend_id="t")
    assert page.count("polyline") == 3 and page.count("circle") == 90 and page.count("rect") == 25
    assert len(page.rows) == 31
    for row, e in zip(page.rows[1:], entries):  # the table says every number the chart draws
        assert row[1:5] == [str(e.scores[s]) for s in ("pain", "sleep", "energy", "interference")]
    svg = dict(next(attrs for tag, attrs in page.tags if tag == "svg"))
    assert svg["role"] == "img" and svg["aria-labelledby"] == "t-title t-desc"
    assert page.texts["t-title"] == "Daily check-ins from 1 March 2026 to 30 March 2026"
    assert page.texts["t-desc"].startswith("Pain 8 → 3 over 30 days")


def test_older_entries_leave_the_chart_and_a_young_diary_shows_two_weeks():
    assert trend.build([entry(40, pain=9), entry(3, pain=4)], NAMES.get, TODAY).entries[0].day == TODAY - timedelta(3)
    assert trend.build([entry(13, pain=9), entry(0, pain=4)], NAMES.get, TODAY).days == trend.SHORT
    assert trend.build([entry(14, pain=9), entry(0, pain=4)], NAMES.get, TODAY).days == trend.LONG


def test_a_day_that_stopped_at_a_warning_sign_is_in_the_table_without_made_up_numbers(plain_app):
    stopped = entry(0, pain=None, sleep=None, energy=None, tried=(), status="stopped_emergency", urgency="emergency")
    stopped.scores["interference"] = None
    built = trend.build([entry(1, pain=5), stopped], NAMES.get, TODAY)
    assert [len(line.points) for line in built.lines] == [1, 1, 1]
    page = render(plain_app, built)
    assert page.rows[2][1:] == ["–", "–", "–", "–", "– · warning sign"]


# --- on the pages, with check-ins made over the API ----------------------------------------------------------------------

@pytest.fixture
def month_of_checkins(client, monkeypatch):
    intake = Talk(client).through(WIDESPREAD_PAIN)
    real_today = checkins_module.today()
    area = intake.result()["lifestyle"][0]["id"]
    for days_ago in range(29, -1, -1):
        monkeypatch.setattr(checkins_module, "today", lambda d=days_ago: real_today - timedelta(days=d))
        CheckIn(client, intake.id).through({**CALM_DAY, "pain": str(8 - (29 - days_ago) // 6),
                                            "tried": [area] if days_ago % 2 else ["none"]})
    monkeypatch.undo()
    return intake, area


def test_the_shared_summary_and_the_handout_show_the_month(client, month_of_checkins):
    intake, area = month_of_checkins
    link = client.post(f"/api/v1/conversations/{intake.id}/shares", json={}).get_json()
    path = re.search(r"/s/[^/]+", link["url"]).group(0)
    summary = Page(client.get(path).get_data(as_text=True))
    assert summary.count("polyline") == 3 and len(summary.rows) == 31
    assert any(text.startswith("Pain 8 → 4 over 30 days") for text in summary.texts.values())
    handout = client.get(path + "/handout").get_data(as_text=True)
    assert "Pain 8 → 4 over 30 days; " in handout and "tried on 15 of them" in handout
    assert handout.count("<polyline") == 3 and "<table" not in handout  # one page: the line says it


def test_a_shared_intake_without_check_ins_shows_no_chart(client):
    intake = Talk(client).through(WIDESPREAD_PAIN)
    link = client.post(f"/api/v1/conversations/{intake.id}/shares", json={}).get_json()
    path = re.search(r"/s/[^/]+", link["url"]).group(0)
    assert "<svg class=\"trend-chart\"" not in client.get(path).get_data(as_text=True)
    assert "<svg class=\"trend-chart\"" not in client.get(path + "/handout").get_data(as_text=True)


def test_the_check_ins_export_as_a_fhir_bundle_of_daily_check_responses(client, month_of_checkins):
    Bundle = pytest.importorskip("fhir.resources.R4B.bundle").Bundle
    QuestionnaireResponse = pytest.importorskip("fhir.resources.R4B.questionnaireresponse").QuestionnaireResponse
    intake, area = month_of_checkins
    link = client.post(f"/api/v1/conversations/{intake.id}/shares", json={}).get_json()
    path = re.search(r"/s/[^/]+", link["url"]).group(0)
    response = client.get(path + "/fhir/checkins")
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    body = response.get_json()
    bundle = Bundle.model_validate(body)
    assert bundle.type == "collection" and len(bundle.entry) == 30
    questionnaire = client.get("/api/v1/flows/daily-check/questionnaire").get_json()
    first = body["entry"][0]["resource"]
    QuestionnaireResponse.model_validate(first)
    assert first["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"
    assert first["status"] == "completed"
    assert answered(first) == {"red_flags": ["none"], "pain": ["8"], "sleep": ["4"], "energy": ["3"], "interference": ["5"],
                     "tried": [area]}
    assert intake.id not in response.get_data(as_text=True)
    entries = client.get(f"/api/v1/conversations/{intake.id}/checkins").get_json()
    assert [answered(e["resource"])["pain"] for e in body["entry"]] == [[str(e["scores"]["pain"])] for e in entries]
    assert all(e["id"] not in response.get_data(as_text=True) for e in entries)


def test_an_expired_or_unknown_link_exports_no_check_ins(client):
    response = client.get("/s/" + "x" * 43 + "/fhir/checkins")
    assert response.status_code == 404 and response.mimetype in ("application/json", "application/fhir+json")
