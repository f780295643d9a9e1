"""The pages' own words through Flask-Babel: every word the code and templates mark for translation is in each
language's gettext catalog (assistant/locales/<lang>/LC_MESSAGES/messages.po), translated and with the same
placeholders; a page read in Spanish says its own words, dates and counts in Spanish."""
from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from assistant.config import PROJECT_ROOT

from .conftest import WIDESPREAD_PAIN, LOCALES, Talk, make_app

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "N_": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def marked() -> set[str | tuple[str, ...]]:
    """What the code and templates mark for translation, found as `make messages` finds it (babel.cfg)."""
    with (PROJECT_ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            PROJECT_ROOT / "assistant", method_map, options_map, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else tuple(message[:2]))
    return found


def catalog(language: str):
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


LANGUAGES = sorted(p.name for p in LOCALES.iterdir() if (p / "LC_MESSAGES" / "messages.po").exists())


def test_there_is_a_catalog_for_spanish():
    assert "es" in LANGUAGES


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_marked_word_is_translated(language):
    messages = {m.id if isinstance(m.id, str) else tuple(m.id): m for m in catalog(language) if m.id}
    wanted = marked()
    assert len(wanted) > 100, "the extraction found too little to be reading the templates"
    missing = sorted(map(str, wanted - set(messages)))
    assert not missing, f"not in {language}'s catalog (run `make messages`, then translate): {missing[:10]}"
    untranslated = [m.id for key, m in messages.items() if key in wanted
                    and ("fuzzy" in m.flags or not (m.string if isinstance(m.string, str) else all(m.string)))]
    assert not untranslated, f"not translated in {language}: {untranslated[:10]}"
    for key, m in messages.items():
        english = m.id if isinstance(m.id, str) else m.id[-1]
        translations = [m.string] if isinstance(m.string, str) else list(m.string)
        for translation in translations:
            assert set(PLACEHOLDER.findall(translation)) <= set(PLACEHOLDER.findall(english)) | {"num"}, key


@pytest.fixture
def client(tmp_path):
    from assistant.store.db import upgrade
    url = f"sqlite:///{tmp_path / 'pages.sqlite3'}"
    upgrade(url)
    app = make_app(url)
    yield app.test_client()
    app.extensions["db_engine"].dispose()


def test_a_shared_summary_and_handout_read_in_spanish(client):
    talk = Talk(client).through(WIDESPREAD_PAIN)
    url = client.post(f"/api/v1/conversations/{talk.id}/shares", json={}).get_json()["url"]
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    english = client.get(path, headers={"Accept-Language": "en-GB"}).text
    spanish = client.get(path, headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert spanish.headers["Content-Language"] == "es"
    page = spanish.text
    assert '<html lang="es">' in page and "Resumen compartido" in page and "Signos de alarma" in page
    assert "Shared summary" not in page and "Warning signs" not in page and "Shared summary" in english
    assert re.search(r"\d{1,2} de [a-z]+ de 20\d\d", page)  # the date through Babel, in Spanish
    assert "Fibromialgia" in page and "respondido en inglés" in page  # answered in English, said in Spanish
    handout = client.get(path + "/handout", headers={"Accept-Language": "es"}).text
    assert "Hoja para la consulta" in handout and "Notas" in handout and "Urgencia:" in handout
    assert "mialgia" in handout and "sueño no reparador" in handout and "inicio insidioso" in handout  # clinical words
    assert "myalgia" not in handout and "unrefreshing" not in handout
    manage = client.get("/share", headers={"Accept-Language": "es"}).text
    assert "Compartir con su médico" in manage and "Share with your doctor" not in manage


def test_a_broken_link_says_so_in_spanish(client):
    page = client.get("/s/" + "x" * 43, headers={"Accept-Language": "es"})
    assert page.status_code == 404
    assert "Este enlace no funciona" in page.text and "This link" not in page.text


def test_the_first_action_for_a_same_day_answer_is_in_the_conversations_language(client):
    started = client.post("/api/v1/conversations", json={}, headers={"Accept-Language": "es"}).get_json()
    answered = client.post(f"/api/v1/conversations/{started['id']}/answers",
                           headers={"Accept-Language": "es-GB"},  # a Spanish speaker in the UK: NHS 111
                           json={"question_id": "age_band", "value": "40_49", "step": 0}).get_json()
    answered = client.post(f"/api/v1/conversations/{started['id']}/answers", headers={"Accept-Language": "es-GB"},
                           json={"question_id": "red_flags", "value": ["fever_very_unwell"],
                                 "step": answered["step"]}).get_json()
    advice = answered["urgent_advice"]
    assert advice["action"] == {"label": "Llame al NHS 111", "href": "tel:111"}
    assert advice["title"] == "Busque ayuda médica hoy"


@pytest.mark.parametrize("header, language", [
    ("es-MX,en;q=0.5", "es"), ("es-419,es;q=0.9", "es"), ("en-US,en;q=0.9,es;q=0.8", "en"), ("fr-FR,es;q=0.3", "es"),
    ("fr-FR", "en"), ("es;q=0,en;q=0.1", "en"), ("", "en")])
def test_the_browsers_first_choice_wins_and_a_region_matches_its_language(client, header, language):
    page = client.get("/", headers={"Accept-Language": header} if header else {})
    assert page.headers["Content-Language"] == language and f'<html lang="{language}">' in page.text


def test_the_answers_on_the_result_page_are_in_the_pages_language(client):
    from .test_chat import Chat
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    person = Chat(client).through(WIDESPREAD_PAIN)
    assert "¿Qué edad tiene?" in person.html and "Cambiar su respuesta: </span>De 40 a 49" in person.html
    assert "How old are you?" not in person.html and "40 to 49" not in person.html


def test_an_error_page_in_spanish(client):
    page = client.get("/no-such-page", headers={"Accept-Language": "es"})
    assert page.status_code == 404 and '<html lang="es">' in page.text
    assert "Página no encontrada" in page.text and "Not Found" not in page.text
    english = client.get("/no-such-page", headers={"Accept-Language": "en"}).text
    assert "Page not found" in english and "Not Found" not in english  # plain words, not HTTP's phrase
    api = client.get("/api/v1/conversations/" + "x" * 20, headers={"Accept-Language": "es"})
    assert api.status_code == 404 and api.is_json  # the JSON API's messages stay as the contract says them
