"""FHIR R4 export: every served flow version as an SDC Questionnaire with a CodeSystem and a ValueSet per question,
a shared conversation as a QuestionnaireResponse. Validated with the fhir.resources R4B models (R4-compatible), the
identifiers checked to come from the configured public URL only, and the renderer hints checked with an independent
form filler (tests/fhir_forms.py) against the flow's own path."""
from __future__ import annotations

import json
import re
from datetime import datetime
from urllib.parse import urlsplit

import pytest
from pydantic import ValidationError

from assistant.web import fhir

from assistant.content import fhir_codes
from assistant.content.flows import EXCLUSIVE_VALUE, NOT_SURE, Criterion, Flow, Option, Question, RedFlag, UrgencyLevel

from .conftest import WIDESPREAD_PAIN, make_app
from .fhir_forms import answered, enabled, fill, walk

CodeSystem = pytest.importorskip("fhir.resources.R4B.codesystem").CodeSystem
Questionnaire = pytest.importorskip("fhir.resources.R4B.questionnaire").Questionnaire
QuestionnaireResponse = pytest.importorskip("fhir.resources.R4B.questionnaireresponse").QuestionnaireResponse
ValueSet = pytest.importorskip("fhir.resources.R4B.valueset").ValueSet

PUBLIC_URL = "https://assistant.example.org"
QUESTIONNAIRE = "/api/v1/flows/muscle-pain/questionnaire"
RESPONSE_STATUSES = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"


@pytest.fixture
def app(database_url):
    app = make_app(database_url, PUBLIC_URL=PUBLIC_URL)
    yield app
    app.extensions["db_engine"].dispose()


def engines(app):
    """Every served version of every flow."""
    return app.extensions["engines"].all()


def get_fhir(client, path: str, **kwargs) -> dict:
    response = client.get(path, **kwargs)
    assert response.status_code == 200, (path, response.get_json())
    assert response.mimetype == "application/fhir+json"
    return response.get_json()


def local(url: str) -> str:
    """The path (and query) a canonical URL is served at on this app."""
    assert url.startswith(PUBLIC_URL + "/"), url
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def questionnaire_of(client, flow) -> dict:
    return get_fhir(client, f"/api/v1/flows/{flow.id}/questionnaire?version={flow.version}")


def question_items(questionnaire: dict) -> dict[str, dict]:
    return {i["linkId"]: i for i in walk(questionnaire["item"]) if i["type"] == "choice"}


def shared_response(client, conversation_id: str) -> dict:
    link = client.post(f"/api/v1/conversations/{conversation_id}/shares", json={}).get_json()
    return get_fhir(client, re.search(r"/s/[^/]+", link["url"]).group(0) + "/fhir")


# --- the resources and their identifiers ---------------------------------------------------------------------------

def test_questionnaire_validates_and_mirrors_every_served_flow(app, client):
    for engine in engines(app):
        flow = engine.flow
        body = questionnaire_of(client, flow)
        assert Questionnaire.model_validate(body).status == "active"
        assert body["url"] == f"{PUBLIC_URL}/api/v1/flows/{flow.id}/questionnaire"
        assert (body["version"], body["title"], body["id"]) == (str(flow.version), flow.title, f"{flow.id}-{flow.version}")
        items = question_items(body)
        assert list(items) == [q.id for q in flow.questions]
        for question in flow.questions:
            item = items[question.id]
            assert (item["type"], item["text"], item["required"]) == ("choice", question.text, True)
            assert item["repeats"] is (question.type == "multi")
            control = [e for e in item["extension"] if e["url"] == ITEM_CONTROL][0]
            assert control["valueCodeableConcept"]["coding"][0]["code"] == (
                "check-box" if question.type == "multi" else "radio-button")
            assert "answerValueSet" not in item  # que-4: never beside answerOption; the ValueSet is served apart
            assert [o["valueCoding"]["code"] for o in item["answerOption"]] == list(question.values)
            for option in item["answerOption"]:
                coding = option["valueCoding"]
                assert coding["display"] == question.label(coding["code"])
                assert coding["system"] == f"{PUBLIC_URL}/api/v1/flows/{flow.id}/codesystems/{question.id}"
                exclusive = [e for e in option.get("extension", []) if e["url"].endswith("optionExclusive")]
                assert bool(exclusive) is (question.type == "multi" and coding["code"] == EXCLUSIVE_VALUE)
            if question.help:
                assert item["item"] == [{**item["item"][0], "linkId": f"{question.id}.help", "type": "display",
                                         "text": question.help}]
            assert bool(item.get("enableWhen") or item.get("extension", [])[1:]) is bool(question.enable_when)


def test_items_carry_standard_codes_only_where_documented(app, client):
    for engine in engines(app):
        items = question_items(questionnaire_of(client, engine.flow))
        table = fhir_codes.ITEM_CODES.get(engine.flow.id, {})
        assert set(table) <= set(items), "a code is listed for a question the flow does not have"
        for link_id, item in items.items():
            expected = [dict(zip(("system", "code", "display"), table[link_id]))] if link_id in table else None
            assert item.get("code") == expected, link_id
        for item in walk(questionnaire_of(client, engine.flow)["item"]):
            assert item["type"] != "display" or "code" not in item  # que-3


def test_item_codes_are_loinc_codes_with_a_valid_check_digit():
    """A typo in a LOINC code is caught: LOINC's mod-10 check digit (Luhn over the digits before the dash)."""
    def luhn_digit(number: str) -> int:
        total = 0
        for i, digit in enumerate(reversed(number)):
            value = int(digit) * (2 if i % 2 == 0 else 1)
            total += value - 9 if value > 9 else value
        return (10 - total % 10) % 10

    for flow_codes in fhir_codes.ITEM_CODES.values():
        for system, code, display in flow_codes.values():
            assert system == "http://loinc.org" and display
            number, check = code.split("-")
            assert luhn_digit(number) == int(check), code


def test_every_answer_system_is_a_served_code_system_with_its_value_set(app, client):
    for engine in engines(app):
        flow = engine.flow
        for link_id, item in question_items(questionnaire_of(client, flow)).items():
            question = flow.question(link_id)
            system = item["answerOption"][0]["valueCoding"]["system"]
            code_system = get_fhir(client, local(system) + f"?version={flow.version}")
            assert CodeSystem.model_validate(code_system).content == "complete"
            assert (code_system["url"], code_system["version"]) == (system, str(flow.version))
            assert [(c["code"], c["display"]) for c in code_system["concept"]] == \
                [(o.value, o.label) for o in question.options]
            assert code_system["count"] == len(question.options) and code_system["caseSensitive"] is True
            value_set = get_fhir(client, local(code_system["valueSet"]) + f"?version={flow.version}")
            ValueSet.model_validate(value_set)
            assert value_set["url"] == code_system["valueSet"] == system.replace("/codesystems/", "/valuesets/")
            include = value_set["compose"]["include"]
            assert [(i["system"], i["version"]) for i in include] == [(system, str(flow.version))]
            assert [c["code"] for c in include[0]["concept"]] == list(question.values)
            assert code_system["id"] == value_set["id"] == f"{flow.id}-{flow.version}-{link_id.replace('_', '-')}"


def test_terminology_routes_refuse_what_is_not_served(client):
    for path in ("/api/v1/flows/nope/codesystems/sex", "/api/v1/flows/muscle-pain/codesystems/nope",
                 "/api/v1/flows/muscle-pain/valuesets/nope", "/api/v1/flows/muscle-pain/valuesets/sex?version=99"):
        response = client.get(path)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found", path
    assert client.get("/api/v1/flows/muscle-pain/codesystems/sex?version=abc").status_code == 422


def test_questionnaire_errors(client):
    assert client.get("/api/v1/flows/nope/questionnaire").status_code == 404
    assert client.get("/api/v1/flows/nope/questionnaire").get_json()["error"]["code"] == "not_found"
    assert client.get(QUESTIONNAIRE + "?version=99").status_code == 404
    assert client.get(QUESTIONNAIRE + "?version=abc").status_code == 422
    assert client.get(QUESTIONNAIRE + "?version=1").status_code == 200


def test_the_same_request_under_two_hosts_gives_the_same_bytes(app, talk):
    conversation = talk().through(WIDESPREAD_PAIN)
    link = app.test_client().post(f"/api/v1/conversations/{conversation.id}/shares", json={}).get_json()
    token_path = re.search(r"/s/[^/]+", link["url"]).group(0)
    paths = [QUESTIONNAIRE, "/api/v1/flows/muscle-pain/codesystems/red_flags",
             "/api/v1/flows/muscle-pain/valuesets/red_flags", token_path + "/fhir"]
    proxied = make_app(app.config["DATABASE_URL"], PUBLIC_URL=PUBLIC_URL, TRUSTED_PROXIES=1)
    try:
        for path in paths:
            seen = {app.test_client().get(path, base_url=base).data
                    for base in ("https://localhost", "http://clinic.example.org", "http://127.0.0.1:5000")}
            seen.add(proxied.test_client().get(path, headers={"X-Forwarded-Host": "evil.example",
                                                              "X-Forwarded-Proto": "http"}).data)
            assert len(seen) == 1, path
            body = seen.pop().decode()
            assert "localhost" not in body and "clinic.example.org" not in body and "evil.example" not in body
            assert PUBLIC_URL in body
    finally:
        proxied.extensions["db_engine"].dispose()


# --- renderer hints: what a form shows, checked with an independent filler ------------------------------------------

def test_the_disclaimer_comes_first_as_a_display_item(app, client):
    for engine in engines(app):
        first = questionnaire_of(client, engine.flow)["item"][0]
        assert (first["type"], first["text"]) == ("display", engine.flow.disclaimer)


def stories(flow: Flow) -> list[dict]:
    """Answer sets that visit every branch of any flow: every value of every question on top of a plain story;
    for muscle-pain also every red-flag value at every age, and flags that take two answers."""
    base = {q.id: (q.values[0] if q.type == "choice" else
                   [EXCLUSIVE_VALUE] if EXCLUSIVE_VALUE in q.values else [q.values[0]]) for q in flow.questions}
    if flow.id == "muscle-pain":
        base["age_band"] = "40_49"
    deciding = {c.question for q in flow.questions for c in q.enable_when} | {
        c.question for rule in (*flow.red_flags, *flow.stops) for c in rule.when}  # the answers branching looks at
    cases = [dict(base, **{q.id: v if q.type == "choice" else [v]})
             for q in flow.questions if q.id in deciding for v in q.values]
    if flow.id == "muscle-pain":
        for age in ("under_18", "40_49", "65_plus"):
            for flag in flow.question("red_flags").values:
                cases.append(dict(base, age_band=age, red_flags=[flag]))
            cases.append(dict(base, age_band=age, red_flags=["dark_urine", "fainting"], exposures=["statin"]))
        cases.append(dict(WIDESPREAD_PAIN))
        cases.append(dict(base, main_complaint="weakness", weakness_pattern=["eyelids_or_double_vision"]))
    return [{q: v for q, v in case.items() if flow.has_question(q)} for case in cases]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One app for the tests that only read flows (no database work), so they run once, not per database."""
    app = make_app(f"sqlite:///{tmp_path_factory.mktemp('fhir') / 'served.sqlite3'}", PUBLIC_URL=PUBLIC_URL)
    yield app
    app.extensions["db_engine"].dispose()


def test_a_form_asks_exactly_what_the_flow_asks_and_shows_the_stop(served):
    """For every story: the questions a renderer enables are the flow's path, an emergency or stop shows its display
    item (and nothing after it), and every same-day flag that holds shows its own, unless an emergency does."""
    client = served.test_client()
    for engine in engines(served):
        flow = engine.flow
        questionnaire = questionnaire_of(client, flow)
        for story in stories(flow):
            response, shown = fill(questionnaire, story)
            walk_ = engine.walk({k: (v,) if isinstance(v, str) else tuple(v) for k, v in story.items()})
            assert list(answered(response)) == list(walk_.visited), story
            given = {k: tuple(v) for k, v in answered(response).items()}
            raised = [f for f in flow.red_flags if all(c.holds(given) for c in f.when)]
            emergencies = {f"flag.{f.id}" for f in raised if f.urgency == "emergency"}
            same_day = {f"flag.{f.id}" for f in raised if f.urgency == "same_day"}
            flags_shown = {s for s in shown if s.startswith(("flag.", "stop."))}
            if walk_.end == "stopped_emergency":  # same-day advice from before the stop may stay, none from after
                stop_at = flow.position(walk_.visited[-1])
                earlier = {f"flag.{f.id}" for f in raised if f.urgency == "same_day"
                           and max(flow.position(c.question) for c in f.when) < stop_at}
                assert emergencies and flags_shown == emergencies | earlier, (story, flags_shown)
            elif walk_.end in ("finished",):
                assert flags_shown == same_day, (story, flags_shown)
            else:
                assert flags_shown == {f"stop.{walk_.end}"}, (story, flags_shown)
        QuestionnaireResponse.model_validate(response)


def test_none_of_these_with_another_answer_shows_a_warning(app, client):
    flow = engines(app)[0].flow
    questionnaire = questionnaire_of(client, flow)
    multi = [q for q in flow.questions if q.type == "multi" and EXCLUSIVE_VALUE in q.values]
    assert multi
    warnings = {i["linkId"]: i for i in walk(questionnaire["item"]) if i["linkId"].endswith(".none-alone")}
    assert set(warnings) == {f"{q.id}.none-alone" for q in multi}
    for question in multi:
        other = next(v for v in question.values if v != EXCLUSIVE_VALUE)
        for values, shown in (([EXCLUSIVE_VALUE], False), ([other], False), ([other, EXCLUSIVE_VALUE], True)):
            response = {"resourceType": "QuestionnaireResponse", "item": [
                {"linkId": question.id, "answer": [{"valueCoding": {"code": v}} for v in values]}]}
            assert enabled(warnings[f"{question.id}.none-alone"], response) is shown, (question.id, values)


def _demo_flow() -> Flow:
    yes_no = (Option("yes", "Yes"), Option("no", "No"), Option("none", "None of these"))
    return Flow(
        id="demo-flow", version=3, title="Demo", disclaimer="Educational.",
        questions=(
            Question("a", "multi", "A?", "", yes_no),
            Question("b", "choice", "B?", "", yes_no),
            Question("c", "choice", "C?", "", yes_no, enable_when=(Criterion("a", none_of=("no",)),)),
            Question("d", "choice", "D?", "", yes_no, enable_when=(Criterion("a", at_least=2, of=("yes", "no")),)),
            Question("e", "choice", "E?", "", yes_no,
                     enable_when=(Criterion("a", any_of=("yes",)), Criterion("b", any_of=("no",)))),
            Question("f", "choice", "F?", "", yes_no,
                     enable_when=(Criterion("a", any_of=("yes", "no")), Criterion("b", any_of=("no",)))),
            Question("g", "choice", "G?", "", yes_no),
            Question("h", "choice", "H?", "", (Option("yes", "Yes"), Option("no", "No"),
                                                Option(NOT_SURE, "I'm not sure"))),
            Question("i", "choice", "I?", "", yes_no, enable_when=(Criterion("h", none_of=("no",)),)),
        ),
        red_flags=(RedFlag("stop_b", (Criterion("a", any_of=("yes",)), Criterion("b", any_of=("yes",))),
                           "emergency", "Call now."),
                   RedFlag("today_c", (Criterion("c", any_of=("no",)),), "same_day", "See a doctor today."),
                   RedFlag("soon_a", (Criterion("a", any_of=("no",)),), "soon", "Book an appointment.")),
        levels={"emergency": UrgencyLevel("Call an ambulance now", "..."),
                "same_day": UrgencyLevel("Get medical help today", "...")})


def test_any_flow_exports_its_branching_stops_and_same_day_advice():
    flow = _demo_flow()
    body = fhir.questionnaire(flow, "https://example.org")
    Questionnaire.model_validate(body)
    assert body["url"] == "https://example.org/api/v1/flows/demo-flow/questionnaire"
    assert body["name"] == "DemoFlow" and body["id"] == "demo-flow-3"
    assert [i["linkId"] for i in body["item"]] == ["flow.disclaimer", "a", "a.none-alone", "b", "flag.stop_b",
                                                   "after.b"]
    items = {i["linkId"]: i for i in walk(body["item"])}
    assert [i["linkId"] for i in items["after.b"]["item"]] == ["c", "flag.today_c", "d", "e", "f", "g", "h", "i"]
    assert "flag.soon_a" not in items
    assert items["flag.stop_b"]["text"] == "Call an ambulance now. Call now."
    assert items["flag.today_c"]["text"] == "Get medical help today. See a doctor today."
    assert items["e"]["enableBehavior"] == "all" and len(items["e"]["enableWhen"]) == 2
    for link_id, fragment in (("c", ".empty()"), ("d", ".count() >= 2"), ("f", "'yes' | 'no'")):
        assert "enableWhen" not in items[link_id]
        expression = items[link_id]["extension"][1]
        assert expression["url"].endswith("sdc-questionnaire-enableWhenExpression")
        assert expression["valueExpression"]["language"] == "text/fhirpath"
        assert fragment in expression["valueExpression"]["expression"]

    stopped, shown = fill(body, {"a": ["yes"], "b": "yes", "g": "no"})
    assert list(answered(stopped)) == ["a", "b"] and "flag.stop_b" in shown
    going_on, shown = fill(body, {"a": ["yes"], "b": "no", "c": "no", "e": "no", "f": "yes", "g": "no"})
    assert list(answered(going_on)) == ["a", "b", "c", "e", "f", "g"] and "flag.stop_b" not in shown
    assert "flag.today_c" in shown
    for h, asked in (("yes", True), ("no", False), (NOT_SURE, False)):  # "not sure" holds no criterion
        answers = {"a": ["no"], "b": "no", "c": "no", "g": "no", "h": h, "i": "yes"}
        assert ("i" in answered(fill(body, answers)[0])) is asked is Criterion("h", none_of=("no",)).holds(
            {"h": (h,)}), h
    response = fhir.questionnaire_response(flow, {"a": ("yes", "no"), "b": ("no",), "g": ("yes",)},
                                           "https://example.org", "finished", "2026-03-01T09:00:00Z")
    QuestionnaireResponse.model_validate(response)
    assert response["questionnaire"] == "https://example.org/api/v1/flows/demo-flow/questionnaire|3"
    assert [i["linkId"] for i in response["item"]] == ["a", "b", "after.b"]
    assert response["item"][2]["item"][0]["linkId"] == "g"
    assert [a["valueCoding"]["code"] for a in response["item"][0]["answer"]] == ["yes", "no"]


def test_invalid_resources_are_rejected_by_the_validator():
    """The validator used above does reject broken resources (so passing it means something)."""
    with pytest.raises(ValidationError):
        Questionnaire.model_validate({"resourceType": "Questionnaire", "status": "active",
                                      "item": [{"linkId": "x", "type": "choice", "unknownField": 1}]})
    with pytest.raises(ValidationError):
        QuestionnaireResponse.model_validate({"resourceType": "QuestionnaireResponse", "status": "completed",
                                              "item": [{"text": "no linkId"}]})
    with pytest.raises(ValidationError):
        CodeSystem.model_validate({"resourceType": "CodeSystem", "status": "active", "content": "complete",
                                   "concept": [{"code": "a", "unknownField": 1}]})


# --- the shared answers --------------------------------------------------------------------------------------------

def test_questionnaire_response_validates_and_matches_its_questionnaire(client, talk):
    conversation = talk().through(WIDESPREAD_PAIN)
    body = shared_response(client, conversation.id)
    assert QuestionnaireResponse.model_validate(body).status == "completed"
    questionnaire = get_fhir(client, QUESTIONNAIRE)
    assert body["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"
    assert datetime.fromisoformat(body["authored"].replace("Z", "+00:00")).tzinfo is not None
    assert conversation.id not in json.dumps(body)

    # what a form filler makes of the same answers is item for item what we export
    filled, _ = fill(questionnaire, conversation.conversation["answers"])
    assert body["item"] == filled["item"]
    expected = {q: {v} if isinstance(v, str) else set(v) for q, v in conversation.conversation["answers"].items()}
    assert {q: set(codes) for q, codes in answered(body).items()} == expected
    assert list(answered(body)) == conversation.asked


def test_response_status_follows_the_conversation(client, talk):
    stopped = talk().through({"age_band": "40_49", "red_flags": ["breathing_difficulty"]})
    body = shared_response(client, stopped.id)
    assert body["status"] == "stopped" and body["status"] in RESPONSE_STATUSES
    QuestionnaireResponse.model_validate(body)
    assert answered(body) == {"age_band": ["40_49"], "red_flags": ["breathing_difficulty"]}


# --- CORS: read from any origin, GET only, no credentials -------------------------------------------------------------

ORIGIN = {"Origin": "https://forms.example.net"}


def test_public_fhir_resources_and_the_shared_export_can_be_read_from_another_origin(client, talk):
    conversation = talk().through(WIDESPREAD_PAIN)
    link = client.post(f"/api/v1/conversations/{conversation.id}/shares", json={}, headers=ORIGIN)
    assert "Access-Control-Allow-Origin" not in link.headers  # making a link is not for other origins
    token_path = re.search(r"/s/[^/]+", link.get_json()["url"]).group(0)
    readable = [QUESTIONNAIRE, QUESTIONNAIRE + "?version=1", "/api/v1/flows/muscle-pain/codesystems/sex",
                "/api/v1/flows/muscle-pain/valuesets/sex", token_path + "/fhir", token_path + "/fhir/checkins",
                "/api/v1/flows/nope/questionnaire", "/s/unknown-token/fhir"]  # errors are readable too
    for path in readable:
        response = client.get(path, headers=ORIGIN)
        assert response.headers.get("Access-Control-Allow-Origin") == "*", path
        assert "Access-Control-Allow-Credentials" not in response.headers, path
        preflight = client.options(path, headers={**ORIGIN, "Access-Control-Request-Method": "GET",
                                                  "Access-Control-Request-Headers": "accept"})
        assert preflight.headers.get("Access-Control-Allow-Origin") == "*", path
        assert preflight.headers.get("Access-Control-Allow-Methods") == "GET", path
    refused = client.options(QUESTIONNAIRE, headers={**ORIGIN, "Access-Control-Request-Method": "DELETE"})
    assert "Access-Control-Allow-Methods" not in refused.headers


def test_the_definitions_may_be_cached_and_a_shared_export_may_not(client, talk):
    for path in (QUESTIONNAIRE, "/api/v1/flows/muscle-pain/codesystems/sex", "/api/v1/flows/muscle-pain/valuesets/sex"):
        assert client.get(path).headers["Cache-Control"] == "public, max-age=3600", path
    conversation = talk().through(WIDESPREAD_PAIN)
    link = client.post(f"/api/v1/conversations/{conversation.id}/shares", json={}).get_json()
    export = client.get(re.search(r"/s/[^/]+", link["url"]).group(0) + "/fhir")
    assert export.status_code == 200 and export.headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/flows/nope/questionnaire").headers["Cache-Control"] == "no-store"


def test_nothing_else_is_opened_to_other_origins(client, talk):
    conversation = talk()
    for response in (client.get(f"/api/v1/conversations/{conversation.id}", headers=ORIGIN),
                     client.post("/api/v1/assess", headers=ORIGIN, json={"flow": "muscle-pain", "answers": {}}),
                     client.get("/api/v1/flows", headers=ORIGIN), client.get("/", headers=ORIGIN),
                     client.get("/s/unknown-token", headers=ORIGIN),
                     client.options("/api/v1/assess", headers={**ORIGIN, "Access-Control-Request-Method": "POST"})):
        assert "Access-Control-Allow-Origin" not in response.headers, response.request.path


def test_every_question_type_has_a_renderer_control():
    """A question type added to flows.py must say how FHIR renders it (fails here, not as a 500 at run time)."""
    from assistant.content.flows import QUESTION_TYPES
    assert set(fhir.ITEM_CONTROLS) == set(QUESTION_TYPES)


def test_the_resources_are_in_the_flows_own_language_whatever_is_asked(client):
    for path in (QUESTIONNAIRE, "/api/v1/flows/muscle-pain/codesystems/sex", "/api/v1/flows/muscle-pain/valuesets/sex"):
        english = client.get(path)
        spanish = client.get(path, headers={"Accept-Language": "es"})
        assert spanish.data == english.data and english.get_json()["language"] == "en", path
        assert spanish.headers["Content-Language"] == "en", path
