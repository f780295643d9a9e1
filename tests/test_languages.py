"""Flow content in another language: words change, ids and results never; missing and stale translations are
reported; the API reads Accept-Language, says Content-Language, and a conversation keeps its language."""
import shutil

import pytest
import yaml

from assistant.cli import check_folder
from assistant.config import PROJECT_ROOT
from assistant.content.flows import load_flows
from assistant.content.translations import Languages

from .conftest import WIDESPREAD_PAIN, make_app

SAMPLE = {
    "language": "xx",
    "name": "Test language",
    "flow": {"title": {"en": "Muscle pain and feeling unwell all over", "xx": "XX title"}},
    "questions": {
        "age_band": {"text": {"en": "How old are you?", "xx": "XX how old?"},
                     "options": {"40_49": {"en": "40 to 49", "xx": "XX 40-49"}}},
        "sex": {"text": {"en": "An English text that has since changed", "xx": "XX stale"}},
    },
    "conditions": {"fibromyalgia": {"name": {"en": "Fibromyalgia", "xx": "XX Fibro"},
                                    "reasons": {"An English sentence no rule has any more.": "XX gone"}}},
    "sources": {"https://www.nhs.uk/conditions/fibromyalgia/": {"title": "XX NHS page",
                                                                "url": "https://example.org/xx/fibro"}},
}


@pytest.fixture
def flows_dir(tmp_path):
    target = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", target)
    for old in target.glob("*/es.yaml"):
        old.unlink()  # only the sample language, so what is missing is known
    (target / "muscle-pain" / "xx.yaml").write_text(yaml.safe_dump(SAMPLE, allow_unicode=True))
    return target


@pytest.fixture
def client(flows_dir, tmp_path):
    from assistant.store.db import upgrade
    url = f"sqlite:///{tmp_path / 'lang.sqlite3'}"
    upgrade(url)
    app = make_app(url, FLOWS_DIR=str(flows_dir))
    yield app.test_client()
    app.extensions["db_engine"].dispose()


def test_a_language_changes_words_never_ids_rules_or_weights(flows_dir):
    flows = load_flows(flows_dir)
    languages = Languages(flows, flows_dir)
    english = flows[("muscle-pain", 2)]
    other = languages.flow(english, "xx")
    assert other.language == "xx" and other.title == "XX title"
    assert other.question("age_band").text == "XX how old?"
    assert other.question("age_band").label("40_49") == "XX 40-49"
    assert [q.id for q in other.questions] == [q.id for q in english.questions]
    assert [o.value for q in other.questions for o in q.options] == [o.value for q in english.questions for o in q.options]
    assert [(r.when, r.weight) for c in other.conditions for r in c.rules] == \
           [(r.when, r.weight) for c in english.conditions for r in c.rules]
    fibro = next(c for c in other.conditions if c.id == "fibromyalgia")
    assert fibro.name == "XX Fibro" and fibro.sources[0].url == "https://example.org/xx/fibro"


def test_a_stale_translation_is_never_shown_and_is_reported(flows_dir):
    flows = load_flows(flows_dir)
    languages = Languages(flows, flows_dir)
    other = languages.flow(flows[("muscle-pain", 2)], "xx")
    assert other.question("sex").text == flows[("muscle-pain", 2)].question("sex").text  # English, not "XX stale"
    problems = check_folder(flows_dir)
    assert any("[xx]: stale translation (the English changed since) of questions.sex.text" in p for p in problems)
    assert any("[xx]: no translation for questions.onset.text" in p for p in problems)
    assert any("its English is gone" in p and "An English sentence no rule has" in p for p in problems)


def test_the_real_flows_have_no_missing_or_stale_translation():
    flows = load_flows(PROJECT_ROOT / "flows")
    assert "es" in Languages(flows, PROJECT_ROOT / "flows").supported  # checked against a real translation
    problems = [p for p in check_folder(PROJECT_ROOT / "flows") if "translation" in p]
    assert problems == [], problems[:20]


def test_results_are_identical_across_languages_but_their_words(client):
    english = client.post("/api/v1/assess", json={"answers": WIDESPREAD_PAIN}).get_json()
    other = client.post("/api/v1/assess", json={"answers": WIDESPREAD_PAIN},
                        headers={"Accept-Language": "xx"})
    assert other.headers["Content-Language"] == "xx"
    other = other.get_json()
    assert [c["id"] for c in other["conditions"]] == [c["id"] for c in english["conditions"]]
    assert [c["score"] for c in other["conditions"]] == [c["score"] for c in english["conditions"]]
    assert other["urgency"] == english["urgency"] and other["language"] == "xx"
    fibro = next(c for c in other["conditions"] if c["id"] == "fibromyalgia")
    assert fibro["name"] == "XX Fibro"


def test_a_conversation_keeps_its_language_unless_a_request_asks_for_another(client):
    started = client.post("/api/v1/conversations", json={}, headers={"Accept-Language": "xx, en;q=0.5"})
    assert started.headers["Content-Language"] == "xx"
    conversation = started.get_json()
    assert conversation["question"]["text"] == "XX how old?" and conversation["language"] == "xx"
    again = client.get(f"/api/v1/conversations/{conversation['id']}")  # no Accept-Language: its own language
    assert again.get_json()["question"]["text"] == "XX how old?" and again.headers["Content-Language"] == "xx"
    english = client.get(f"/api/v1/conversations/{conversation['id']}", headers={"Accept-Language": "en"})
    assert english.get_json()["question"]["text"] == "How old are you?"
    assert english.headers["Content-Language"] == "en"


def test_a_result_read_in_another_language_is_the_same_result(client):
    from .conftest import Talk
    talk = Talk(client)
    client.post(f"/api/v1/conversations/{talk.id}/answers", headers={"Accept-Language": "xx"},
                json={"question_id": "age_band", "value": "40_49", "step": 0})
    talk.conversation = client.get(f"/api/v1/conversations/{talk.id}").get_json()
    talk.through(WIDESPREAD_PAIN)
    stored = client.get(f"/api/v1/conversations/{talk.id}/result", headers={"Accept-Language": "en"}).get_json()
    other = client.get(f"/api/v1/conversations/{talk.id}/result", headers={"Accept-Language": "xx"}).get_json()
    assert [c["id"] for c in other["conditions"]] == [c["id"] for c in stored["conditions"]]
    assert {stored["language"], other["language"]} == {"en", "xx"}


def test_flows_translate_writes_every_text_and_keeps_what_is_translated(flows_dir):
    from assistant import create_app
    runner = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "FLOWS_DIR": str(flows_dir)}).test_cli_runner()
    result = runner.invoke(args=["flows", "translate", "xx", "--dir", str(flows_dir)])
    assert result.exit_code == 0, result.output
    path = flows_dir / "muscle-pain" / "xx.yaml"
    data = yaml.safe_load(path.read_text())
    assert data["questions"]["age_band"]["text"] == {"en": "How old are you?", "xx": "XX how old?"}  # kept
    assert data["questions"]["sex"]["text"]["xx"] == ""  # its English changed: to translate again

    def fill(node):  # a translator at work: every empty translation filled
        if isinstance(node, dict):
            return {k: (f"XX {node.get('en') or k}" if v == "" else fill(v)) for k, v in node.items()}
        return [fill(item) for item in node] if isinstance(node, list) else node
    path.write_text(yaml.safe_dump(fill(data), allow_unicode=True))
    for other in flows_dir.glob("*/xx.yaml"):  # every flow's file was written; the other flows translated too
        if other != path:
            other.write_text(yaml.safe_dump(fill(yaml.safe_load(other.read_text())), allow_unicode=True))
    assert [p for p in check_folder(flows_dir) if "translation" in p] == []
    flow = Languages(load_flows(flows_dir), flows_dir).flow(load_flows(flows_dir)[("muscle-pain", 2)], "xx")
    assert flow.question("onset").text.startswith("XX ") and flow.conditions[0].rules[0].because.startswith("XX ")


def test_a_link_answered_in_one_language_reads_in_the_clinicians_and_says_so(client):
    from .conftest import Talk
    talk = Talk(client)
    client.post(f"/api/v1/conversations/{talk.id}/answers", headers={"Accept-Language": "xx"},
                json={"question_id": "age_band", "value": "40_49", "step": 0})
    talk.conversation = client.get(f"/api/v1/conversations/{talk.id}").get_json()
    talk.through(WIDESPREAD_PAIN)
    url = client.post(f"/api/v1/conversations/{talk.id}/shares", json={}).get_json()["url"]
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    english = client.get(path, headers={"Accept-Language": "en-GB"})
    assert english.headers["Content-Language"] == "en" and '<html lang="en">' in english.text
    assert "answered in Test language" in english.text and "Fibromyalgia" in english.text
    theirs = client.get(path + "?lang=xx", headers={"Accept-Language": "en-GB"})
    assert '<html lang="xx">' in theirs.text and "XX Fibro" in theirs.text
    handout = client.get(path + "/handout", headers={"Accept-Language": "en"}).text
    assert "answered in Test language" in handout


def test_the_switch_remembers_the_choice_and_only_goes_back_to_this_site(client):
    chosen = client.get("/language/xx?next=/chat")
    assert chosen.status_code == 303 and chosen.headers["Location"].endswith("/chat#ask")  # at the question
    assert client.get("/language/xx?next=/chat/result").headers["Location"].endswith("/chat/result")
    assert "lang=xx" in chosen.headers["Set-Cookie"]
    assert '<html lang="xx">' in client.get("/").text
    for outside in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)", "/a%0d%0aSet-Cookie:x=1",
                    "/chat%0a", "/?a=%0a", "/%7f"):  # a line break cannot stand in a Location header: not a 500
        back = client.get(f"/language/en?next={outside}")
        assert back.status_code == 303 and back.headers["Location"] in ("/", "http://localhost/"), outside
    assert "Set-Cookie" not in client.get("/language/zz?next=/").headers  # not a language we have


def test_a_translation_that_is_the_same_words_as_the_english_is_kept(flows_dir):
    from assistant.content.translations import frame, load_catalogue
    path = flows_dir / "muscle-pain" / "xx.yaml"
    data = yaml.safe_load(path.read_text())
    data["conditions"]["fibromyalgia"]["name"] = {"en": "Fibromyalgia", "xx": "Fibromyalgia"}  # same in both
    data["questions"]["age_band"]["options"]["40_49"] = {"en": "40 to 49", "xx": 0}  # a number, as YAML reads it
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    flows = load_flows(flows_dir)
    rewritten = frame([flows[k] for k in sorted(flows) if k[0] == "muscle-pain"], load_catalogue(path), "xx")
    assert rewritten["conditions"]["fibromyalgia"]["name"] == {"en": "Fibromyalgia", "xx": "Fibromyalgia"}
    assert rewritten["questions"]["age_band"]["options"]["40_49"] == {"en": "40 to 49", "xx": "0"}
    problems = check_folder(flows_dir)
    assert not any("conditions.fibromyalgia.name" in p or "age_band.options.40_49" in p for p in problems)
    assert any("no translation for questions.onset.text" in p for p in problems)  # the others still missing
    other = Languages(flows, flows_dir).flow(flows[("muscle-pain", 2)], "xx")
    assert other.question("age_band").label("40_49") == "0"
