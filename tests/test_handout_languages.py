"""A conversation held in Spanish, its handout read by an English-speaking clinician: in English, saying it was
answered in Spanish, and still on exactly one page of A4 and of US Letter (printed by Debian's chromium)."""
from __future__ import annotations

import io
import re

import pytest

from .conftest import WIDESPREAD_PAIN, Talk
from .test_handout_pdf import OUTPUT, PAPER, as_story, chromium, longest_answers, served  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def spanish_handout(app, base: str, story: dict) -> str:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-ES,es;q=0.9"  # the person's browser speaks Spanish
    talk = Talk(client).through(story)
    assert talk.conversation["language"] == "es"
    link = client.post(f"/api/v1/conversations/{talk.id}/shares", json={}).get_json()
    return base + re.search(r"/s/[^/]+", link["url"]).group(0) + "/handout"


def print_in_english(chromium, url: str, name: str) -> tuple[dict[str, int], str]:  # noqa: F811
    from pypdf import PdfReader
    context = chromium.new_context(locale="en-GB", extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"})
    try:
        page = context.new_page()
        assert page.goto(url, wait_until="networkidle").status == 200
        assert page.evaluate("document.documentElement.lang") == "en"
        counts, text = {}, ""
        OUTPUT.mkdir(parents=True, exist_ok=True)
        for paper in PAPER:
            pdf = page.pdf(format=paper, print_background=True)
            (OUTPUT / f"{name}-{paper}.pdf").write_bytes(pdf)
            reader = PdfReader(io.BytesIO(pdf))
            counts[paper] = len(reader.pages)
            text = " ".join(reader.pages[0].extract_text().split())
        return counts, text
    finally:
        context.close()


def test_a_spanish_conversations_handout_reads_in_english_on_one_page(served, chromium):  # noqa: F811
    app, base = served
    engine = app.extensions["engines"].get("muscle-pain")
    stories = {"spanish-typical": WIDESPREAD_PAIN,
               "spanish-longest": as_story(engine, longest_answers(engine, "65_plus"))}
    for name, story in stories.items():
        counts, text = print_in_english(chromium, spanish_handout(app, base, story), name)
        assert counts == {"A4": 1, "Letter": 1}, name
        assert "answered in Spanish" in text, name
        assert "HISTORY AS REPORTED" in text and "Urgency" in text, name
        assert "Leading pattern:" in text and "Patrón principal" not in text, name  # the page's words in English
        assert not re.search(r"Fibromialgia|Polimialgia|Historia según|Molestia principal", text), name  # and the flow's


def test_the_longest_handout_read_in_spanish_also_fits_one_page(served, chromium):  # noqa: F811
    """Spanish runs longer than English: the handout's budgets count characters, so it still trims to one page."""
    from pypdf import PdfReader
    app, base = served
    engine = app.extensions["engines"].get("muscle-pain")
    url = spanish_handout(app, base, as_story(engine, longest_answers(engine, "65_plus")))
    context = chromium.new_context(locale="es-ES", extra_http_headers={"Accept-Language": "es-ES,es;q=0.9"})
    try:
        page = context.new_page()
        assert page.goto(url, wait_until="networkidle").status == 200
        assert page.evaluate("document.documentElement.lang") == "es"
        for paper in PAPER:
            pdf = page.pdf(format=paper, print_background=True)
            (OUTPUT / f"spanish-read-in-spanish-{paper}.pdf").write_bytes(pdf)
            reader = PdfReader(io.BytesIO(pdf))
            assert len(reader.pages) == 1, paper
            assert "HISTORIA SEGÚN LA PERSONA" in reader.pages[0].extract_text().upper(), paper
    finally:
        context.close()
