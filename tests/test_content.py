"""Content lint: every contract id has a card, every card a reputable https source, no diagnostic wording, and every
answer value is used by some rule or deliberately listed as neutral."""
import re
from urllib.parse import urlparse

import pytest
import yaml

from assistant.config import PROJECT_ROOT
from assistant.content.flows import load_flow

FLOW = load_flow(PROJECT_ROOT / "flows" / "muscle-pain.yaml")
NEUTRAL = yaml.safe_load((PROJECT_ROOT / "flows" / "muscle-pain" / "neutral_values.yaml").read_text()) or {}
DIAGNOSTIC = re.compile(r"(?<!if )(?<!when )(?<!whether )(?<!unless )(?<!do )\byou (have|suffer from|are suffering)\b"
                        r"|\byour diagnosis\b|\bthis confirms\b|\byou definitely\b|\bdiagnosed with\b", re.I)


def card_texts():
    for card in FLOW.conditions:
        yield card.id, [card.name, card.summary, card.note or "", *card.tests_to_discuss,
                        *(r.because or "" for r in card.rules), *(r.doesnt_fit or "" for r in card.rules)]
    for card in FLOW.lifestyle:
        yield card.id, [card.title, card.why, card.how, *(c.text for c in card.cautions)]
    for flag in FLOW.red_flags:
        yield flag.id, [flag.text]
    for level, advice in FLOW.levels.items():
        yield level, [advice.title, advice.advice]


def test_every_contract_condition_has_a_card():
    assert set(FLOW.contract["conditions"]) <= {c.id for c in FLOW.conditions}


def test_every_contract_lifestyle_area_has_a_card():
    assert set(FLOW.contract["lifestyle"]) <= {c.id for c in FLOW.lifestyle}


@pytest.mark.parametrize("card", FLOW.conditions + FLOW.lifestyle, ids=lambda c: c.id)
def test_every_card_has_an_https_source(card):
    assert card.sources
    for source in card.sources:
        url = urlparse(source.url)
        assert url.scheme == "https" and "." in url.netloc, source.url
        assert source.title.strip()


@pytest.mark.parametrize("card", FLOW.conditions, ids=lambda c: c.id)
def test_condition_cards_are_complete(card):
    assert card.summary and card.tests_to_discuss and card.lifestyle
    assert any(r.weight > 0 for r in card.rules), "a card nobody can reach is dead content"


def test_every_lifestyle_card_fits_some_condition():
    for card in FLOW.lifestyle:
        assert card.for_conditions or card.also_when, card.id


def test_cirs_states_its_contested_evidence():
    cirs = next(c for c in FLOW.conditions if c.id == "cirs")
    assert re.search(r"contested|limited evidence|not recognised|not recognized", f"{cirs.note} {cirs.summary}", re.I)


@pytest.mark.parametrize("where, texts", list(card_texts()), ids=lambda v: v if isinstance(v, str) else "")
def test_no_diagnostic_wording(where, texts):
    for text in texts:
        assert not DIAGNOSTIC.search(text), f"{where}: {text!r}"


def test_the_lint_catches_diagnostic_wording():
    assert DIAGNOSTIC.search("You have fibromyalgia.")
    assert not DIAGNOSTIC.search("If you have kidney disease, ask first.")


def _used_values():
    used: dict[str, set[str]] = {}
    criteria = [c for card in FLOW.conditions for r in card.rules for c in r.when]
    criteria += [c for flag in FLOW.red_flags for c in flag.when]
    for criterion in criteria:
        used.setdefault(criterion.question, set()).update(criterion.values)
    return used


@pytest.mark.parametrize("question", FLOW.questions, ids=lambda q: q.id)
def test_every_answer_value_is_used_or_listed_as_neutral(question):
    used = _used_values().get(question.id, set())
    neutral = set(NEUTRAL.get(question.id) or [])
    unused = [v for v in question.values if v not in used | neutral]
    assert not unused, f"{question.id}: values neither used by a rule nor listed in neutral_values.yaml: {unused}"


def test_every_red_flag_answer_maps_to_a_flag():
    mapped = {v for flag in FLOW.red_flags for c in flag.when if c.question == "red_flags" for v in c.values}
    assert set(FLOW.question("red_flags").values) - {"none"} <= mapped


def test_urgency_levels_all_have_advice():
    assert set(FLOW.levels) == {"routine", "soon", "same_day", "emergency"}
