"""How a result is put into words on the pages and the handout: the strength of a match and one short test list.

The JSON API keeps its numeric `fit` (contract); people never read it as a percentage, which looks like a chance of
having the condition. Everything here is plain data in, words out (no Flask), shared by the result page, the shared
summary and the handout.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable


def N_(text: str) -> str:
    """Marks an English sentence for the pages' gettext catalogs (pybabel extract -k N_): the templates put it into
    the page's language when they show it (`_(not_a_chance)`), so this module stays free of Flask."""
    return text


STRONG, SOME = 0.66, 0.33  # fit = score / 12: 8 points or more is a strong match, 4 or more some match
NOT_A_CHANCE = N_("A match is not a chance. It says how well your answers fit the usual signs of a condition, "
                  "not how likely it is.")
# Every result says when and what to do; the routine advice of the flow content names no timeframe, so the page adds it.
NEXT_STEP = {"routine": N_("Book to see your GP or family doctor in the next 2 to 4 weeks.")}
NOT_A_PROBABILITY = N_("Match: how well the answers fit the condition's usual features (strong, some or weak); "
                       "not a probability.")
TESTS_FROM_TOP = 3   # the short test list comes from the conditions most worth discussing
TESTS_SHOWN = 6
MATCH_WORDS = {"strong": N_("Strong match"), "some": N_("Some match"), "weak": N_("Weak match")}


@dataclass(frozen=True)
class Match:
    level: str   # strong | some | weak (also a CSS class)
    words: str   # "Strong match" (pages add "with your answers")


def match(fit: float) -> Match:
    """The strength of a match in words, never a number."""
    level = "strong" if fit >= STRONG else "some" if fit >= SOME else "weak"
    return Match(level, MATCH_WORDS[level])


# Test names that mean the same test however a card words it: an abbreviation (CK, ESR, TSH ...) or one of these.
_SAME_TEST = {"full blood count": "FBC", "muscle enzyme": "CK", "inflammation marker": "CRP", "thyroid": "TSH",
              "vitamin d": "VITD", "ferritin": "FERRITIN", "iron": "FERRITIN", "b12": "B12", "folate": "FOLATE",
              "urine test": "URINE", "kidney": "U&E", "liver": "LFT", "rheumatoid factor": "RF",
              "heart tracing": "ECG", "blood sugar": "HBA1C", "calcium": "CA", "blood pressure": "BP"}
_ABBREVIATION = re.compile(r"\b(?:[A-Z][A-Za-z0-9&-]*[A-Z0-9]|[A-Z]\d+)\b")
_NOT_TESTS = {"PMR", "RA", "EDS", "CIRS", "MS"}


def same_test_keys(test: str) -> frozenset[str]:
    """What a test line asks for, as keys that two wordings of the same test share."""
    lower = test.lower()
    keys = {key for phrase, key in _SAME_TEST.items() if phrase in lower}
    keys |= {word.upper() for word in _ABBREVIATION.findall(test) if word.upper() not in _NOT_TESTS}
    return frozenset(keys)


def short_test_list(conditions: Iterable[dict[str, Any]], top: int = TESTS_FROM_TOP,
                 limit: int | None = TESTS_SHOWN) -> list[str]:
    """One de-duplicated list from the conditions most worth discussing, first tests first: a line whose tests are
    all in the list already is left out. The full lists per condition stay on the clinician's pages."""
    picked, covered = [], set()
    lists = [list(c.get("tests_to_discuss", ())) for c in list(conditions)[:top]]
    for depth in range(max((len(tests) for tests in lists), default=0)):
        for tests in lists:
            if depth >= len(tests):
                continue
            keys = same_test_keys(tests[depth])
            if tests[depth] in picked or (keys and keys <= covered):
                continue
            picked.append(tests[depth])
            covered |= keys
    return picked if limit is None else picked[:limit]


TEMPLATE_GLOBALS = {"match": match, "not_a_chance": NOT_A_CHANCE, "not_a_probability": NOT_A_PROBABILITY,
                    "next_step": NEXT_STEP, "short_test_list": short_test_list}
