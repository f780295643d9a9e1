"""Load and validate flows/*.yaml (questions) and flows/<id>/*.yaml (clinical content) into plain dataclasses.

Nothing here knows about Flask, the database or the state machine: a Flow is data.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

import yaml
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

URGENCY_LEVELS = ("routine", "soon", "same_day", "emergency")
QUESTION_TYPES = ("choice", "multi")
EXCLUSIVE_VALUE = "none"
NOT_SURE = "not_sure"  # an answer that says "I don't know": as neutral as no answer at all
LIFESTYLE_OPTIONS = "lifestyle"  # answerOptionFrom: the followed flow's lifestyle areas
STOP_STATUSES = ("stopped_not_adult",)  # ends a flow may declare besides finished and stopped_emergency


class FlowError(Exception):
    """A flow file is broken; the message names the file, the item and the field."""


class AnswerError(ValueError):
    """An answer value does not fit its question."""


Answers = dict[str, tuple[str, ...]]


def as_values(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


# --- plain data ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Criterion:
    """One test on one answer: anyOf / noneOf / atLeast-of (see flows/README.md)."""
    question: str
    any_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()
    at_least: int = 0
    of: tuple[str, ...] = ()

    @property
    def values(self) -> tuple[str, ...]:
        return self.any_of + self.none_of + self.of

    def holds(self, answers: Answers) -> bool:
        # Plain loops, not any() over a generator: every turn tests every warning sign and transition, and the
        # generators cost more than the tests.
        given = answers.get(self.question)
        if given is None or given == (NOT_SURE,):
            return False
        if self.any_of:
            for value in self.any_of:
                if value in given:
                    return True
            return False
        if self.none_of:
            for value in self.none_of:
                if value in given:
                    return False
            return True
        return sum(v in given for v in self.of) >= self.at_least

    def matched(self, answers: Answers) -> tuple[str, ...]:
        given = answers.get(self.question, ())
        wanted = self.any_of or self.of
        return tuple(v for v in given if v in wanted) if wanted else given

    def satisfiable(self, question: "Question") -> bool:
        """Could any answer to `question` make this criterion hold?"""
        if self.any_of:
            return True
        if self.none_of:
            return any(v not in self.none_of for v in question.values)
        return self.at_least <= (1 if question.type == "choice" else len(self.of))

    def describe(self) -> str:
        if self.any_of:
            return f"{self.question} is {' or '.join(self.any_of)}"
        if self.none_of:
            return f"{self.question} is not {' or '.join(self.none_of)}"
        return f"{self.question} has {self.at_least}+ of {', '.join(self.of)}"


def all_hold(criteria: tuple[Criterion, ...], answers: Answers) -> bool:
    for criterion in criteria:  # a loop rather than all(<generator>): see Criterion.holds
        if not criterion.holds(answers):
            return False
    return True


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    group: str = ""  # a heading that gathers related options of a long list (e.g. by body system)


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    help: str
    options: tuple[Option, ...]
    enable_when: tuple[Criterion, ...] = ()
    options_from: str = ""  # `lifestyle` or a question of the followed flow that lends its options (flows/README.md)

    @property
    def personal(self) -> bool:
        """Its options narrow, per person, to the lifestyle areas of the result this conversation follows."""
        return self.options_from == LIFESTYLE_OPTIONS

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(o.value for o in self.options)

    def label(self, value: str) -> str:
        return next((o.label for o in self.options if o.value == value), value)

    def narrowed(self, allowed: Iterable[str]) -> "Question":
        """Only the options in `allowed`, in its order, then "None of these"; all of them when nothing is allowed."""
        by_value = {o.value: o for o in self.options}
        kept = [by_value[v] for v in allowed if v in by_value]
        if not kept:
            return self
        return replace(self, options=tuple(kept) + tuple(o for o in self.options if o.value == EXCLUSIVE_VALUE))

    def clean(self, raw: Any) -> tuple[str, ...]:
        """Return the answer as a tuple of values, or raise AnswerError saying what is wrong."""
        if self.type == "choice":
            if not isinstance(raw, str):
                raise AnswerError(f"'{self.id}' takes exactly one value (a string)")
            values = (raw,)
        else:
            if isinstance(raw, str):
                raw = [raw]
            if not isinstance(raw, list) or not raw or not all(isinstance(v, str) for v in raw):
                raise AnswerError(f"'{self.id}' takes a non-empty list of values")
            values = tuple(dict.fromkeys(raw))
        unknown = [v for v in values if v not in self.values]
        if unknown:
            raise AnswerError(f"unknown value(s) for '{self.id}': {', '.join(unknown)}")
        if EXCLUSIVE_VALUE in values and len(values) > 1:
            raise AnswerError(f"'{EXCLUSIVE_VALUE}' cannot be combined with other values in '{self.id}'")
        return values


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class Rule:
    when: tuple[Criterion, ...]
    weight: float
    because: str | None = None
    doesnt_fit: str | None = None


@dataclass(frozen=True)
class ConditionCard:
    id: str
    name: str
    summary: str
    rules: tuple[Rule, ...]
    tests_to_discuss: tuple[str, ...]
    sources: tuple[Source, ...]
    lifestyle: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True)
class Caution:
    """One caution on a lifestyle card. A caution that says what the person told us ("You said ...") has `only_when`
    and is shown only when it holds; a general one ("If you ...") is shown to everyone, first when `first_when`
    holds."""
    text: str
    first_when: tuple[Criterion, ...] = ()
    only_when: tuple[Criterion, ...] = ()

    def shown(self, answers: Answers) -> bool:
        return all_hold(self.only_when, answers)

    def for_you(self, answers: Answers) -> bool:
        when = self.only_when or self.first_when
        return bool(when) and all_hold(when, answers)


# A caution that claims something about the person: "You said ...", "You take ...", "As you ...", "Because you ...",
# or any sentence that opens with "You <verb>" other than a modal ("You may ...", "You can ..."). Such a caution
# must carry `only_when`. Conditional words ("If you ...", "when you ...") keep a sentence general.
_MODALS = r"(?:may|might|can|could|should|will|would|need|must|do not|don't)\b"
_CLAIMS = (re.compile(rf"(?:^|[.;:!?]\s+)(?:you|you're|you've)\s+(?!{_MODALS})\w+", re.I),
           re.compile(r"\byou\s+(?:said|told us|mentioned|reported|ticked|answered|chose)\b", re.I),
           re.compile(rf"\b(?:as|because|since)\s+you\s+(?!{_MODALS})\w+", re.I),
           re.compile(r"(?<!if )(?<!when )(?<!whether )(?<!unless )\byou(?:'re|\s+are)\s+(?:taking|on)\b", re.I))


def personal_claim(text: str) -> str | None:
    """The words in which a caution claims something about the person, or None for a general caution."""
    for pattern in _CLAIMS:
        if found := pattern.search(text.strip()):
            return found.group(0).lstrip(".;:!? ")
    return None


@dataclass(frozen=True)
class LifestyleCard:
    id: str
    title: str
    why: str
    how: str
    cautions: tuple[Caution, ...]
    for_conditions: tuple[str, ...]
    sources: tuple[Source, ...]
    also_when: tuple[Criterion, ...] = ()


@dataclass(frozen=True)
class RedFlag:
    id: str
    when: tuple[Criterion, ...]
    urgency: str
    text: str
    condition: str | None = None
    sources: tuple[Source, ...] = ()
    clinical: str = ""  # a few clinical words for the handout (e.g. "possible DVT")

    @property
    def derived(self) -> bool:
        """Raised from other answers, not from a ticked warning sign."""
        return all(c.question != "red_flags" for c in self.when)


@dataclass(frozen=True)
class UrgencyLevel:
    title: str
    advice: str


@dataclass(frozen=True)
class ClinicalTerms:
    """Clinical words for answer values (flows/<id>/clinical_terms.yaml), for the clinician's handout and summary.
    Tolerant by design: a value without a term falls back to its patient label (`flows check` lists it), and terms
    for values this version does not have are ignored."""
    terms: dict[str, dict[str, str]] = field(default_factory=dict)
    medicines: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def term(self, question: "Question", value: str) -> str:
        return self.terms.get(question.id, {}).get(value) or question.label(value)

    def is_medicine(self, question_id: str, value: str) -> bool:
        return value in self.medicines.get(question_id, ())

    def missing(self, questions: Iterable["Question"]) -> list[str]:
        return [f"{q.id}.{v}" for q in questions for v in q.values if v not in self.terms.get(q.id, {})]


@dataclass(frozen=True)
class Sign:
    """A sign to watch for; shown to everyone when `when` is empty, else only when it holds."""
    text: str
    when: tuple[Criterion, ...] = ()


@dataclass(frozen=True)
class SafetyNet:
    """What a result without an emergency says instead of reassurance: what the check could not do, and the signs
    that should make this person get help the same day."""
    title: str
    text: str
    signs: tuple[Sign, ...]


@dataclass(frozen=True)
class Stop:
    """An end other than the result: when `when` holds, the conversation stops with `status` and this message."""
    status: str
    when: tuple[Criterion, ...]
    title: str
    text: str
    get_help: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flow:
    id: str
    version: int
    title: str
    disclaimer: str
    questions: tuple[Question, ...]
    conditions: tuple[ConditionCard, ...] = ()
    lifestyle: tuple[LifestyleCard, ...] = ()
    red_flags: tuple[RedFlag, ...] = ()
    levels: dict[str, UrgencyLevel] = field(default_factory=dict)
    contract: dict[str, Any] = field(default_factory=dict)
    clinical: ClinicalTerms = field(default_factory=ClinicalTerms)
    stops: tuple[Stop, ...] = ()
    safety_net: SafetyNet | None = None
    language: str = "en"  # the language of its words (translations.localize makes the others)
    follows: str = ""  # the flow whose finished conversations this one belongs to (a daily check-in's intake)
    scores: tuple[str, ...] = ()  # questions answered on a 0-10 scale, listed and charted per conversation
    # Questions of the followed flow that lent red flags name but this flow does not ask: their answers come from
    # the followed conversation (e.g. the age band that makes a new headache an emergency at 50 and over).
    context: tuple[Question, ...] = ()

    @property
    def start(self) -> str:
        return self.questions[0].id

    def known_question(self, question_id: str) -> Question | None:
        """A question this flow asks, or one whose answer it takes from the conversation it follows."""
        return self._by_id.get(question_id) or next((q for q in self.context if q.id == question_id), None)

    def score(self, question_id: str, values: tuple[str, ...]) -> int | None:
        return int(values[0]) if question_id in self.scores and values and values[0].isdigit() else None

    def question(self, question_id: str) -> Question:
        return self._by_id[question_id]

    def has_question(self, question_id: str) -> bool:
        return question_id in self._by_id

    def position(self, question_id: str) -> int:
        return self._order[question_id]

    def stop_for(self, answers: Answers) -> Stop | None:
        """The declared stop (e.g. not an adult) these answers reach, if any."""
        return next((s for s in self.stops if all_hold(s.when, answers)), None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {q.id: q for q in self.questions})
        object.__setattr__(self, "_order", {q.id: i for i, q in enumerate(self.questions)})


# --- marshmallow schemas for the YAML files ------------------------------------------------------------------------

class CriterionSchema(Schema):
    question = fields.String(required=True)
    anyOf = fields.List(fields.String(), validate=validate.Length(min=1))
    noneOf = fields.List(fields.String(), validate=validate.Length(min=1))
    atLeast = fields.Integer(validate=validate.Range(min=1))
    of = fields.List(fields.String(), validate=validate.Length(min=1))

    @validates_schema
    def one_test(self, data: dict, **kwargs: Any) -> None:
        tests = [k for k in ("anyOf", "noneOf", "of") if k in data]
        if len(tests) != 1:
            raise ValidationError("give exactly one of anyOf, noneOf, atLeast+of")
        if ("of" in data) != ("atLeast" in data):
            raise ValidationError("atLeast and of go together")


class WhenField(fields.Field):
    """One criterion or a list of criteria (all must hold)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[Criterion, ...]:
        items = value if isinstance(value, list) else [value]
        if not items:
            raise ValidationError("needs at least one criterion")
        loaded = CriterionSchema(many=True).load(items)
        return tuple(Criterion(question=c["question"], any_of=tuple(c.get("anyOf", ())),
                               none_of=tuple(c.get("noneOf", ())), at_least=c.get("atLeast", 0),
                               of=tuple(c.get("of", ()))) for c in loaded)


Text = fields.String(required=True, validate=validate.Length(min=1))
Id = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]+$", error="ids are lower_snake_case"))


class OptionSchema(Schema):
    value = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]+$"))
    label = fields.String(required=True, validate=validate.Length(min=1))
    group = fields.String(load_default="")


class StopSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(STOP_STATUSES))
    when = WhenField(required=True)
    title = Text
    text = Text
    get_help = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)


class QuestionSchema(Schema):
    linkId = Id
    type = fields.String(required=True, validate=validate.OneOf(QUESTION_TYPES))
    text = fields.String(load_default="")
    help = fields.String(load_default="")
    answerOption = fields.List(fields.Nested(OptionSchema), load_default=list)
    answerOptionFrom = fields.String(load_default="", validate=validate.Regexp(r"^[a-z0-9_]+$"))
    enableWhen = WhenField(load_default=())

    @validates_schema
    def has_text_and_options(self, data: dict, **kwargs: Any) -> None:
        lent = data["answerOptionFrom"]
        if not data["text"].strip() and (not lent or lent == LIFESTYLE_OPTIONS):
            raise ValidationError("Missing data for required field.", "text")
        if not lent and len(data["answerOption"]) < 2:
            raise ValidationError("Shorter than minimum length 2.", "answerOption")


class FollowsSchema(Schema):
    flow = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9-]+$"))
    red_flags = fields.Boolean(load_default=False)


class FlowSchema(Schema):
    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9-]+$"))
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    title = Text
    disclaimer = Text
    questions = fields.List(fields.Nested(QuestionSchema), required=True, validate=validate.Length(min=1))
    stops = fields.List(fields.Nested(StopSchema), load_default=list)
    follows = fields.Nested(FollowsSchema)
    scores = fields.List(fields.String(), load_default=list)


class SourceSchema(Schema):
    title = Text
    url = fields.Url(required=True, schemes={"https"})


class RuleSchema(Schema):
    when = WhenField(required=True)
    weight = fields.Float(required=True)
    because = fields.String()
    doesnt_fit = fields.String()

    @validates_schema
    def has_reason(self, data: dict, **kwargs: Any) -> None:
        if data["weight"] > 0 and not data.get("because"):
            raise ValidationError("a positive weight needs a 'because' sentence", "because")
        if data["weight"] < 0 and not data.get("doesnt_fit"):
            raise ValidationError("a negative weight needs a 'doesnt_fit' sentence", "doesnt_fit")


class ConditionCardSchema(Schema):
    id = Id
    name = Text
    summary = Text
    note = fields.String()
    rules = fields.List(fields.Nested(RuleSchema), required=True, validate=validate.Length(min=1))
    tests_to_discuss = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    sources = fields.List(fields.Nested(SourceSchema), required=True, validate=validate.Length(min=1))
    lifestyle = fields.List(fields.String(), load_default=list)


class CautionSchema(Schema):
    text = Text
    first_when = WhenField(load_default=())
    only_when = WhenField(load_default=())

    @validates_schema
    def one_condition(self, data: dict, **kwargs: Any) -> None:
        if data.get("first_when") and data.get("only_when"):
            raise ValidationError("give first_when (a general caution) or only_when (a personal one), not both")


class LifestyleCardSchema(Schema):
    id = Id
    title = Text
    why = Text
    how = Text
    cautions = fields.List(fields.Nested(CautionSchema), required=True, validate=validate.Length(min=1))
    for_conditions = fields.List(fields.String(), required=True)
    also_when = WhenField(load_default=())
    sources = fields.List(fields.Nested(SourceSchema), required=True, validate=validate.Length(min=1))


class RedFlagSchema(Schema):
    id = Id
    when = WhenField(required=True)
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCY_LEVELS[1:]))
    text = Text
    condition = fields.String()
    sources = fields.List(fields.Nested(SourceSchema), load_default=list)
    clinical = fields.String(load_default="")


class LevelSchema(Schema):
    title = Text
    advice = Text


class SignSchema(Schema):
    text = Text
    when = WhenField(load_default=())


class SafetyNetSchema(Schema):
    title = Text
    text = Text
    signs = fields.List(fields.Nested(SignSchema), required=True, validate=validate.Length(min=1))


class RedFlagsFileSchema(Schema):
    levels = fields.Dict(keys=fields.String(validate=validate.OneOf(URGENCY_LEVELS)),
                         values=fields.Nested(LevelSchema), required=True)
    flags = fields.List(fields.Nested(RedFlagSchema), required=True)
    safety_net = fields.Nested(SafetyNetSchema)


class ClinicalTermsSchema(Schema):
    terms = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.String()),
                        load_default=dict)
    medicines = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), load_default=dict)


# --- loading -------------------------------------------------------------------------------------------------------

class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # the C parser when libyaml is there
    """YAML 1.1 reads 50_64 as the number 5064; our ids look like that, so only plain digits are integers."""


_Loader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:int"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))


def read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as err:
        raise FlowError(f"{path}: not valid YAML: {err}") from err


def _describe(messages: Any, data: Any, where: str = "") -> list[str]:
    """Flatten marshmallow's nested messages, naming list items by their linkId/id instead of their index."""
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{where or 'file'}: {' '.join(messages)}"]
    if not isinstance(messages, dict):
        return [f"{where}: {messages}"]
    lines = []
    for key, sub in messages.items():
        item = data[key] if isinstance(data, list) and isinstance(key, int) and key < len(data) else \
            data.get(key) if isinstance(data, dict) else None
        if isinstance(key, int) and isinstance(item, dict):
            name = item.get("linkId") or item.get("id") or item.get("value") or f"#{key + 1}"
            label = f"{where}[{name}]"
        else:
            label = f"{where}.{key}" if where else str(key)
        lines.extend(_describe(sub, item, label))
    return lines


def _load(schema: Schema, data: Any, path: Path) -> Any:
    try:
        return schema.load(data)
    except ValidationError as err:
        raise FlowError(f"{path}: " + "; ".join(_describe(err.messages, data))) from err


def _sources(items: list[dict]) -> tuple[Source, ...]:
    return tuple(Source(**s) for s in items)


VERSION_KEYS = ("since", "until")


def _applies(item: Any, version: int, path: Path) -> bool:
    """Content shared by several versions of a flow may mark an item `since: N` or `until: N` (inclusive)."""
    if not isinstance(item, dict):
        return True
    bounds = {k: item[k] for k in VERSION_KEYS if k in item}
    if any(not isinstance(v, int) or isinstance(v, bool) for v in bounds.values()):
        raise FlowError(f"{path}: 'since' and 'until' take a flow version number ({item.get('id', item)})")
    return bounds.get("since", 1) <= version <= bounds.get("until", version)


def for_version(data: Any, version: int, path: Path) -> Any:
    """The content as one flow version sees it: items outside their `since`/`until` bounds are left out."""
    if isinstance(data, list):
        return [for_version(item, version, path) for item in data if _applies(item, version, path)]
    if isinstance(data, dict):
        return {k: for_version(v, version, path) for k, v in data.items() if k not in VERSION_KEYS}
    return data


def _content(path: Path, version: int) -> Any:
    return for_version(read_yaml(path), version, path) if path.exists() else None


def _questions(raw: dict, followed: Flow | None, path: Path) -> tuple[Question, ...]:
    return tuple(_question(q, followed, path) for q in raw["questions"])


def _question(q: dict, followed: Flow | None, path: Path) -> Question:
    """A question as written, or with what the followed flow lends it (`answerOptionFrom`): the lifestyle areas as
    options, or another question's options (and its text and help, unless given), before its own options."""
    own = tuple(Option(**o) for o in q["answerOption"])
    text, help_text, lent = q["text"].strip(), q["help"].strip(), q["answerOptionFrom"]
    if lent and followed is None:
        raise FlowError(f"{path}: questions[{q['linkId']}].answerOptionFrom: only a flow that `follows` another "
                        f"can borrow options")
    if lent == LIFESTYLE_OPTIONS:
        borrowed = tuple(Option(value=card.id, label=card.title) for card in followed.lifestyle)
    elif lent:
        if not followed.has_question(lent):
            raise FlowError(f"{path}: questions[{q['linkId']}].answerOptionFrom: flow '{followed.id}' has no "
                            f"question '{lent}'")
        source = followed.question(lent)
        borrowed, text, help_text = source.options, text or source.text, help_text or source.help
    else:
        borrowed = ()
    options = borrowed + tuple(o for o in own if o.value not in {b.value for b in borrowed})
    if len(options) < 2:
        raise FlowError(f"{path}: questions[{q['linkId']}].answerOption: a question needs at least 2 options")
    return Question(id=q["linkId"], type=q["type"], text=text, help=help_text, options=options,
                    enable_when=q["enableWhen"], options_from=lent)


def _lent_red_flags(followed: Flow, questions: tuple[Question, ...]) -> dict[str, Any]:
    """The followed flow's red flags on questions this flow asks too, with its urgency levels; flags derived only
    from other answers stay with the followed flow. The other questions those flags name become context."""
    asked = {q.id for q in questions}
    flags = tuple(replace(f, condition=None)  # the condition cards stay with the followed flow
                  for f in followed.red_flags if any(c.question in asked for c in f.when))
    named = dict.fromkeys(c.question for f in flags for c in f.when if c.question not in asked)
    return {"red_flags": flags, "levels": dict(followed.levels),
            "context": tuple(followed.question(q) for q in named if followed.has_question(q))}


def _conditions(path: Path, version: int) -> tuple[ConditionCard, ...]:
    data = _content(path, version)
    if data is None:
        return ()
    cards = _load(ConditionCardSchema(many=True), data, path)
    return tuple(ConditionCard(id=c["id"], name=c["name"], summary=c["summary"].strip(), note=c.get("note"),
                               rules=tuple(Rule(**r) for r in c["rules"]),
                               tests_to_discuss=tuple(c["tests_to_discuss"]), sources=_sources(c["sources"]),
                               lifestyle=tuple(c["lifestyle"])) for c in cards)


def _lifestyle(path: Path, version: int) -> tuple[LifestyleCard, ...]:
    data = _content(path, version)
    if data is None:
        return ()
    cards = _load(LifestyleCardSchema(many=True), data, path)
    return tuple(LifestyleCard(id=c["id"], title=c["title"], why=c["why"].strip(), how=c["how"].strip(),
                               cautions=tuple(Caution(**k) for k in c["cautions"]),
                               for_conditions=tuple(c["for_conditions"]), also_when=c["also_when"],
                               sources=_sources(c["sources"])) for c in cards)


def _red_flags(path: Path, version: int) -> dict[str, Any]:
    """The Flow fields red_flags.yaml fills: red_flags, levels and safety_net."""
    data = _content(path, version)
    if data is None:
        return {}
    raw = _load(RedFlagsFileSchema(), data, path)
    net = raw.get("safety_net")
    return {"red_flags": tuple(RedFlag(**{**f, "sources": _sources(f["sources"])}) for f in raw["flags"]),
            "levels": {k: UrgencyLevel(**v) for k, v in raw["levels"].items()},
            "safety_net": SafetyNet(title=net["title"], text=net["text"].strip(),
                                    signs=tuple(Sign(**sign) for sign in net["signs"])) if net else None}


def contract_for(contract: Any, version: int) -> dict[str, Any]:
    """The public contract of one version: the version-1 ids plus every addition up to this version.

    contract.yaml holds `questions`, `question_types`, `conditions`, `lifestyle` (version 1) and `additions`
    (version -> the same keys, and `statuses`): later versions only ever add ids.
    """
    if not isinstance(contract, dict):
        return {}
    merged: dict[str, Any] = {k: v for k, v in contract.items() if k != "additions"}
    for added_in, extra in sorted((contract.get("additions") or {}).items()):
        if added_in > version:
            continue
        for key, ids in extra.items():
            if isinstance(ids, dict):
                target = merged.setdefault(key, {})
                for name, values in ids.items():
                    target[name] = list(target.get(name, [])) + list(values)
            else:
                merged[key] = list(merged.get(key, [])) + list(ids)
    return merged


def _clinical_terms(path: Path) -> ClinicalTerms:
    if not path.exists():
        return ClinicalTerms()
    raw = _load(ClinicalTermsSchema(), read_yaml(path) or {}, path)
    return ClinicalTerms(terms=raw["terms"], medicines={q: tuple(v) for q, v in raw["medicines"].items()})


def _lent_terms(own: ClinicalTerms, followed: Flow | None, questions: tuple[Question, ...]) -> ClinicalTerms:
    """A question that borrows another's options borrows its clinical words too (its own file may add more)."""
    if followed is None:
        return own
    lent = {q.id: followed.clinical.terms[q.options_from] for q in questions
            if q.options_from in followed.clinical.terms}
    return ClinicalTerms(terms={**lent, **own.terms}, medicines=own.medicines)


def _card_ids(path: Path) -> set[str]:
    """The ids of every card in a content file, whatever version it belongs to."""
    data = read_yaml(path) if path.exists() else None
    return {c["id"] for c in data if isinstance(c, dict) and "id" in c} if isinstance(data, list) else set()


def _cards(content: Path, version: int) -> dict[str, Any]:
    """This version's condition and lifestyle cards. A card may name a card that only another version has (the
    cards are shared by the versions): for this version that name is left out, not an error."""
    conditions = _conditions(content / "conditions.yaml", version)
    lifestyle = _lifestyle(content / "lifestyle.yaml", version)
    other = (_card_ids(content / "conditions.yaml") | _card_ids(content / "lifestyle.yaml")) \
        - {c.id for c in conditions} - {c.id for c in lifestyle}
    if not other:
        return {"conditions": conditions, "lifestyle": lifestyle}
    return {"conditions": tuple(replace(c, lifestyle=tuple(i for i in c.lifestyle if i not in other))
                                for c in conditions),
            "lifestyle": tuple(replace(c, for_conditions=tuple(i for i in c.for_conditions if i not in other))
                               for c in lifestyle)}


def _followed(raw: dict, loaded: dict[tuple[str, int], Flow], path: Path) -> Flow | None:
    """The newest version of the flow this one follows, or None when it follows none."""
    follows = raw.get("follows")
    if not follows:
        return None
    versions = [flow for (flow_id, _), flow in loaded.items() if flow_id == follows["flow"]]
    if not versions:
        raise FlowError(f"{path}: follows.flow: no flow called '{follows['flow']}'")
    return max(versions, key=lambda flow: flow.version)


def load_flow(path: Path, loaded: dict[tuple[str, int], Flow] | None = None) -> Flow:
    """Load one flow file and the content folder beside it (flows/<id>/), validating both. A flow that follows
    another (a daily check-in) finds it among the flows already `loaded`."""
    path = Path(path)
    raw = _load(FlowSchema(), read_yaml(path), path)
    content, version = path.parent / raw["id"], raw["version"]
    contract_path = content / "contract.yaml"
    followed = _followed(raw, loaded or {}, path)
    questions = _questions(raw, followed, path)
    lent = _lent_red_flags(followed, questions) if followed and raw["follows"]["red_flags"] else {}
    flow = Flow(id=raw["id"], version=version, title=raw["title"], disclaimer=raw["disclaimer"].strip(),
                questions=questions, **_cards(content, version),
                **(lent or _red_flags(content / "red_flags.yaml", version)),
                follows=followed.id if followed else "", scores=tuple(raw["scores"]),
                contract=contract_for(read_yaml(contract_path), version) if contract_path.exists() else {},
                clinical=_lent_terms(_clinical_terms(content / "clinical_terms.yaml"), followed, questions),
                stops=tuple(Stop(status=s["status"], when=s["when"], title=s["title"], text=s["text"].strip(),
                                 get_help=tuple(s["get_help"])) for s in raw["stops"]))
    problems = list(cross_check(flow))
    if problems:
        raise FlowError(f"{path}: " + "; ".join(problems))
    return flow


def load_flows(folder: Path) -> dict[tuple[str, int], Flow]:
    """Every flows/*.yaml file, keyed by (flow id, version)."""
    flows: dict[tuple[str, int], Flow] = {}
    paths = sorted(Path(folder).glob("*.yaml"))
    follows = [p for p in paths if isinstance(data := read_yaml(p), dict) and data.get("follows")]
    for path in [p for p in paths if p not in follows] + follows:  # a followed flow loads before its followers
        flow = load_flow(path, flows)
        if (flow.id, flow.version) in flows:
            raise FlowError(f"{path}: flow {flow.id} version {flow.version} is defined twice")
        flows[(flow.id, flow.version)] = flow
    return flows


# --- cross-references: every id a flow or its content names must exist --------------------------------------------

def _check_criteria(flow: Flow, where: str, criteria: tuple[Criterion, ...]) -> Iterable[str]:
    for c in criteria:
        question = flow.known_question(c.question)
        if question is None:
            yield f"{where}: unknown question '{c.question}'"
            continue
        unknown = [v for v in c.values if v not in question.values]
        if unknown:
            yield f"{where}: unknown value(s) {', '.join(unknown)} for question '{c.question}'"


def _duplicates(ids: list[str]) -> list[str]:
    return sorted({i for i in ids if ids.count(i) > 1})


def cross_check(flow: Flow) -> Iterable[str]:
    for dup in _duplicates([q.id for q in flow.questions]):
        yield f"question '{dup}' is defined twice"
    for q in flow.questions:
        if dup := _duplicates(list(q.values)):
            yield f"questions[{q.id}].answerOption: value(s) {', '.join(dup)} defined twice"
        yield from _check_criteria(flow, f"questions[{q.id}].enableWhen", q.enable_when)
        for c in q.enable_when:
            if flow.has_question(c.question) and flow.position(c.question) >= flow.position(q.id):
                yield f"questions[{q.id}].enableWhen: '{c.question}' is not asked before '{q.id}'"
    condition_ids = [c.id for c in flow.conditions]
    lifestyle_ids = [c.id for c in flow.lifestyle]
    for dup in _duplicates(condition_ids) + _duplicates(lifestyle_ids):
        yield f"card '{dup}' is defined twice"
    for card in flow.conditions:
        for i, rule in enumerate(card.rules, 1):
            yield from _check_criteria(flow, f"conditions[{card.id}].rules[{i}].when", rule.when)
        for unknown in sorted(set(card.lifestyle) - set(lifestyle_ids)):
            yield f"conditions[{card.id}].lifestyle: unknown lifestyle id '{unknown}'"
    for card in flow.lifestyle:
        yield from _check_criteria(flow, f"lifestyle[{card.id}].also_when", card.also_when)
        for i, caution in enumerate(card.cautions, 1):
            yield from _check_criteria(flow, f"lifestyle[{card.id}].cautions[{i}].first_when", caution.first_when)
            yield from _check_criteria(flow, f"lifestyle[{card.id}].cautions[{i}].only_when", caution.only_when)
            if not caution.only_when and (claim := personal_claim(caution.text)):
                yield (f"lifestyle[{card.id}].cautions[{i}]: '{claim}' says what the person told us: give it only_when "
                       f"(shown only to them) or word it generally ('If you ...')")
        for unknown in sorted(set(card.for_conditions) - set(condition_ids)):
            yield f"lifestyle[{card.id}].for_conditions: unknown condition id '{unknown}'"
    for flag in flow.red_flags:
        yield from _check_criteria(flow, f"red_flags[{flag.id}].when", flag.when)
        if flag.condition and flag.condition not in condition_ids:
            yield f"red_flags[{flag.id}].condition: unknown condition id '{flag.condition}'"
    for dup in _duplicates([f.id for f in flow.red_flags]):
        yield f"red flag '{dup}' is defined twice for version {flow.version}"
    for stop in flow.stops:
        yield from _check_criteria(flow, f"stops[{stop.status}].when", stop.when)
    for sign in flow.safety_net.signs if flow.safety_net else ():
        yield from _check_criteria(flow, "safety_net.signs.when", sign.when)
    for score in flow.scores:
        question = flow.known_question(score) if flow.has_question(score) else None
        if question is None or question.type != "choice" or not all(v.isdigit() for v in question.values):
            yield f"scores: '{score}' is not a question of this flow answered with a number"
