"""Answers from any form: a FHIR R4 QuestionnaireResponse for one of our Questionnaires, read as the answers the
JSON API takes (`POST /api/v1/assess` with `Content-Type: application/fhir+json`). Pure: no Flask.

The response names its Questionnaire by canonical URL (`url|version`; without a version, the newest served one).
Every answered item is found wherever a renderer nests it (groups, or items under an answer), must be a question of
that flow version, and answers with `valueCoding`s of the question's own CodeSystem. A repeating question answers
once with several codings. Anything else is a 422 naming the item, as the JSON route names the answer.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from assistant.engine.machine import Engines, FlowEngine
from assistant.web.errors import Invalid
from assistant.web.fhir import FLOWS_PATH, Canonical
from assistant.content.flows import AnswerError, Answers, Question

MAX_DEPTH = 12  # items inside items: our Questionnaires nest 3 deep; deeper is refused before it is read
RESPONSE_STATUSES = ("in-progress", "completed", "amended", "entered-in-error", "stopped")


class FhirElement(Schema):
    class Meta:
        unknown = EXCLUDE  # a resource may carry anything FHIR allows (id, meta, extension, ...); we read what we use


class ResponseCodingSchema(FhirElement):
    system = fields.String()
    code = fields.String()
    display = fields.String()


class ResponseAnswerSchema(FhirElement):
    valueCoding = fields.Nested(ResponseCodingSchema)
    item = fields.List(fields.Nested(lambda: ResponseItemSchema()), load_default=list)


class ResponseItemSchema(FhirElement):
    linkId = fields.String(required=True, validate=validate.Length(min=1))
    answer = fields.List(fields.Nested(ResponseAnswerSchema), load_default=list)
    item = fields.List(fields.Nested(lambda: ResponseItemSchema()), load_default=list)


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (without recursion)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


class QuestionnaireResponseSchema(FhirElement):
    resourceType = fields.String(required=True, validate=validate.OneOf(["QuestionnaireResponse"]))
    questionnaire = fields.String(required=True, validate=validate.Length(min=1))
    status = fields.String(required=True, validate=validate.OneOf(RESPONSE_STATUSES))
    item = fields.List(fields.Nested(ResponseItemSchema), load_default=list)

    @pre_load
    def not_too_deep(self, data: Any, **kwargs: Any) -> Any:
        if _depth(data) > MAX_DEPTH * 4:  # each level of items is item -> [ -> { -> answer/item
            raise ValidationError(f"items nest more than {MAX_DEPTH} levels deep", "item")
        return data


RESPONSE = QuestionnaireResponseSchema()


def questionnaire_engine(canonical: str, engines: Engines, base: str) -> FlowEngine:
    """The flow version a canonical `url|version` names, or a 422 naming `questionnaire`."""
    url, bar, version = canonical.partition("|")
    match = re.fullmatch(re.escape(base + FLOWS_PATH) + r"/([a-z0-9-]+)/questionnaire", url)
    engine = None
    if match and not bar:
        engine = engines.get(match.group(1))
    elif match and re.fullmatch(r"[1-9][0-9]{0,8}", version):
        engine = engines.get(match.group(1), int(version))
    if engine is None:
        raise Invalid(f"'{canonical}' is not a questionnaire served here.",
                      fields={"questionnaire": "unknown questionnaire (expected "
                                               f"{base}{FLOWS_PATH}/<flow>/questionnaire|<version>)"})
    return engine


def answered_items(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every item that has answers, however deeply it is nested."""
    for item in items:
        if item["answer"]:
            yield item
        yield from answered_items(item["item"])
        for answer in item["answer"]:
            yield from answered_items(answer["item"])


def _codes(question: Question, item: dict[str, Any], urls: Canonical) -> list[str]:
    codes = []
    for answer in item["answer"]:
        coding = answer.get("valueCoding")
        if coding is None or "code" not in coding:
            raise AnswerError(f"'{question.id}' is answered with codings (valueCoding) only")
        if coding.get("system") != urls.code_system(question.id):
            raise AnswerError(f"unknown code system '{coding.get('system')}' for '{question.id}' "
                              f"(expected {urls.code_system(question.id)})")
        codes.append(coding["code"])
    return codes


def answers_from(response: dict[str, Any], engines: Engines, base: str) -> tuple[FlowEngine, Answers]:
    """A QuestionnaireResponse loaded by RESPONSE, as (the flow version it answers, its answers by question id)."""
    engine = questionnaire_engine(response["questionnaire"], engines, base)
    flow, urls = engine.flow, Canonical(base, engine.flow.id)
    answers: Answers = {}
    problems: dict[str, str] = {}
    for item in answered_items(response["item"]):
        link_id = item["linkId"]
        if not flow.has_question(link_id):
            problems[link_id] = f"unknown question '{link_id}'"
            continue
        if link_id in answers or link_id in problems:
            problems[link_id] = f"'{link_id}' is answered more than once (a repeating question answers once, " \
                                "with several codings)"
            continue
        question = flow.question(link_id)
        try:
            codes = _codes(question, item, urls)
            answers[link_id] = question.clean(codes[0] if question.type == "choice" and len(codes) == 1 else codes)
        except AnswerError as err:
            problems[link_id] = str(err)
    if problems:
        raise Invalid(f"Some answers are not valid: {', '.join(sorted(problems))}.", fields={"item": problems})
    return engine, answers
