"""Explainable scoring of the condition cards against one person's answers (see docs/scoring.md).

score = sum of the weights of the rules whose `when` holds; fit = clamp(score / FULL_FIT_SCORE, 0, 1).
Ranked by score, ties broken by the card's place in conditions.yaml, so the same answers always rank the same.
"""
from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import Callable

from babel import localedata
from babel.lists import format_list

from assistant.content.flows import Answers, ConditionCard, Flow, Rule

FULL_FIT_SCORE = 12.0
PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")
LIST_LOCALES = frozenset(localedata.locale_identifiers())


@dataclass(frozen=True)
class RankedCondition:
    card: ConditionCard
    score: float
    fit: float
    because: tuple[str, ...]
    doesnt_fit: tuple[str, ...]


def _sentence_label(label: str) -> str:
    """'Both sides' -> 'both sides', 'A deep ache' -> 'a deep ache', but leave 'ME/CFS' or 'COVID' alone."""
    second = label[1:2]
    return label[0].lower() + label[1:] if second.islower() or second == " " else label


def _join(words: list[str], language: str = "en") -> str:
    """'a, b and c' in English; other languages as Babel's CLDR data joins a list ('a, b y c')."""
    if language != "en" and language in LIST_LOCALES:
        return format_list(words, locale=language)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def fill(flow: Flow, text: str, rule: Rule, answers: Answers) -> str:
    """Replace {question_id} with the person's own answers (the ones this rule matched)."""
    def quote(match: re.Match[str]) -> str:
        question_id = match.group(1)
        if not flow.has_question(question_id):
            return match.group(0)
        criteria = [c for c in rule.when if c.question == question_id]
        matched = {v for c in criteria for v in c.matched(answers)}
        values = [v for v in answers.get(question_id, ()) if v in matched] if criteria \
            else answers.get(question_id, ())
        question = flow.question(question_id)
        labels = [_sentence_label(question.label(v)) for v in values]
        return _join(labels, flow.language) if labels else "(not answered)"
    return PLACEHOLDER.sub(quote, text)


Tests = tuple[tuple[Rule, tuple[Callable[[Answers], bool], ...]], ...]


def _tests(card: ConditionCard) -> Tests:
    """Each rule with the bound `holds` of its criteria: all must hold (the same test as flows.all_hold)."""
    return tuple((rule, tuple(c.holds for c in rule.when)) for rule in card.rules)


def _score(flow: Flow, card: ConditionCard, rules: Tests, answers: Answers) -> RankedCondition:
    score, because, against = 0.0, [], []
    for rule, tests in rules:
        for holds in tests:
            if not holds(answers):
                break
        else:
            score += rule.weight
            if rule.weight > 0 and rule.because:
                because.append((-rule.weight, fill(flow, rule.because, rule, answers)))
            elif rule.weight < 0 and rule.doesnt_fit:
                against.append((rule.weight, fill(flow, rule.doesnt_fit, rule, answers)))
    fit = round(min(1.0, max(0.0, score / FULL_FIT_SCORE)), 2)
    return RankedCondition(card, round(score, 2), fit, _strongest_first(because), _strongest_first(against))


def _strongest_first(reasons: list[tuple[float, str]]) -> tuple[str, ...]:
    """Reasons by the weight of their rule, heaviest first (file order among equals): the first is the one that
    matters most, which the result page shows without opening the card."""
    return tuple(text for _, text in sorted(reasons, key=lambda reason: reason[0]))


def score_card(flow: Flow, card: ConditionCard, answers: Answers) -> RankedCondition:
    return _score(flow, card, _tests(card), answers)


# per loaded flow (by identity, dropped with it): every card's rule tests and its place in conditions.yaml
_PREPARED: dict[int, tuple[tuple[tuple[ConditionCard, Tests], ...], dict[str, int]]] = {}


def _prepared(flow: Flow) -> tuple[tuple[tuple[ConditionCard, Tests], ...], dict[str, int]]:
    found = _PREPARED.get(id(flow))
    if found is None:
        found = (tuple((card, _tests(card)) for card in flow.conditions),
                 {card.id: i for i, card in enumerate(flow.conditions)})
        _PREPARED[id(flow)] = found
        weakref.finalize(flow, _PREPARED.pop, id(flow), None)
    return found


def rank(flow: Flow, answers: Answers, first: tuple[str, ...] = ()) -> list[RankedCondition]:
    """Conditions with some evidence for them (score > 0), most worth discussing first.

    `first` names conditions that an urgent warning sign points to: when listed at all, they lead the list in that
    order, so the card agrees with the warning.
    """
    cards, order = _prepared(flow)
    scored = [r for r in (_score(flow, card, rules, answers) for card, rules in cards) if r.score > 0]
    leading = sorted((r for r in scored if r.card.id in first), key=lambda r: first.index(r.card.id))
    rest = sorted((r for r in scored if r.card.id not in first), key=lambda r: (-r.score, order[r.card.id]))
    return leading + rest
