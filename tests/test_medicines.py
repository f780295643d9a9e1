"""Version 2's medicines (steroid tablets, acid-reflux medicines, fluoroquinolone antibiotics, another new medicine)
and "stiffness" as the main complaint reach the conditions they bear on, in both directions; version 1 is unchanged."""
from assistant.config import PROJECT_ROOT
from assistant.engine.machine import FlowEngine
from assistant.content.flows import load_flows
from assistant.engine.results import assess

FLOWS = load_flows(PROJECT_ROOT / "flows")
ENGINES = {version: FlowEngine(FLOWS[("muscle-pain", version)]) for version in (1, 2)}

BASE = {"age_band": "40_49", "sex": "female", "red_flags": ["none"], "duration": "6_weeks_to_3_months",
        "onset": "gradual", "morning_stiffness": "under_30_min", "time_pattern": "constant",
        "exertion_response": "no_change", "triggers": ["none"], "associated": ["none"], "exposures": ["none"],
        "history": ["none"]}
WEAK_HIPS = {**BASE, "main_complaint": "weakness", "weakness_pattern": ["stairs_or_rising", "arms_overhead"]}
SORE_HEEL = {**BASE, "main_complaint": "pain", "pain_locations": ["feet_ankles"], "pain_sides": "one_side",
             "pain_character": ["stabbing"], "duration": "under_2_weeks", "onset": "over_days"}


def answers(story: dict) -> dict:
    return {q: tuple(v) if isinstance(v, list) else (v,) for q, v in story.items()}


def result(story: dict, version: int = 2) -> dict:
    return assess(ENGINES[version], answers(story))


def card(found: dict, condition: str) -> dict | None:
    return next((c for c in found["conditions"] if c["id"] == condition), None)


def ranked(found: dict) -> list[str]:
    return [c["id"] for c in found["conditions"]]


def test_steroid_tablets_with_hip_and_shoulder_weakness_lead_to_a_medicine_side_effect():
    found = result({**WEAK_HIPS, "exposures": ["corticosteroid"]})
    assert ranked(found)[0] == "medicine_side_effect"
    assert "steroid tablets" in card(found, "medicine_side_effect")["because"][0]
    myositis = card(found, "inflammatory_myopathy")
    assert myositis and any("steroid" in reason for reason in myositis["doesnt_fit"]), "the look-alike is named"
    without = result(WEAK_HIPS)
    assert card(without, "medicine_side_effect") is None
    assert card(without, "inflammatory_myopathy")["score"] == myositis["score"] + 1


def test_a_recent_fluoroquinolone_with_heel_pain_points_to_its_tendon_side_effect():
    found = result({**SORE_HEEL, "exposures": ["fluoroquinolone"]})
    assert ranked(found)[0] == "medicine_side_effect"
    assert any("heel" in reason for reason in card(found, "medicine_side_effect")["because"])
    with_steroids = result({**SORE_HEEL, "exposures": ["fluoroquinolone", "corticosteroid"]})
    assert card(with_steroids, "medicine_side_effect")["score"] > card(found, "medicine_side_effect")["score"]
    assert card(result(SORE_HEEL), "medicine_side_effect") is None


def test_another_new_medicine_counts_only_when_the_symptoms_could_have_followed_it():
    recent = card(result({**SORE_HEEL, "exposures": ["other_new_medicine"]}), "medicine_side_effect")
    assert recent and recent["score"] > 0
    older = card(result({**SORE_HEEL, "exposures": ["other_new_medicine"], "duration": "over_3_months"}),
                 "medicine_side_effect")
    assert older is None or older["score"] < recent["score"]


def test_acid_reflux_medicines_bear_on_low_magnesium_and_low_b12():
    cramps = {**BASE, "main_complaint": "pain", "pain_locations": ["calves"], "pain_sides": "both_sides",
              "pain_character": ["cramping"], "associated": ["cramps_twitches"]}
    plain, on_ppi = result(cramps), result({**cramps, "exposures": ["ppi_acid_reflux"]})
    electrolytes = card(on_ppi, "electrolyte_imbalance")
    assert electrolytes["score"] == card(plain, "electrolyte_imbalance")["score"] + 2
    assert any("magnesium" in reason for reason in electrolytes["because"])
    assert any("acid reflux" in reason for reason in card(on_ppi, "b12_deficiency")["because"])
    assert card(on_ppi, "medicine_side_effect") is None, "PPIs are scored on the cards of what they lower"


def test_stiffness_as_the_main_complaint_points_to_inflammatory_stiffness_not_to_weakness():
    stiff = {**BASE, "age_band": "65_plus", "main_complaint": "stiffness", "pain_locations": ["shoulders", "hips"],
             "pain_sides": "both_sides", "pain_character": ["stiffness"], "morning_stiffness": "over_60_min",
             "time_pattern": "worse_morning", "exertion_response": "eases_with_movement", "onset": "over_days"}
    found = result(stiff)
    assert ranked(found)[0] == "polymyalgia_rheumatica"
    assert any("Stiffness bothers you most" in reason for reason in card(found, "polymyalgia_rheumatica")["because"])
    for weakness_led in ("inflammatory_myopathy", "myasthenia_gravis"):
        assert weakness_led not in ranked(found)[:3]
    as_pain = card(result({**stiff, "main_complaint": "pain"}), "polymyalgia_rheumatica")
    assert card(found, "polymyalgia_rheumatica")["score"] == as_pain["score"] + 2


def test_version_1_results_do_not_change():
    for story in (WEAK_HIPS, SORE_HEEL):
        found = result(story, version=1)
        assert "medicine_side_effect" not in ranked(found)
        assert not any("steroid" in r or "antibiotic" in r for c in found["conditions"]
                       for r in c["because"] + c["doesnt_fit"])
    assert "medicine_side_effect" not in {c.id for c in FLOWS[("muscle-pain", 1)].conditions}
