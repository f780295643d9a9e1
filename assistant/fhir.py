"""FHIR R4 export: a flow as a Questionnaire, a conversation's answers as a QuestionnaireResponse. Pure: no Flask.

The flow format already uses FHIR's names (linkId, answerOption, enableWhen), so this is a direct mapping:
- a `choice` question becomes `type: choice`; a `multi` question becomes `type: choice` with `repeats: true`, and its
  exclusive "none" option carries the core `questionnaire-optionExclusive` extension;
- each option becomes an `answerOption.valueCoding` (system = the Questionnaire's canonical URL + "/" + linkId,
  code = the option value, display = its label);
- `enableWhen` with one criterion `anyOf: [a, b]` becomes one `=` condition per value with `enableBehavior: any`;
  several criteria of one value each become `=` conditions with `enableBehavior: all`. Anything richer (noneOf,
  atLeast, several values in several criteria) cannot be said with enableWhen alone and is exported as an SDC
  `enableWhenExpression` (FHIRPath) instead;
- the help text becomes a child `display` item with the `help` item control.

The QuestionnaireResponse names its Questionnaire by canonical URL and version (`url|version`).
"""
from __future__ import annotations

import re
from typing import Any

from .flows import EXCLUSIVE_VALUE, Answers, Criterion, Flow, Question

OPTION_EXCLUSIVE = "http://hl7.org/fhir/StructureDefinition/questionnaire-optionExclusive"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
ENABLE_WHEN_EXPRESSION = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"

# What a conversation's status means for its QuestionnaireResponse.
RESPONSE_STATUS = {"finished": "completed", "stopped_emergency": "stopped", "stopped_not_adult": "stopped",
                   "active": "in-progress"}


def code_system(questionnaire_url: str, question_id: str) -> str:
    return f"{questionnaire_url}/{question_id}"


def coding(questionnaire_url: str, question: Question, value: str) -> dict[str, str]:
    return {"system": code_system(questionnaire_url, question.id), "code": value, "display": question.label(value)}


def resource_id(flow: Flow) -> str:
    return re.sub(r"[^A-Za-z0-9\-.]", "-", f"{flow.id}-{flow.version}")[:64]


def computable_name(flow: Flow) -> str:
    name = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", flow.id) if part)
    return name if name[:1].isalpha() else f"Flow{name}"


# --- enableWhen ------------------------------------------------------------------------------------------------------

def _fhirpath_codes(question_id: str) -> str:
    return f"%resource.repeat(item).where(linkId = '{question_id}').answer.value.code"


def _fhirpath_list(values: tuple[str, ...]) -> str:
    return " | ".join(f"'{v}'" for v in values)


def _fhirpath(criterion: Criterion) -> str:
    codes = _fhirpath_codes(criterion.question)
    if criterion.any_of:
        return f"{codes}.intersect({_fhirpath_list(criterion.any_of)}).exists()"
    if criterion.none_of:
        return f"({codes}.exists() and {codes}.intersect({_fhirpath_list(criterion.none_of)}).empty())"
    return f"{codes}.intersect({_fhirpath_list(criterion.of)}).count() >= {criterion.at_least}"


def enable_when(flow: Flow, question: Question, questionnaire_url: str) -> dict[str, Any]:
    """The item fields that say when `question` is asked (empty when it always is)."""
    criteria = question.enable_when
    if not criteria:
        return {}

    def condition(c: Criterion, value: str) -> dict[str, Any]:
        return {"question": c.question, "operator": "=",
                "answerCoding": coding(questionnaire_url, flow.question(c.question), value)}

    if len(criteria) == 1 and criteria[0].any_of:
        conditions = [condition(criteria[0], v) for v in criteria[0].any_of]
        return {"enableWhen": conditions, "enableBehavior": "any"} if len(conditions) > 1 else {
            "enableWhen": conditions}
    if all(c.any_of and len(c.any_of) == 1 for c in criteria):
        return {"enableWhen": [condition(c, c.any_of[0]) for c in criteria], "enableBehavior": "all"}
    expression = " and ".join(_fhirpath(c) for c in criteria)
    return {"extension": [{"url": ENABLE_WHEN_EXPRESSION,
                           "valueExpression": {"language": "text/fhirpath", "expression": expression}}]}


# --- resources -------------------------------------------------------------------------------------------------------

def _answer_option(questionnaire_url: str, question: Question, value: str) -> dict[str, Any]:
    option: dict[str, Any] = {"valueCoding": coding(questionnaire_url, question, value)}
    if question.type == "multi" and value == EXCLUSIVE_VALUE:
        option["extension"] = [{"url": OPTION_EXCLUSIVE, "valueBoolean": True}]
    return option


def _item(flow: Flow, question: Question, questionnaire_url: str) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": question.id, "text": question.text, "type": "choice", "required": True,
                            "repeats": question.type == "multi"}
    conditions = enable_when(flow, question, questionnaire_url)
    if "extension" in conditions:
        item = {"extension": conditions.pop("extension"), **item}
    item.update(conditions)
    item["answerOption"] = [_answer_option(questionnaire_url, question, v) for v in question.values]
    if question.help:
        item["item"] = [{
            "extension": [{"url": ITEM_CONTROL, "valueCodeableConcept": {
                "coding": [{"system": ITEM_CONTROL_SYSTEM, "code": "help", "display": "Help-Button"}]}}],
            "linkId": f"{question.id}.help", "text": question.help, "type": "display"}]
    return item


def questionnaire(flow: Flow, url: str) -> dict[str, Any]:
    """The FHIR R4 Questionnaire for one flow version; `url` is its canonical URL (without the version)."""
    return {
        "resourceType": "Questionnaire",
        "id": resource_id(flow),
        "url": url,
        "version": str(flow.version),
        "name": computable_name(flow),
        "title": flow.title,
        "status": "active",
        "subjectType": ["Patient"],
        "description": flow.disclaimer,
        "purpose": "Patient-reported intake before a visit. Educational; not a diagnosis.",
        "item": [_item(flow, q, url) for q in flow.questions],
    }


def questionnaire_response(flow: Flow, answers: Answers, questionnaire_url: str, status: str,
                           authored: str) -> dict[str, Any]:
    """A conversation's answers (those on its path) as a QuestionnaireResponse.

    `status` is the conversation status (finished, stopped_emergency, active); `authored` an ISO 8601 instant with
    a time zone. No identifier, subject or share token is included: the resource says only what was answered.
    """
    items = []
    for question in flow.questions:
        values = answers.get(question.id)
        if not values:
            continue
        items.append({"linkId": question.id, "text": question.text,
                      "answer": [{"valueCoding": coding(questionnaire_url, question, v)} for v in values]})
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{questionnaire_url}|{flow.version}",
        "status": RESPONSE_STATUS.get(status, "in-progress"),
        "authored": authored,
        "item": items,
    }
