"""A small FHIR form filler for tests: what a renderer does with our Questionnaire, written from the R4 and SDC
texts rather than from our code. enableWhen (`=` on codings, `enableBehavior`), SDC enableWhenExpression (FHIRPath,
evaluated by fhirpathpy against the response filled so far), and disabled groups disabling what they hold."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Iterator

import fhirpathpy
from fhirpathpy.models import models

ENABLE_WHEN_EXPRESSION = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"
R4 = models["r4"]


def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every item, depth first, in document order."""
    for item in items:
        yield item
        yield from walk(item.get("item", []))


def codes_given(response: dict[str, Any], link_id: str) -> set[str]:
    return {code for item in walk(response["item"]) if item["linkId"] == link_id
            for code in (a["valueCoding"]["code"] for a in item.get("answer", []))}


def expression(item: dict[str, Any]) -> str | None:
    found = [e["valueExpression"]["expression"] for e in item.get("extension", []) if e["url"] == ENABLE_WHEN_EXPRESSION]
    return found[0] if found else None


@lru_cache(maxsize=None)
def compiled(expression_text: str) -> Callable[..., list]:
    return fhirpathpy.compile(expression_text, R4)


def enabled(item: dict[str, Any], response: dict[str, Any]) -> bool:
    """Whether a renderer enables `item` given the answers in `response`."""
    conditions = item.get("enableWhen")
    if conditions:
        assert all(c["operator"] == "=" and "answerCoding" in c for c in conditions), item["linkId"]
        assert len(conditions) == 1 or item.get("enableBehavior") in ("any", "all"), item["linkId"]  # que-12
        results = [c["answerCoding"]["code"] in codes_given(response, c["question"]) for c in conditions]
        return any(results) if item.get("enableBehavior") == "any" else all(results)
    found = expression(item)
    if found:
        return compiled(found)(response, {"resource": response}) == [True]
    return True


def fill(questionnaire: dict[str, Any], answers: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Answer every enabled question that `answers` answers, in order, as a person would.

    Returns the QuestionnaireResponse (nested as the Questionnaire is) and the linkIds of the enabled display items.
    """
    response: dict[str, Any] = {"resourceType": "QuestionnaireResponse", "status": "completed",
                                "questionnaire": f"{questionnaire['url']}|{questionnaire['version']}", "item": []}
    shown: list[str] = []

    def fill_items(items: list[dict[str, Any]], into: list[dict[str, Any]]) -> None:
        for item in items:
            if not enabled(item, response):
                continue
            if item["type"] == "display":
                shown.append(item["linkId"])
            elif item["type"] == "group":
                group = {"linkId": item["linkId"], "item": []}
                into.append(group)
                fill_items(item["item"], group["item"])
                if not group["item"]:
                    into.remove(group)
            elif item["linkId"] in answers:
                given = answers[item["linkId"]]
                values = [given] if isinstance(given, str) else list(given)
                options = {o["valueCoding"]["code"]: o["valueCoding"] for o in item["answerOption"]}
                into.append({"linkId": item["linkId"], "text": item["text"],  # answers in the options' order
                             "answer": [{"valueCoding": options[v]} for v in options if v in values]})
                assert set(values) <= set(options), (item["linkId"], values)
                for child in item.get("item", []):
                    if child["type"] == "display" and enabled(child, response):
                        shown.append(child["linkId"])

    fill_items(questionnaire["item"], response["item"])
    return response, shown


def answered(response: dict[str, Any]) -> dict[str, list[str]]:
    """linkId -> codes, for every answered item of a response."""
    return {item["linkId"]: [a["valueCoding"]["code"] for a in item["answer"]]
            for item in walk(response["item"]) if item.get("answer")}


def json_answers(response: dict[str, Any]) -> dict[str, Any]:
    """The same answers as the JSON API takes them (one value as a string, several as a list)."""
    return {link_id: codes[0] if len(codes) == 1 else codes for link_id, codes in answered(response).items()}
