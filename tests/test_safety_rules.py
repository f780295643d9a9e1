"""Derived warning signs of flow muscle-pain version 2 (flows/muscle-pain/red_flags.yaml, docs/clinical-content.md):
each rule raised from ordinary answers, for a person who ticked "None of these", tested both ways through the JSON
API over HTTPS: it fires for its story, and it stays quiet for the near miss that differs in one answer."""
from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest

from assistant.config import PROJECT_ROOT
from assistant.content.flows import URGENCY_LEVELS, load_flows

from .conftest import make_app

V2 = load_flows(PROJECT_ROOT / "flows")[("muscle-pain", 2)]
DERIVED = {flag.id: flag for flag in V2.red_flags if flag.derived}
GUIDANCE_HOSTS = ("nhs.uk", "nice.org.uk", "academic.oup.com", "msdmanuals.com", "gov.uk", "ncbi.nlm.nih.gov")

# A calm person: ticks no warning sign, long-standing aches in the neck and shoulders, nothing else of note.
CALM = {
    "age_band": "40_49", "red_flags": ["none"], "sex": "female", "main_complaint": "pain",
    "pain_locations": ["neck", "shoulders"], "pain_sides": "both_sides", "pain_character": ["deep_ache"],
    "duration": "over_3_months", "onset": "gradual", "morning_stiffness": "under_30_min",
    "time_pattern": "worse_evening", "exertion_response": "no_change", "triggers": ["none"],
    "associated": ["none"], "exposures": ["none"], "history": ["none"],
}
WEAK = {"main_complaint": "weakness", "weakness_pattern": ["none"]}
PAIN_AND_WEAK = {"main_complaint": "pain_and_weakness", "weakness_pattern": ["none"]}


def calf(**more):
    return {"pain_locations": ["calves"], "pain_sides": "one_side", **more}


# rule id (or "rule id/variant") -> (what fires it, the near miss, whether the near miss stays below same day)
RULES: dict[str, tuple[dict, dict, bool]] = {
    "one_sided_leg_pain_sudden": (
        calf(onset="sudden", duration="2_to_6_weeks"),
        calf(onset="gradual", duration="2_to_6_weeks"), True),
    "one_sided_leg_pain_new": (  # "I'm not sure" how it started or when it is worst does not hide a clot
        calf(duration="under_2_weeks", onset="not_sure", time_pattern="not_sure"),
        {"pain_locations": ["calves"], "pain_sides": "both_sides", "duration": "under_2_weeks"}, True),
    "weakness_with_diuretic_or_laxative": (
        {**WEAK, "exposures": ["diuretic_or_laxative"]},
        {"exposures": ["diuretic_or_laxative"]}, True),
    "weakness_numbness_after_infection": (
        {**PAIN_AND_WEAK, "associated": ["numbness_tingling"], "exposures": ["recent_infection"],
         "duration": "2_to_6_weeks", "onset": "not_sure"},
        {**PAIN_AND_WEAK, "associated": ["numbness_tingling"], "exposures": ["recent_infection"]}, True),
    "new_weakness_numbness": (
        {**WEAK, "associated": ["numbness_tingling"], "onset": "over_days", "duration": "under_2_weeks"},
        {**WEAK, "associated": ["numbness_tingling"], "onset": "over_days", "duration": "2_to_6_weeks"}, True),
    "back_pain_numbness_weakness": (
        {**PAIN_AND_WEAK, "pain_locations": ["lower_back"], "associated": ["numbness_tingling"]},
        {"pain_locations": ["lower_back"], "associated": ["numbness_tingling"]}, True),
    "back_pain_numbness_both_legs": (
        {"pain_locations": ["lower_back", "thighs"], "associated": ["numbness_tingling"], "duration": "2_to_6_weeks"},
        {"pain_locations": ["lower_back", "thighs"], "associated": ["numbness_tingling"]}, True),
    "statin_new_weakness": (
        {**PAIN_AND_WEAK, "exposures": ["statin"], "duration": "2_to_6_weeks"},
        {**PAIN_AND_WEAK, "exposures": ["statin"]}, True),
    "fluoroquinolone_sudden_calf_ankle_pain": (
        {"exposures": ["fluoroquinolone"], "pain_locations": ["feet_ankles"], "onset": "sudden",
         "duration": "2_to_6_weeks"},
        {"exposures": ["fluoroquinolone"], "pain_locations": ["feet_ankles"], "onset": "over_days",
         "duration": "2_to_6_weeks"}, True),
    "fever_headache_neck_pain": (
        {"associated": ["fever", "headaches"]},
        {"associated": ["headaches"]}, True),
    "fever_headache_neck_pain/everywhere": (  # aches everywhere count as neck pain
        {"associated": ["fever", "headaches"], "pain_locations": ["everywhere"]},
        {"associated": ["fever", "unrefreshing_sleep"], "pain_locations": ["everywhere"]}, True),
    "fever_with_fast_heart_or_dizziness": (
        {"associated": ["fever", "palpitations"]},
        {"associated": ["palpitations", "lightheaded_on_standing"]}, True),
    "headache_with_pmr_pattern_50_plus": (
        {"age_band": "65_plus", "morning_stiffness": "over_60_min", "associated": ["headaches"]},
        {"age_band": "40_49", "morning_stiffness": "over_60_min", "associated": ["headaches"]}, True),
    "headache_with_shoulder_and_hip_pain_50_plus": (  # the stiffness answer is "not sure"
        {"age_band": "50_64", "pain_locations": ["shoulders", "hips"], "morning_stiffness": "not_sure",
         "associated": ["headaches"], "duration": "2_to_6_weeks"},
        {"age_band": "50_64", "pain_locations": ["shoulders", "hips"], "morning_stiffness": "not_sure",
         "associated": ["headaches"]}, True),
    "jaw_pain_headache_50_plus": (
        {"age_band": "50_64", "pain_locations": ["jaw"], "associated": ["headaches"]},
        {"age_band": "40_49", "pain_locations": ["jaw"], "associated": ["headaches"]}, True),
    "new_chest_wall_pain": (
        {"pain_locations": ["chest_wall"], "duration": "under_2_weeks"},
        {"pain_locations": ["chest_wall"]}, True),
    "fever_with_one_sided_pain": (
        {"associated": ["fever"], "pain_sides": "one_side"},
        {"associated": ["fever"]}, True),
    "sudden_weakness_after_exertion": (
        {**PAIN_AND_WEAK, "triggers": ["exertion"], "onset": "sudden", "duration": "under_2_weeks"},
        {**PAIN_AND_WEAK, "triggers": ["exertion"], "onset": "gradual", "duration": "under_2_weeks"}, False),
    "new_weakness_recent": (
        {**WEAK, "duration": "under_2_weeks", "onset": "not_sure"},
        {**WEAK, "duration": "2_to_6_weeks", "onset": "not_sure"}, True),
    "myasthenia_eyelids": (
        {**WEAK, "weakness_pattern": ["eyelids_or_double_vision"]},
        {**WEAK, "weakness_pattern": ["worse_later_in_day"]}, True),
    "possible_pmr_50_plus": (
        {"age_band": "65_plus", "morning_stiffness": "over_60_min"},
        {"age_band": "65_plus", "morning_stiffness": "under_30_min"}, True),
    "early_inflammatory_arthritis": (
        {"associated": ["joint_swelling"], "morning_stiffness": "over_60_min"},
        {"associated": ["joint_swelling"], "morning_stiffness": "under_30_min"}, True),
    "lupus_features": (
        {"associated": ["joint_swelling", "facial_rash_sun"]},
        {"associated": ["facial_rash_sun"]}, True),
    "lupus_features/exhaustion_first": (  # the sides question is not asked: the rash still counts
        {"main_complaint": "exhaustion", "associated": ["joint_swelling", "facial_rash_sun"]},
        {"main_complaint": "exhaustion", "associated": ["facial_rash_sun"]}, True),
    "lupus_fever_swollen_joints": (  # one swollen joint with fever: infection first, not lupus
        {"associated": ["joint_swelling", "fever"], "pain_sides": "both_sides"},
        {"associated": ["joint_swelling", "fever"], "pain_sides": "one_side", "pain_locations": ["hands_wrists"]},
        False),
    "myositis_rash_weakness": (
        {**WEAK, "weakness_pattern": ["stairs_or_rising"], "associated": ["skin_rash_eyelids_knuckles"]},
        {**WEAK, "weakness_pattern": ["grip_or_hands"], "associated": ["skin_rash_eyelids_knuckles"]}, True),
    "proximal_weakness": (
        {**WEAK, "weakness_pattern": ["arms_overhead"]},
        {**WEAK, "weakness_pattern": ["grip_or_hands"]}, True),
    "fluoroquinolone_tendon_pain": (
        {"exposures": ["fluoroquinolone"], "pain_locations": ["shoulders"]},
        {"exposures": ["fluoroquinolone"], "pain_locations": ["neck", "lower_back"]}, True),
    "statin_muscle_symptoms": (
        {"exposures": ["statin"]},
        {"exposures": ["other_new_medicine"]}, True),
    "persistent_bone_pain_60_plus": (  # NG12: persistent bone pain at 60+, particularly back pain (myeloma)
        {"age_band": "65_plus", "pain_locations": ["lower_back", "chest_wall"], "duration": "6_weeks_to_3_months",
         "time_pattern": "constant", "exertion_response": "no_change"},
        {"age_band": "65_plus", "pain_locations": ["lower_back", "chest_wall"], "duration": "6_weeks_to_3_months",
         "time_pattern": "worse_morning", "exertion_response": "eases_with_movement"}, True),
    "palpitations_with_diuretic_or_laxative": (  # exhaustion first: the weakness question is not asked
        {"main_complaint": "exhaustion", "exposures": ["diuretic_or_laxative"],
         "associated": ["palpitations", "cramps_twitches"]},
        {"main_complaint": "exhaustion", "exposures": ["none"], "associated": ["palpitations", "cramps_twitches"]},
        True),
    "cramps_with_diuretic_or_laxative": (
        {"exposures": ["diuretic_or_laxative"], "associated": ["cramps_twitches"]},
        {"exposures": ["diuretic_or_laxative"], "associated": ["unrefreshing_sleep"]}, True),
    "hot_swollen_joint": (  # no fever: a hot joint is still an infection until shown otherwise
        {"pain_locations": ["hands_wrists"], "pain_sides": "one_side", "associated": ["joint_swelling"],
         "duration": "under_2_weeks", "onset": "over_days"},
        {"pain_locations": ["hands_wrists"], "pain_sides": "both_sides", "associated": ["joint_swelling"],
         "duration": "under_2_weeks", "onset": "over_days"}, True),
    "limb_pain_numbness_after_exertion": (
        {"pain_locations": ["upper_arms"], "pain_sides": "one_side", "triggers": ["exertion"],
         "associated": ["numbness_tingling"], "onset": "sudden", "duration": "under_2_weeks"},
        {"pain_locations": ["upper_arms"], "pain_sides": "one_side", "triggers": ["exertion"],
         "associated": ["none"], "onset": "sudden", "duration": "under_2_weeks"}, True),
}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from assistant.store.db import upgrade
    url = f"sqlite:///{tmp_path_factory.mktemp('safety') / 'safety.sqlite3'}"
    upgrade(url)
    app = make_app(url)
    yield app.test_client()  # over HTTPS (tests/https_client.py)
    app.extensions["db_engine"].dispose()


@pytest.fixture(scope="module")
def assess(client):
    def run(changes: dict) -> dict:
        response = client.post("/api/v1/assess", json={"flow": "muscle-pain", "version": 2,
                                                       "answers": {**CALM, **changes}})
        assert response.request.url.startswith("https://")
        assert response.status_code == 200, response.get_json()
        return response.get_json()
    return run


def at_least(result: dict, level: str) -> bool:
    return URGENCY_LEVELS.index(result["urgency"]) >= URGENCY_LEVELS.index(level)


def flag_ids(result: dict) -> list[str]:
    return [f["id"] for f in result["red_flags"]]


def test_the_calm_person_is_calm(assess):
    result = assess({})
    assert result["urgency"] == "routine" and result["red_flags"] == []


def test_every_derived_rule_is_tested_here():
    assert set(DERIVED) == {key.split("/")[0] for key in RULES}


@pytest.mark.parametrize("rule", sorted(DERIVED))
def test_every_derived_rule_names_its_source_and_never_calls_an_ambulance(rule):
    flag = DERIVED[rule]
    assert flag.sources, f"{rule} has no source"
    assert all(urlparse(s.url).scheme == "https" and urlparse(s.url).netloc.endswith(GUIDANCE_HOSTS)
               for s in flag.sources), flag.sources
    assert flag.urgency != "emergency"  # only a ticked sign stops the conversation


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_rule_fires_for_someone_who_ticked_none_of_the_signs(assess, rule):
    fires, _, _ = RULES[rule]
    rule = rule.split("/")[0]
    result = assess(fires)
    assert rule in flag_ids(result), (result["urgency"], flag_ids(result))
    assert at_least(result, DERIVED[rule].urgency)
    raised = next(f for f in result["red_flags"] if f["id"] == rule)
    assert raised["derived"] is True and raised["sources"]


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_rule_stays_quiet_for_the_near_miss(assess, rule):
    _, near_miss, calm = RULES[rule]
    rule = rule.split("/")[0]
    result = assess(near_miss)
    assert rule not in flag_ids(result), flag_ids(result)
    if calm and DERIVED[rule].urgency == "same_day":
        assert result["urgency"] in ("routine", "soon"), flag_ids(result)


@pytest.mark.parametrize("value", [v for v in V2.question("red_flags").values if v != "none"])
def test_every_ticked_sign_raises_a_flag_with_a_source(assess, value):
    result = assess({"red_flags": [value]})
    ticked = [f for f in result["red_flags"] if not f["derived"]]
    assert ticked and all(f["sources"] for f in ticked)
    assert at_least(result, "soon")


# --- dark pee after exercise: one instruction, never "if your pee turns dark" to someone whose pee is dark -------------

@pytest.mark.parametrize("exposures", [["none"], ["statin"]])
def test_dark_pee_after_exercise_leads_with_a_and_e_and_no_advice_waits_for_what_was_said(assess, exposures):
    """New weakness after hard exercise and pee like cola (with a statin or without): the first advice, which the
    chat says at once, is A&E today, and no other flag's text tells them what to do "if" their pee turns dark."""
    result = assess({**PAIN_AND_WEAK, "red_flags": ["dark_urine"], "pain_locations": ["thighs", "calves"],
                     "duration": "under_2_weeks", "onset": "sudden", "triggers": ["exertion"], "exposures": exposures})
    ids = flag_ids(result)
    assert ids[0] == "dark_urine_exertion" and "sudden_weakness_after_exertion" in ids, ids
    assert "go to A&E today" in result["red_flags"][0]["text"]
    assert not [f["id"] for f in result["red_flags"] if "turns dark" in f["text"]]
    assert not [sign for sign in result["safety_net"]["signs"] if "pee turns dark" in sign]
    assert [sign for sign in assess({})["safety_net"]["signs"] if "pee turns dark" in sign]  # said to everyone else


# --- giant cell arteritis: the card, the flag and the banner agree ---------------------------------------------------

PMR_AND_HEADACHE = {**CALM, "age_band": "65_plus", "pain_locations": ["shoulders", "hips", "neck"],
                    "duration": "2_to_6_weeks", "onset": "over_days", "morning_stiffness": "over_60_min",
                    "time_pattern": "worse_morning", "exertion_response": "eases_with_movement",
                    "associated": ["headaches"]}


def test_headaches_with_a_pmr_pattern_at_70_say_the_same_thing_everywhere(client):
    conversation = client.post("/api/v1/conversations", json={"flow": "muscle-pain"}).get_json()
    while conversation["status"] == "active":
        question = conversation["question"]["id"]
        conversation = client.post(f"/api/v1/conversations/{conversation['id']}/answers",
                                   json={"question_id": question, "value": PMR_AND_HEADACHE[question],
                                         "step": conversation["step"]}).get_json()
        if question == "associated":  # said at once, in the conversation
            assert conversation["urgency"] == "same_day"
            assert "giant cell arteritis" in conversation["urgent_advice"]["text"]
    result = client.get(f"/api/v1/conversations/{conversation['id']}/result").get_json()
    assert result["urgency"] == "same_day" and "today" in result["advice"]["title"]       # the banner
    assert result["conditions"][0]["id"] == "giant_cell_arteritis"                        # the card leads
    assert "same day" in result["conditions"][0]["summary"]
    gca = [f for f in result["red_flags"] if f["condition"] == "giant_cell_arteritis"]
    assert gca and all(f["urgency"] == "same_day" and "today" in f["text"] for f in gca)  # the flag
    # nothing else on the page sends a headache to the emergency department, or a change in eyesight to "today"
    pmr_flag = next(f for f in result["red_flags"] if f["id"] == "possible_pmr_50_plus")
    assert "emergency" not in pmr_flag["text"] and "same day" in pmr_flag["text"] and "999" in pmr_flag["text"]
    eyesight = [s for s in result["safety_net"]["signs"] if "eyesight" in s]
    assert eyesight and all("999" in s for s in eyesight)
    pmr = next(c for c in result["conditions"] if c["id"] == "polymyalgia_rheumatica")
    assert "same day" in pmr["note"] and "emergency" in pmr["note"]


def test_a_change_in_eyesight_at_50_plus_is_an_emergency(assess):
    result = assess({**PMR_AND_HEADACHE, "red_flags": ["new_headache_jaw_vision"]})
    assert result["urgency"] == "emergency" and result["status"] == "stopped_emergency"


@pytest.mark.parametrize("age", ["18_39", "65_plus"])
def test_a_sudden_change_in_eyesight_is_an_emergency_at_any_age(assess, age):
    result = assess({"age_band": age, "red_flags": ["sudden_vision_change"]})
    assert result["urgency"] == "emergency" and result["status"] == "stopped_emergency"
    assert "sudden_vision_change" in flag_ids(result)


def test_under_50_a_new_headache_alone_stays_same_day(assess):
    result = assess({"age_band": "18_39", "red_flags": ["new_headache_jaw_vision"]})
    assert result["urgency"] == "same_day"


def test_the_eyesight_option_is_version_2_only_and_its_own_item(client):
    question = {option.value: option.label for option in V2.question("red_flags").options}
    assert "eyesight" in question["sudden_vision_change"] and "eyesight" not in question["new_headache_jaw_vision"]
    response = client.post("/api/v1/assess", json={"flow": "muscle-pain", "version": 1,
                                                   "answers": {**CALM, "red_flags": ["sudden_vision_change"]}})
    assert response.status_code == 422, response.get_json()


def test_the_reviewers_guide_lists_every_flag():
    guide = (PROJECT_ROOT / "docs" / "clinical-content.md").read_text()
    flows = load_flows(PROJECT_ROOT / "flows")
    ids = {flag.id for version in (1, 2) for flag in flows[("muscle-pain", version)].red_flags}
    missing = sorted(i for i in ids if f"| `{i}` |" not in guide)
    assert not missing, f"docs/clinical-content.md has no row for {missing}"


# --- the danger set, as a person meets it: said during the conversation, before the last question -----------------------

DANGER = json.loads((PROJECT_ROOT / "tests" / "vignettes" / "danger.json").read_text())["cases"]


@pytest.mark.parametrize("case", DANGER, ids=lambda c: c["id"])
def test_a_danger_case_is_told_before_the_questions_end(client, case):
    conversation = client.post("/api/v1/conversations", json={"flow": "muscle-pain"}).get_json()
    told_while_active = False
    while conversation["status"] == "active":
        question = conversation["question"]["id"]
        conversation = client.post(f"/api/v1/conversations/{conversation['id']}/answers",
                                   json={"question_id": question, "value": case["answers"][question],
                                         "step": conversation["step"]}).get_json()
        if conversation["status"] == "active" and conversation["urgency"] == "same_day":
            told_while_active = True
            assert conversation["urgent_advice"]["text"] and conversation["urgent_advice"]["action"]
    if conversation["status"] == "stopped_emergency":
        return  # an emergency stops the conversation at once
    assert told_while_active, f"{case['id']}: same day was said only with the result"
    result = client.get(f"/api/v1/conversations/{conversation['id']}/result").get_json()
    assert result["urgency"] == "same_day" and result["safety_net"]["signs"]
