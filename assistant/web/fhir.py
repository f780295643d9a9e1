"""FHIR R4 export: a flow version as an SDC Questionnaire, a conversation's answers as a QuestionnaireResponse.
Pure: no Flask. Every URL is built from the public base URL it is given, never from a request.

The flow format already uses FHIR's names (linkId, answerOption, enableWhen), so questions map directly:
- a `choice` question becomes `type: choice` with the `radio-button` item control; a `multi` question becomes
  `type: choice`, `repeats: true` with the `check-box` item control;
- each option becomes an `answerOption.valueCoding`: system = the question's CodeSystem (one per question, served
  with a ValueSet of the same answers; see `code_system` and `value_set`), code = the option value, display = its
  label. `item.code` carries a LOINC code where a well-known one exists (fhir_codes.py);
- `enableWhen` with one criterion `anyOf: [a, b]` becomes one `=` condition per value with `enableBehavior: any`;
  several criteria of one value each become `=` conditions with `enableBehavior: all`. Anything richer (noneOf,
  atLeast, several values in several criteria) is exported as an SDC `enableWhenExpression` (FHIRPath) instead;
- the help text becomes a child `display` item with the `help` item control.

What the conversation does besides asking becomes `display` items a renderer shows on its own:
- the disclaimer first;
- "None of these" ticked with another option of the same question: a warning right after the question (the core
  `optionExclusive` extension is kept for renderers that honour it; LHC-Forms does not, but shows the warning);
- every stop (a declared stop such as "not an adult", or an emergency red flag) after the last question it names,
  shown while it holds, followed by a group holding every later item that is enabled only while no stop holds;
- every same-day red flag after the last question it names, inside that group when there is one, so that an
  emergency is never shown beside a milder message.

The QuestionnaireResponse mirrors the Questionnaire's items (answered questions, inside their groups) and names its
Questionnaire by canonical URL and version (`url|version`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from assistant.content import fhir_codes
from assistant.content.flows import EXCLUSIVE_VALUE, NOT_SURE, Answers, Criterion, Flow, Question, RedFlag

OPTION_EXCLUSIVE = "http://hl7.org/fhir/StructureDefinition/questionnaire-optionExclusive"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
ENABLE_WHEN_EXPRESSION = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"
RENDERING_STYLE = "http://hl7.org/fhir/StructureDefinition/rendering-style"
FHIR_JSON = "application/fhir+json"
FLOWS_PATH = "/api/v1/flows"

# What a conversation's status means for its QuestionnaireResponse.
RESPONSE_STATUS = {"finished": "completed", "stopped_emergency": "stopped", "stopped_not_adult": "stopped",
                   "active": "in-progress"}
ITEM_CONTROLS = {"choice": ("radio-button", "Radio Button"), "multi": ("check-box", "Check-box")}
ALERT_STYLE = "font-weight: bold;"

# linkIds of the items that are not questions: they all hold a "." (question ids never do), so none can clash.
DISCLAIMER_LINK = "flow.disclaimer"


def help_link(question_id: str) -> str:
    return f"{question_id}.help"


def none_alone_link(question_id: str) -> str:
    return f"{question_id}.none-alone"


def flag_link(flag_id: str) -> str:
    return f"flag.{flag_id}"


def stop_link(status: str) -> str:
    return f"stop.{status}"


def after_link(question_id: str) -> str:
    return f"after.{question_id}"


# --- identifiers ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Canonical:
    """Canonical URLs of one flow's FHIR resources, under the public base URL (no trailing slash). Each is also the
    URL it is served at (the version is a query: `?version=N`)."""
    base: str
    flow_id: str

    @property
    def flow(self) -> str:
        return f"{self.base}{FLOWS_PATH}/{self.flow_id}"

    @property
    def questionnaire(self) -> str:
        return f"{self.flow}/questionnaire"

    def code_system(self, question_id: str) -> str:
        return f"{self.flow}/codesystems/{question_id}"

    def value_set(self, question_id: str) -> str:
        return f"{self.flow}/valuesets/{question_id}"


def coding(urls: Canonical, question: Question, value: str) -> dict[str, str]:
    return {"system": urls.code_system(question.id), "code": value, "display": question.label(value)}


def resource_id(flow: Flow, *parts: str) -> str:
    """A FHIR id (letters, digits, '-' and '.', at most 64) for a resource of this flow version."""
    return re.sub(r"[^A-Za-z0-9\-.]", "-", "-".join((flow.id, str(flow.version)) + parts))[:64]


def computable_name(*parts: str) -> str:
    name = "".join(word.capitalize() for part in parts for word in re.split(r"[^A-Za-z0-9]+", part) if word)
    return name if name[:1].isalpha() else f"Flow{name}"


# --- enableWhen ------------------------------------------------------------------------------------------------------

def _fhirpath_codes(question_id: str) -> str:
    return f"%resource.repeat(item).where(linkId = '{question_id}').answer.value.code"


def _fhirpath_list(values: tuple[str, ...]) -> str:
    return " | ".join(f"'{v}'" for v in values)


def _fhirpath(criterion: Criterion) -> str:
    codes = _fhirpath_codes(criterion.question)
    if criterion.any_of:
        test = f"{codes}.intersect({_fhirpath_list(criterion.any_of)}).exists()"
    elif criterion.none_of:
        test = f"{codes}.exists() and {codes}.intersect({_fhirpath_list(criterion.none_of)}).empty()"
    else:
        test = f"{codes}.intersect({_fhirpath_list(criterion.of)}).count() >= {criterion.at_least}"
    if criterion.none_of or NOT_SURE in criterion.values:  # "not sure" alone holds nothing, as in Criterion.holds
        return f"({test} and ({codes} = '{NOT_SURE}').not())"
    return test


def fhirpath(criteria: tuple[Criterion, ...]) -> str:
    """FHIRPath that is true when every criterion holds."""
    return " and ".join(_fhirpath(c) for c in criteria)


def expression_extension(url: str, expression: str) -> dict[str, Any]:
    return {"url": url, "valueExpression": {"language": "text/fhirpath", "expression": expression}}


def enable_when(flow: Flow, criteria: tuple[Criterion, ...], urls: Canonical) -> dict[str, Any]:
    """The item fields that enable an item while `criteria` hold (empty when there are none)."""
    if not criteria:
        return {}

    def condition(c: Criterion, value: str) -> dict[str, Any]:
        return {"question": c.question, "operator": "=", "answerCoding": coding(urls, flow.question(c.question), value)}

    if any(NOT_SURE in c.values for c in criteria):
        return {"extension": [expression_extension(ENABLE_WHEN_EXPRESSION, fhirpath(criteria))]}
    if len(criteria) == 1 and criteria[0].any_of:
        conditions = [condition(criteria[0], v) for v in criteria[0].any_of]
        return {"enableWhen": conditions, "enableBehavior": "any"} if len(conditions) > 1 else {
            "enableWhen": conditions}
    if all(c.any_of and len(c.any_of) == 1 for c in criteria):
        return {"enableWhen": [condition(c, c.any_of[0]) for c in criteria], "enableBehavior": "all"}
    return {"extension": [expression_extension(ENABLE_WHEN_EXPRESSION, fhirpath(criteria))]}


def _with_conditions(item: dict[str, Any], conditions: dict[str, Any]) -> dict[str, Any]:
    """Add enableWhen fields to an item, keeping FHIR's element order (extension first)."""
    extensions = conditions.pop("extension", [])
    if extensions:
        item = {"extension": item.pop("extension", []) + extensions, **item}
    item.update(conditions)
    return item


# --- items -----------------------------------------------------------------------------------------------------------

def _item_control(code: str, display: str) -> dict[str, Any]:
    return {"url": ITEM_CONTROL, "valueCodeableConcept": {
        "coding": [{"system": ITEM_CONTROL_SYSTEM, "code": code, "display": display}]}}


def _answer_option(urls: Canonical, question: Question, value: str) -> dict[str, Any]:
    option: dict[str, Any] = {"valueCoding": coding(urls, question, value)}
    if question.type == "multi" and value == EXCLUSIVE_VALUE:
        option["extension"] = [{"url": OPTION_EXCLUSIVE, "valueBoolean": True}]
    return option


def question_item(flow: Flow, question: Question, urls: Canonical) -> dict[str, Any]:
    item: dict[str, Any] = {"extension": [_item_control(*ITEM_CONTROLS[question.type])], "linkId": question.id}
    code = fhir_codes.item_code(flow.id, question.id)
    if code:
        item["code"] = [code]
    item.update({"text": question.text, "type": "choice", "required": True, "repeats": question.type == "multi"})
    item = _with_conditions(item, enable_when(flow, question.enable_when, urls))
    item["answerOption"] = [_answer_option(urls, question, v) for v in question.values]
    if question.help:
        item["item"] = [{"extension": [_item_control("help", "Help-Button")], "linkId": help_link(question.id),
                         "text": question.help, "type": "display"}]
    return item


def display_item(link_id: str, text: str, alert: bool = False, **conditions: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": link_id, "text": text}
    if alert:
        item["_text"] = {"extension": [{"url": RENDERING_STYLE, "valueString": ALERT_STYLE}]}
    item["type"] = "display"
    return _with_conditions(item, conditions)


def _sentence(title: str, text: str) -> str:
    return f"{title}{'' if title.endswith(('.', '!', '?')) else '.'} {text}"


@dataclass(frozen=True)
class Stop:
    """Something that ends the conversation before the result: what it says and when it holds."""
    link_id: str
    text: str
    when: tuple[Criterion, ...]


def _last_question(flow: Flow, criteria: tuple[Criterion, ...]) -> str:
    return max((c.question for c in criteria), key=flow.position)


def _asked(flow: Flow, criteria: tuple[Criterion, ...]) -> bool:
    """Criteria a form can test: a flow that follows another (a daily check-in) also has flags on answers of the
    followed conversation, which its form does not ask; those the service applies, the form leaves out."""
    return all(flow.has_question(c.question) for c in criteria)


def _flag_text(flow: Flow, flag: RedFlag) -> str:
    level = flow.levels.get(flag.urgency)
    return _sentence(level.title, flag.text) if level else flag.text


def stops_after(flow: Flow) -> dict[str, list[Stop]]:
    """Declared stops (e.g. not an adult), then emergency red flags, filed as the engine files them: under the last
    question they name."""
    stops = [Stop(stop_link(s.status), " ".join((_sentence(s.title, s.text),) + s.get_help), s.when)
             for s in flow.stops]
    stops += [Stop(flag_link(f.id), _flag_text(flow, f), f.when) for f in flow.red_flags
              if f.urgency == "emergency" and _asked(flow, f.when)]
    filed: dict[str, list[Stop]] = {}
    for stop in stops:
        filed.setdefault(_last_question(flow, stop.when), []).append(stop)
    return filed


def same_day_after(flow: Flow) -> dict[str, list[RedFlag]]:
    flags: dict[str, list[RedFlag]] = {}
    for flag in flow.red_flags:
        if flag.urgency == "same_day" and _asked(flow, flag.when):
            flags.setdefault(_last_question(flow, flag.when), []).append(flag)
    return flags


def _none_alone_warning(question: Question) -> dict[str, Any] | None:
    if question.type != "multi" or EXCLUSIVE_VALUE not in question.values:
        return None
    codes = _fhirpath_codes(question.id)
    label = question.label(EXCLUSIVE_VALUE)
    return display_item(
        none_alone_link(question.id),
        f"“{label}” cannot go with another answer: untick “{label}” or the others.", alert=True,
        extension=[expression_extension(ENABLE_WHEN_EXPRESSION,
                                        f"({codes} contains '{EXCLUSIVE_VALUE}') and {codes}.count() > 1")])


def _items(flow: Flow, urls: Canonical) -> list[dict[str, Any]]:
    """Every item in flow order; after each stop, the later items nest in a group enabled while no stop holds."""
    stops, same_day = stops_after(flow), same_day_after(flow)
    top: list[dict[str, Any]] = [display_item(DISCLAIMER_LINK, flow.disclaimer)]
    current = top
    for i, question in enumerate(flow.questions):
        current.append(question_item(flow, question, urls))
        warning = _none_alone_warning(question)
        if warning:
            current.append(warning)
        here = stops.get(question.id, [])
        for stop in here:
            current.append(display_item(stop.link_id, stop.text, alert=True, **enable_when(flow, stop.when, urls)))
        if here and (i + 1 < len(flow.questions) or same_day.get(question.id)):
            no_stop = " or ".join(f"({fhirpath(stop.when)})" for stop in here)
            group = {"extension": [expression_extension(ENABLE_WHEN_EXPRESSION, f"({no_stop}).not()")],
                     "linkId": after_link(question.id), "type": "group", "item": []}
            current.append(group)
            current = group["item"]
        for flag in same_day.get(question.id, []):
            current.append(display_item(flag_link(flag.id), _flag_text(flow, flag),
                                        **enable_when(flow, flag.when, urls)))
    return top


def questionnaire(flow: Flow, base: str) -> dict[str, Any]:
    """The FHIR R4 Questionnaire for one flow version; `base` is the public base URL."""
    urls = Canonical(base, flow.id)
    return {
        "resourceType": "Questionnaire",
        "id": resource_id(flow),
        "language": flow.language,
        "url": urls.questionnaire,
        "version": str(flow.version),
        "name": computable_name(flow.id),
        "title": flow.title,
        "status": "active",
        "subjectType": ["Patient"],
        "description": flow.disclaimer,
        "purpose": ("Patient-reported daily diary between visits, after the intake. Educational; not a diagnosis."
                    if flow.follows else "Patient-reported intake before a visit. Educational; not a diagnosis."),
        "item": _items(flow, urls),
    }


# --- responses -------------------------------------------------------------------------------------------------------

def _response_items(flow: Flow, items: Iterable[dict[str, Any]], answers: Answers,
                    urls: Canonical) -> list[dict[str, Any]]:
    """The answered questions among `items`, inside the groups that hold them (as the Questionnaire nests them)."""
    out = []
    for item in items:
        if item["type"] == "group":
            children = _response_items(flow, item["item"], answers, urls)
            if children:
                out.append({"linkId": item["linkId"], "item": children})
        elif item["type"] == "choice" and answers.get(item["linkId"]):
            question = flow.question(item["linkId"])
            given = [v for v in question.values if v in answers[question.id]]  # in the form's order, as renderers
            out.append({"linkId": question.id, "text": question.text,
                        "answer": [{"valueCoding": coding(urls, question, v)} for v in given]})
    return out


def questionnaire_response(flow: Flow, answers: Answers, base: str, status: str, authored: str) -> dict[str, Any]:
    """A conversation's answers (those on its path) as a QuestionnaireResponse.

    `status` is the conversation status (finished, stopped_emergency, active); `authored` an ISO 8601 instant with
    a time zone. No identifier, subject or share token is included: the resource says only what was answered.
    """
    urls = Canonical(base, flow.id)
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{urls.questionnaire}|{flow.version}",
        "status": RESPONSE_STATUS.get(status, "in-progress"),
        "authored": authored,
        "item": _response_items(flow, _items(flow, urls), answers, urls),
    }


def bundle(resources: list[dict[str, Any]], timestamp: str) -> dict[str, Any]:
    """Resources gathered in a `collection` Bundle (a person's daily check-ins, oldest first)."""
    return {"resourceType": "Bundle", "type": "collection", "timestamp": timestamp,
            "entry": [{"resource": resource} for resource in resources]}


# --- terminology: one CodeSystem and one ValueSet per question ------------------------------------------------------

def _terminology(flow: Flow, question: Question, kind: str, url: str) -> dict[str, Any]:
    return {
        "resourceType": kind,
        "id": resource_id(flow, question.id),
        "language": flow.language,
        "url": url,
        "version": str(flow.version),
        "name": computable_name(flow.id, question.id),
        "title": f"Answers to “{question.text}”",
        "status": "active",
        "description": f"The answers to question `{question.id}` of “{flow.title}” "
                       f"(flow {flow.id}, version {flow.version}).",
    }


def code_system(flow: Flow, question: Question, base: str) -> dict[str, Any]:
    """The answers of one question as a CodeSystem: code = the answer value, display = its label."""
    urls = Canonical(base, flow.id)
    return {**_terminology(flow, question, "CodeSystem", urls.code_system(question.id)),
            "caseSensitive": True, "valueSet": urls.value_set(question.id), "content": "complete",
            "count": len(question.options),
            "concept": [{"code": o.value, "display": o.label} for o in question.options]}


def value_set(flow: Flow, question: Question, base: str) -> dict[str, Any]:
    """Every answer of one question (all of its CodeSystem, at this flow version)."""
    urls = Canonical(base, flow.id)
    return {**_terminology(flow, question, "ValueSet", urls.value_set(question.id)),
            "immutable": True,
            "compose": {"include": [{"system": urls.code_system(question.id), "version": str(flow.version),
                                     "concept": [{"code": o.value, "display": o.label} for o in question.options]}]}}
