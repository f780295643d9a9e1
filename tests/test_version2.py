"""Flow muscle-pain version 2 beside version 1: both served, adults only, urgency said during the conversation,
edits that keep later answers and say what they changed, "not sure" as neutral as no answer."""
import json

import pytest
import yaml
from sqlalchemy import update

from assistant.content.flows import load_flows
from assistant.config import PROJECT_ROOT
from assistant.store.models import Conversation

from .conftest import WIDESPREAD_PAIN, Talk
from .test_flows import edit

FLOWS = load_flows(PROJECT_ROOT / "flows")
V1, V2 = FLOWS[("muscle-pain", 1)], FLOWS[("muscle-pain", 2)]
ONE_CALF = {**WIDESPREAD_PAIN, "pain_locations": ["calves"], "pain_sides": "one_side", "onset": "sudden",
            "duration": "under_2_weeks", "time_pattern": "constant", "associated": ["none"], "triggers": ["none"]}


def start(client, **body):
    response = client.post("/api/v1/conversations", json={"flow": "muscle-pain", **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def answer(client, conversation, value, **headers):
    response = client.post(f"/api/v1/conversations/{conversation['id']}/answers", headers=headers,
                           json={"question_id": conversation["question"]["id"], "value": value,
                                 "step": conversation["step"]})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- two versions served side by side -----------------------------------------------------------------------------

def test_version_2_keeps_every_question_and_value_of_version_1():
    for question in V1.questions:
        assert question.type == V2.question(question.id).type
        assert set(question.values) <= set(V2.question(question.id).values), question.id


def test_new_conversations_start_on_version_2_and_version_1_can_still_be_asked_for(client):
    assert start(client)["flow"] == {"id": "muscle-pain", "version": 2}
    assert start(client, version=1)["flow"] == {"id": "muscle-pain", "version": 1}
    missing = client.post("/api/v1/conversations", json={"flow": "muscle-pain", "version": 9})
    assert missing.status_code == 404 and "version" in missing.get_json()["error"]["fields"]


def test_a_version_1_conversation_started_before_the_change_finishes_on_version_1_and_its_link_works(app, client):
    talk = Talk(client)
    talk.answer("40_49")
    with app.app_context():  # as if it had been started before version 2 was served
        from assistant.store import db
        session = db.session()
        session.execute(update(Conversation).where(Conversation.id == talk.id).values(flow_version=1))
        session.commit()
    talk.conversation = client.get(f"/api/v1/conversations/{talk.id}").get_json()
    assert talk.conversation["flow"]["version"] == 1
    talk.through(WIDESPREAD_PAIN)
    result = talk.result()
    assert result["flow"] == {"id": "muscle-pain", "version": 1} and result["conditions"]
    link = client.post(f"/api/v1/conversations/{talk.id}/shares", json={}).get_json()
    path = link["url"].split("://", 1)[1].split("/", 1)[1]
    for suffix in ("", "/handout"):
        assert client.get(f"/{path}{suffix}").status_code == 200
    fhir = client.get(f"/{path}/fhir").get_json()
    assert fhir["questionnaire"].endswith("|1")


def test_version_1_answers_are_valid_for_version_2(client):
    for version in (1, 2):
        response = client.post("/api/v1/assess", json={"flow": "muscle-pain", "version": version,
                                                       "answers": WIDESPREAD_PAIN})
        assert response.status_code == 200 and response.get_json()["flow"]["version"] == version
    only_v2 = {**WIDESPREAD_PAIN, "exposures": ["corticosteroid"]}
    assert client.post("/api/v1/assess", json={"version": 1, "answers": only_v2}).status_code == 422
    assert client.post("/api/v1/assess", json={"version": 2, "answers": only_v2}).status_code == 200


def test_flows_list_every_served_version(client):
    listed = [(f["id"], f["version"]) for f in client.get("/api/v1/flows").get_json()]
    assert ("muscle-pain", 1) in listed and ("muscle-pain", 2) in listed


def test_fever_with_stiff_neck_is_an_emergency_from_version_2_only(client):
    answers = {"age_band": "18_39", "red_flags": ["fever_stiff_neck_or_rash"]}
    urgency = {v: client.post("/api/v1/assess", json={"version": v, "answers": answers}).get_json()["urgency"]
               for v in (1, 2)}
    assert urgency == {1: "same_day", 2: "emergency"}


# --- adults only -------------------------------------------------------------------------------------------------

def test_under_18_stops_with_no_cards_on_the_api(client):
    conversation = answer(client, start(client), "under_18")
    assert conversation["status"] == "stopped_not_adult" and conversation["question"] is None
    result = client.get(f"/api/v1/conversations/{conversation['id']}/result").get_json()
    assert result["status"] == "stopped_not_adult"
    assert result["conditions"] == [] and result["lifestyle"] == []
    assert "adults" in result["advice"]["title"] and len(result["get_help"]) == 4
    assert "tell an adult you trust now" in result["get_help"][1] and "988 (US)" in result["get_help"][1]


def test_under_18_stops_on_assess_whatever_else_is_answered(client):
    result = client.post("/api/v1/assess", json={"answers": {**WIDESPREAD_PAIN, "age_band": "under_18"}}).get_json()
    assert result["status"] == "stopped_not_adult" and result["conditions"] == [] and result["lifestyle"] == []
    assert set(result["ignored"]) == set(WIDESPREAD_PAIN) - {"age_band"}


# --- urgency during the conversation --------------------------------------------------------------------------------

def test_a_same_day_sign_is_said_at_once_and_the_conversation_can_go_on(client):
    conversation = answer(client, start(client), "40_49")
    assert conversation["urgency"] == "routine" and conversation["urgent_advice"] is None
    conversation = answer(client, conversation, ["limb_swollen_hot"], **{"Accept-Language": "en-GB,en;q=0.8"})
    assert conversation["status"] == "active" and conversation["urgency"] == "same_day"
    advice = conversation["urgent_advice"]
    assert "today" in advice["title"].lower() and "clot" in advice["text"]
    assert advice["action"] == {"label": "Call NHS 111", "href": "tel:111"}
    assert conversation["question"]["id"] == "sex"


def test_the_same_day_action_follows_the_country_not_a_guess(client):
    conversation = answer(client, start(client), "40_49")
    us = answer(client, conversation, ["fainting"], **{"Accept-Language": "en-US"})
    assert us["urgent_advice"]["action"]["href"] != "tel:111"
    assert "911" not in us["urgent_advice"]["action"]["href"]  # emergency numbers are for emergencies only


def test_a_derived_same_day_flag_shows_as_soon_as_its_answers_are_in(client):
    conversation = start(client)
    while conversation["status"] == "active" and conversation["question"]["id"] != "duration":
        conversation = answer(client, conversation, ONE_CALF[conversation["question"]["id"]])
    assert conversation["urgency"] == "routine"  # the clot rule still needs to know the pain is new
    conversation = answer(client, conversation, "under_2_weeks")
    assert conversation["urgency"] == "same_day" and "clot" in conversation["urgent_advice"]["text"]
    result_flags = client.post("/api/v1/assess", json={"answers": ONE_CALF}).get_json()["red_flags"]
    flag = next(f for f in result_flags if f["id"] == "one_sided_leg_pain_sudden")
    assert flag["derived"] is True and flag["sources"]


# --- editing keeps later answers, and says what changed ------------------------------------------------------------

def test_changing_an_early_answer_keeps_the_later_ones_and_goes_on_where_it_left_off(client):
    talk = Talk(client)
    for question_id in ("age_band", "red_flags", "sex", "main_complaint", "pain_locations", "pain_sides"):
        talk.answer(WIDESPREAD_PAIN[question_id])
    before = talk.conversation
    assert before["question"]["id"] == "pain_character"
    rewound = client.post(f"/api/v1/conversations/{talk.id}/rewind", json={"question_id": "sex"}).get_json()
    assert rewound["question"]["id"] == "sex" and rewound["question"]["suggested"] == "female"
    assert rewound["progress"]["answered"] >= before["progress"]["answered"] - 1  # no jump backwards
    talk.conversation = rewound
    after = talk.answer("male").get_json()
    assert after["question"]["id"] == "pain_character"  # one tap: nothing re-confirmed
    assert after["answers"]["sex"] == "male" and after["answers"]["pain_locations"] == WIDESPREAD_PAIN["pain_locations"]
    assert after["progress"] == before["progress"]


def test_an_edit_that_changes_the_path_asks_only_the_new_questions(client):
    talk = Talk(client).through(WIDESPREAD_PAIN)
    client.post(f"/api/v1/conversations/{talk.id}/rewind", json={"question_id": "main_complaint"})
    talk.conversation = client.get(f"/api/v1/conversations/{talk.id}").get_json()
    after = talk.answer("pain_and_weakness").get_json()
    assert after["question"]["id"] == "weakness_pattern"  # new on this path: asked
    after = talk.answer(["stairs_or_rising"]).get_json()
    assert after["status"] == "finished"  # everything after it was already answered and is still on the path


def test_the_result_after_an_edit_says_what_moved(client):
    story = {**WIDESPREAD_PAIN, "age_band": "65_plus", "pain_locations": ["shoulders", "hips"],
             "morning_stiffness": "over_60_min", "associated": ["unrefreshing_sleep"]}
    talk = Talk(client).through(story)
    first = talk.result()
    assert "changes" not in first
    client.post(f"/api/v1/conversations/{talk.id}/rewind", json={"question_id": "age_band"})
    talk.conversation = client.get(f"/api/v1/conversations/{talk.id}").get_json()
    talk.answer("18_39")
    changed = talk.result()
    kinds = {c["kind"]: c for c in changed["changes"]}
    assert "polymyalgia_rheumatica" in {c["id"] for c in changed["changes"] if c["kind"] in ("gone", "down")}
    assert all(c["text"].endswith(".") for c in changed["changes"])
    if first["urgency"] != changed["urgency"]:
        assert kinds["urgency"]["id"] == changed["urgency"]
    # the same answer again: the result is the same, and says nothing moved
    client.post(f"/api/v1/conversations/{talk.id}/rewind", json={"question_id": "age_band"})
    talk.conversation = client.get(f"/api/v1/conversations/{talk.id}").get_json()
    talk.answer("18_39")
    assert talk.result()["changes"] == []


def test_a_walk_ignores_answers_left_over_from_another_path():
    from assistant.engine.machine import FlowEngine
    engine = FlowEngine(V2)
    answers = {k: (v,) if isinstance(v, str) else tuple(v) for k, v in WIDESPREAD_PAIN.items()}
    answers["weakness_pattern"] = ("eyelids_or_double_vision",)  # from an earlier "weakness" path
    walk = engine.walk(answers)
    assert "weakness_pattern" not in walk.visited and walk.end == "finished"


# --- "not sure" is as neutral as no answer ----------------------------------------------------------------------------

@pytest.mark.parametrize("question", ["onset", "morning_stiffness", "time_pattern", "exertion_response"])
def test_not_sure_scores_like_an_unanswered_question(client, question):
    def ranked(answers):
        result = client.post("/api/v1/assess", json={"answers": answers}).get_json()
        return [(c["id"], c["score"]) for c in result["conditions"]], result["urgency"]
    without = {k: v for k, v in WIDESPREAD_PAIN.items() if k != question}
    assert ranked({**without, question: "not_sure"}) == ranked(without)


# --- flows check -------------------------------------------------------------------------------------------------------

def test_check_fails_when_a_later_version_drops_a_value(tmp_path):
    import shutil
    from assistant.cli import check_folder
    target = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", target)
    edit(target / "muscle-pain-v2.yaml", '      - {value: "other", label: "Other"}\n', "")
    problems = check_folder(target)
    assert any("muscle-pain v2" in p and "lost value(s) other of version 1" in p for p in problems), problems


def test_content_bounds_must_be_version_numbers(tmp_path):
    import shutil
    from assistant.content.flows import FlowError
    target = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", target)
    edit(target / "muscle-pain" / "red_flags.yaml", "    since: 2\n", "    since: two\n")
    with pytest.raises(FlowError, match="since"):
        load_flows(target)


def test_version_bounds_keep_each_versions_content_apart():
    v1_ids, v2_ids = {f.id for f in V1.red_flags}, {f.id for f in V2.red_flags}
    assert "one_sided_leg_pain_sudden" in v2_ids - v1_ids
    assert "possible_gca_features" in v1_ids - v2_ids
    assert {f.urgency for f in V2.red_flags if f.id == "fever_stiff_neck_or_rash"} == {"emergency"}
    assert {f.urgency for f in V1.red_flags if f.id == "fever_stiff_neck_or_rash"} == {"same_day"}
    assert json.dumps(sorted(v1_ids))  # every id is a plain string


def test_a_card_may_name_a_card_only_a_later_version_has(tmp_path):
    import shutil
    target = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", target)
    edit(target / "muscle-pain" / "lifestyle.yaml", "  for_conditions: [fibromyalgia,",
         "  for_conditions: [medicine_side_effect, fibromyalgia,")
    flows = load_flows(target)
    named = {v: {c.id for c in flows[("muscle-pain", v)].lifestyle if "medicine_side_effect" in c.for_conditions}
             for v in (1, 2)}
    assert named[1] == set() and named[2]
    edit(target / "muscle-pain" / "lifestyle.yaml", "  for_conditions: [medicine_side_effect,",
         "  for_conditions: [no_such_card,")
    from assistant.content.flows import FlowError
    with pytest.raises(FlowError, match="unknown condition id 'no_such_card'"):
        load_flows(target)


# --- content lint for version 2: every answer value does something, or is listed as neutral on purpose ----------------

NEUTRAL = yaml.safe_load((PROJECT_ROOT / "flows" / "muscle-pain" / "neutral_values.yaml").read_text()) or {}


def _named(flow, conditions_only: bool = False) -> dict[str, set[str]]:
    criteria = [c for card in flow.conditions for r in card.rules for c in r.when]
    if not conditions_only:
        criteria += [c for flag in flow.red_flags for c in flag.when]
    named: dict[str, set[str]] = {}
    for criterion in criteria:
        named.setdefault(criterion.question, set()).update(criterion.values)
    return named


@pytest.mark.parametrize("question", V2.questions, ids=lambda q: q.id)
def test_every_version_2_answer_value_is_used_or_listed_as_neutral(question):
    used = _named(V2).get(question.id, set()) | set(NEUTRAL.get(question.id) or [])
    unused = [v for v in question.values if v not in used]
    assert not unused, f"{question.id}: neither used by a rule nor listed in neutral_values.yaml: {unused}"


def test_a_value_listed_as_neutral_exists_and_moves_no_score():
    for question_id, values in NEUTRAL.items():
        known = set().union(*(f.question(question_id).values for f in (V1, V2) if f.has_question(question_id)))
        assert set(values) <= known, f"{question_id}: {set(values) - known} is no answer value of any version"
        for flow in (V1, V2):
            scored = set(values) & _named(flow, conditions_only=True).get(question_id, set())
            assert not scored, f"{question_id}: {scored} is listed as neutral but scored in version {flow.version}"
