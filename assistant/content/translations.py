"""Flow content in other languages: flows/<flow id>/<language>.yaml, keyed by the same ids as the English.

A language never changes a result, only its words: `localize` returns a copy of a Flow whose texts are replaced,
with every id, value, rule and weight untouched, so the engine, scoring and urgency work on it unchanged.

Each translated text records the English it was translated from (`en`), so an English text that changed since is
never shown in its outdated translation: it falls back to English and `flask flows check` reports it as stale.
Lists without ids (reasons, tests, cautions, signs) are maps from the English sentence to its translation.
Nothing here knows about Flask.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from assistant.content.flows import (ClinicalTerms, ConditionCard, Flow, FlowError, LifestyleCard, Question, SafetyNet,
                                     Source, Stop, UrgencyLevel, read_yaml)

ENGLISH = "en"


@dataclass
class Catalogue:
    """One language's translations for one flow's content, and what was looked up in it."""
    language: str
    name: str
    data: dict[str, Any]
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    used: set[tuple[str, ...]] = field(default_factory=set)

    def _entry(self, path: tuple[str, ...]) -> Any:
        node: Any = self.data
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    def translation(self, where: tuple[str, ...], english: str) -> str | None:
        """The translation of `english` at an id path ({en, <language>} or a list of them), None when there is none
        (a translation may be the same words as the English: "Diabetes", "0")."""
        entry = self._entry(where)
        for candidate in entry if isinstance(entry, list) else [entry]:
            if isinstance(candidate, dict) and str(candidate.get(ENGLISH)) == english \
                    and candidate.get(self.language) not in (None, ""):
                return str(candidate[self.language])  # `es: 0` in a hand-edited file is still the text "0"
        return None

    def text(self, where: tuple[str, ...], english: str) -> str:
        """The translation of `english` at an id path, else the English (reported as missing or stale)."""
        if not english:
            return english
        translated = self.translation(where, english)
        if translated is not None:
            self.used.add(where)
            return translated
        (self.stale if self._entry(where) is not None else self.missing).append(".".join(where))
        return english

    def sentence(self, where: tuple[str, ...], english: str, record: bool = True) -> str:
        """The translation of a sentence in an id-less list: a map from the English sentence to its translation.
        `record=False` for lookups at run time (nothing is collected per request)."""
        if not english:
            return english
        table = self._entry(where)
        if isinstance(table, dict) and table.get(english):
            if record:
                self.used.add(where + (english,))
            return table[english]
        if record:
            self.missing.append(f"{'.'.join(where)}: {english[:60]}")
        return english

    def unused(self) -> list[str]:
        """Sentence translations whose English no longer appears (the English changed after it was translated)."""
        found = []
        for section in ("conditions", "lifestyle"):
            for card_id, card in (self.data.get(section) or {}).items():
                for key, table in (card or {}).items():
                    if isinstance(table, dict) and not {ENGLISH, self.language} & set(table):
                        found += [f"{section}.{card_id}.{key}: {english[:60]}" for english in table
                                  if (section, card_id, key, english) not in self.used]
        return found


def load_catalogue(path: Path) -> Catalogue:
    data = read_yaml(path) or {}
    if not isinstance(data, dict) or not isinstance(data.get("language"), str):
        raise FlowError(f"{path}: a translation file starts with `language: <code>`")
    return Catalogue(language=data["language"], name=str(data.get("name") or data["language"]), data=data)


def catalogues(content: Path) -> dict[str, Path]:
    """The translation files beside a flow's content: <language>.yaml (two or three letters)."""
    return {p.stem: p for p in sorted(content.glob("*.yaml")) if 2 <= len(p.stem) <= 3 and p.stem.isalpha()}


# --- a Flow, in another language -------------------------------------------------------------------------------------

def _question(q: Question, t: Catalogue) -> Question:
    where = ("questions", q.id)
    return replace(q, text=t.text(where + ("text",), q.text), help=t.text(where + ("help",), q.help),
                   options=tuple(replace(o, label=t.text(where + ("options", o.value), o.label),
                                         group=t.sentence(("groups",), o.group) if o.group else "")
                                 for o in q.options))


def _sources(sources: tuple[Source, ...], t: Catalogue) -> tuple[Source, ...]:
    """A source with a page in this language is replaced by that page; the others keep their English page."""
    pages = t.data.get("sources") or {}
    return tuple(Source(**pages[s.url]) if isinstance(pages.get(s.url), dict) else s for s in sources)


def _condition(card: ConditionCard, t: Catalogue) -> ConditionCard:
    where = ("conditions", card.id)

    def reason(text: str | None) -> str | None:
        return t.sentence(where + ("reasons",), text) if text else text
    return replace(card, name=t.text(where + ("name",), card.name), summary=t.text(where + ("summary",), card.summary),
                   note=t.text(where + ("note",), card.note) if card.note else card.note,
                   rules=tuple(replace(r, because=reason(r.because), doesnt_fit=reason(r.doesnt_fit))
                               for r in card.rules),
                   tests_to_discuss=tuple(t.sentence(where + ("tests",), x) for x in card.tests_to_discuss),
                   sources=_sources(card.sources, t))


def _lifestyle(card: LifestyleCard, t: Catalogue) -> LifestyleCard:
    where = ("lifestyle", card.id)
    return replace(card, title=t.text(where + ("title",), card.title), why=t.text(where + ("why",), card.why),
                   how=t.text(where + ("how",), card.how),
                   cautions=tuple(replace(c, text=t.sentence(where + ("cautions",), c.text)) for c in card.cautions),
                   sources=_sources(card.sources, t))


def _safety_net(net: SafetyNet | None, t: Catalogue) -> SafetyNet | None:
    if net is None:
        return None
    return SafetyNet(title=t.text(("safety_net", "title"), net.title), text=t.text(("safety_net", "text"), net.text),
                     signs=tuple(replace(s, text=t.sentence(("safety_net", "signs"), s.text)) for s in net.signs))


def _stop(stop: Stop, t: Catalogue) -> Stop:
    where = ("stops", stop.status)
    return replace(stop, title=t.text(where + ("title",), stop.title), text=t.text(where + ("text",), stop.text),
                   get_help=tuple(t.sentence(where + ("get_help",), line) for line in stop.get_help))


def _clinical(clinical: ClinicalTerms, t: Catalogue) -> ClinicalTerms:
    """The clinician's words for the answers (clinical_terms.yaml), for the summary and handout read in this language."""
    return replace(clinical, terms={question: {value: t.text(("clinical", question, value), term)
                                               for value, term in terms.items()}
                                    for question, terms in clinical.terms.items()})


def localize(flow: Flow, t: Catalogue) -> Flow:
    """The flow with its words in the catalogue's language (English where a translation is missing or stale)."""
    return replace(
        flow, language=t.language,
        title=t.text(("flow", "title"), flow.title), disclaimer=t.text(("flow", "disclaimer"), flow.disclaimer),
        questions=tuple(_question(q, t) for q in flow.questions),
        conditions=tuple(_condition(c, t) for c in flow.conditions),
        lifestyle=tuple(_lifestyle(c, t) for c in flow.lifestyle),
        red_flags=tuple(replace(f, text=t.text(("red_flags", f.id, "text"), f.text), sources=_sources(f.sources, t),
                                clinical=t.text(("red_flags", f.id, "clinical"), f.clinical))
                        for f in flow.red_flags),
        levels={k: UrgencyLevel(title=t.text(("levels", k, "title"), v.title),
                                advice=t.text(("levels", k, "advice"), v.advice)) for k, v in flow.levels.items()},
        stops=tuple(_stop(s, t) for s in flow.stops),
        safety_net=_safety_net(flow.safety_net, t),
        clinical=_clinical(flow.clinical, t),
    )


Phrase = Callable[[str], str]


def english(text: str) -> str:
    return text


class Languages:
    """Every flow version in every language it is translated into, localized once at start-up."""

    def __init__(self, flows: dict[tuple[str, int], Flow], folder: Path) -> None:
        self._flows: dict[tuple[str, int, str], Flow] = {}
        self._catalogues: dict[tuple[str, str], Catalogue] = {}
        self.problems: dict[tuple[str, int, str], tuple[list[str], list[str]]] = {}
        for (flow_id, version), flow in flows.items():
            self._flows[(flow_id, version, ENGLISH)] = flow
            for language, path in catalogues(Path(folder) / flow_id).items():
                catalogue = self._catalogues.get((flow_id, language)) or load_catalogue(path)
                self._catalogues[(flow_id, language)] = catalogue
                catalogue.missing, catalogue.stale = [], []
                self._flows[(flow_id, version, language)] = localize(flow, catalogue)
                self.problems[(flow_id, version, language)] = (catalogue.missing, catalogue.stale)
        self.supported = (ENGLISH,) + tuple(sorted({lang for _, lang in self._catalogues}))
        self.names = {ENGLISH: "English", **{lang: c.name for (_, lang), c in self._catalogues.items()}}

    def flow(self, flow: Flow, language: str) -> Flow:
        """`flow` in `language`, or as it is when that language has no translation."""
        return self._flows.get((flow.id, flow.version, language), flow)

    def phrase(self, flow_id: str, language: str) -> Phrase:
        """A translator for the few sentences the result code writes itself (keyed by their English template)."""
        catalogue = self._catalogues.get((flow_id, language))
        if catalogue is None:
            return english
        return lambda text: catalogue.sentence(("phrases",), text, record=False)

    def unused(self, flow_id: str, language: str) -> list[str]:
        catalogue = self._catalogues.get((flow_id, language))
        return catalogue.unused() if catalogue else []


class Skeleton(Catalogue):
    """Collects every text of a flow as `localize` asks for it: the frame of a translation file."""

    def __init__(self, language: str) -> None:
        super().__init__(language=language, name=language, data={})
        self.texts: dict[tuple[str, ...], list[str]] = {}
        self.sentences: dict[tuple[str, ...], list[str]] = {}

    def text(self, where: tuple[str, ...], english: str) -> str:
        if english and english not in self.texts.setdefault(where, []):
            self.texts[where].append(english)
        return english

    def sentence(self, where: tuple[str, ...], english: str, record: bool = True) -> str:
        if english and english not in self.sentences.setdefault(where, []):
            self.sentences[where].append(english)
        return english


def _put(tree: dict[str, Any], where: tuple[str, ...], value: Any) -> None:
    for key in where[:-1]:
        tree = tree.setdefault(key, {})
    tree[where[-1]] = value


def frame(flows: list[Flow], old: Catalogue | None, language: str, phrases: tuple[str, ...] = ()) -> dict[str, Any]:
    """A translation file for these versions of one flow: every text with its English, keeping the translations of
    `old` whose English is unchanged and leaving the others empty (to be translated)."""
    skeleton = Skeleton(language)
    for flow in flows:
        localize(flow, skeleton)
    for english_text in phrases:
        skeleton.sentence(("phrases",), english_text)
    old_data = old.data if old else {}
    tree: dict[str, Any] = {"language": language, "name": old.name if old else language}
    for where, variants in skeleton.texts.items():
        entries = []
        previous = Catalogue(language, language, old_data)
        for english_text in variants:
            entries.append({"en": english_text, language: previous.translation(where, english_text) or ""})
        _put(tree, where, entries[0] if len(entries) == 1 else entries)
    for where, sentences in skeleton.sentences.items():
        table = Catalogue(language, language, old_data)._entry(where) if old else None
        table = table if isinstance(table, dict) else {}
        _put(tree, where, {s: table.get(s, "") for s in sentences})
    if old_data.get("sources"):
        tree["sources"] = old_data["sources"]
    return tree
