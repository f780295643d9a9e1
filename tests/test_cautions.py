"""Cautions that are true (flows/CONTENT_FORMAT.md, "Cautions"): a caution that says what the person told us ("You
said ...", "You take ...") carries `only_when` and is shown only to people for whom it holds; a general one is worded
"If you ..." and shown to everyone who gets the card, first when `first_when` holds. Checked on every flow version:
the wording rule by the loader (so `flask flows check` reports it), and the showing through the real result, with
vignette answers."""
import json
from typing import Any

import pytest

from assistant.config import PROJECT_ROOT
from assistant.content.flows import AnswerError, Caution, Criterion, Flow, FlowError, load_flows, personal_claim
from assistant.engine.machine import FlowEngine
from assistant.engine.results import assess

from .conftest import WIDESPREAD_PAIN, Talk
from .test_cli import cli, flows_copy  # noqa: F401  (fixtures: the flows check on a copy)
from .test_flows import edit

FLOWS = load_flows(PROJECT_ROOT / "flows")
VERSIONS = sorted(version for flow_id, version in FLOWS if flow_id == "muscle-pain")
ENGINES = {version: FlowEngine(FLOWS[("muscle-pain", version)]) for version in VERSIONS}

BASE = {"age_band": "50_64", "sex": "female", "red_flags": ["none"], "duration": "6_weeks_to_3_months",
        "onset": "gradual", "morning_stiffness": "under_30_min", "time_pattern": "constant",
        "exertion_response": "no_change", "triggers": ["none"], "associated": ["none"], "exposures": ["none"],
        "history": ["none"]}
# People a card is picked for: each base story reaches some cards; the tests look for one that reaches the card.
STORIES = {
    "widespread pain": WIDESPREAD_PAIN,
    "aching thighs on a statin": {**BASE, "age_band": "65_plus", "main_complaint": "pain_and_weakness",
                                  "weakness_pattern": ["stairs_or_rising"], "pain_locations": ["thighs", "shoulders"],
                                  "pain_sides": "both_sides", "pain_character": ["deep_ache"],
                                  "exposures": ["statin"], "onset": "over_days"},
    "cramps on water tablets": {**BASE, "main_complaint": "pain", "pain_locations": ["calves"],
                                "pain_sides": "both_sides", "pain_character": ["cramping"],
                                "associated": ["cramps_twitches"], "exposures": ["diuretic_or_laxative"]},
    "dizzy on standing": {**BASE, "age_band": "18_39", "main_complaint": "pain", "pain_locations": ["neck", "shoulders"],
                          "pain_sides": "both_sides", "pain_character": ["deep_ache"], "triggers": ["standing_up"],
                          "associated": ["palpitations", "brain_fog"], "exertion_response": "crash_next_day"},
    "damp flat": {**BASE, "main_complaint": "pain", "pain_locations": ["everywhere"], "pain_sides": "both_sides",
                  "pain_character": ["deep_ache"], "exposures": ["water_damage_mold"], "associated": ["brain_fog"]},
    "shaky between meals": {**BASE, "age_band": "18_39", "main_complaint": "pain", "pain_locations": ["everywhere"],
                            "pain_sides": "both_sides", "pain_character": ["deep_ache"],
                            "associated": ["shaky_between_meals", "low_mood_anxiety", "unrefreshing_sleep"]},
    "stiff shoulders at 70": {**BASE, "age_band": "65_plus", "main_complaint": "stiffness",
                              "pain_locations": ["shoulders", "hips"], "pain_sides": "both_sides",
                              "pain_character": ["stiffness"], "morning_stiffness": "over_60_min",
                              "onset": "over_days", "associated": ["joint_swelling"]},
}


def answers(story: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    return {q: tuple(v) if isinstance(v, list) else (v,) for q, v in story.items()}


def result(story: dict[str, Any], version: int) -> dict[str, Any]:
    return assess(ENGINES[version], answers(story))


def card_in(found: dict[str, Any], card_id: str) -> dict[str, Any] | None:
    return next((c for c in found["lifestyle"] if c["id"] == card_id), None)


def shown_cautions(found: dict[str, Any]) -> list[str]:
    return [text for card in found["lifestyle"] for text in card["cautions"]]


def cautions_for_you(found: dict[str, Any], card_id: str) -> list[str]:
    card = card_in(found, card_id)
    return card["cautions"][:card["cautions_for_you"]] if card else []


def flow(version: int) -> Flow:
    return FLOWS[("muscle-pain", version)]


# --- the wording rule ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "You said you crash a day or two after effort.", "You take a blood thinner. Omega-3 adds to bleeding.",
    "You mentioned kidney disease.", "Rest more. You feel lightheaded on standing.", "As you are pregnant, ask first.",
    "Because you take a statin, ask your pharmacist.", "With the statin you are taking, avoid grapefruit.",
    "You reported very dark urine.", "You get wheezy, so ask someone else to clean.",
])
def test_a_claim_about_the_person_is_recognised(text):
    assert personal_claim(text)


@pytest.mark.parametrize("text", [
    "If you take a blood thinner, omega-3 can add to bleeding.", "If you are taking a statin, ask first.",
    "Stop if you feel dizzy.", "You may not feel a burn.", "You can also call a crisis line.",
    "Do you have kidney disease? Then ask first.", "Rest before you feel worn out.",
    "Some soreness the next day is normal when you start.", "Ask so you do not run short.",
])
def test_a_general_caution_is_not_taken_for_a_claim(text):
    assert personal_claim(text) is None


@pytest.mark.parametrize("version", VERSIONS)
def test_every_caution_that_speaks_of_the_person_is_shown_only_when_it_holds(version):
    personal = [(card.id, c) for card in flow(version).lifestyle for c in card.cautions if personal_claim(c.text)]
    assert personal, "no personal caution at all: the rule would be checking nothing"
    assert [(card_id, c.text) for card_id, c in personal if not c.only_when] == []




GENERAL = '    - text: "Never sleep on a heat pad, and do not use heat on broken skin."\n'
CLAIMED = '    - text: "You said you use a heat pad. Never sleep on it."\n'


def test_the_check_rejects_a_claim_without_only_when(cli, flows_copy):
    edit(flows_copy / "muscle-pain" / "lifestyle.yaml", GENERAL, CLAIMED)
    with pytest.raises(FlowError, match=r"lifestyle\[heat_cold\]\.cautions\[7\]: 'You said' says what the person"):
        load_flows(flows_copy)
    checked = cli.invoke(args=["flows", "check", "--dir", str(flows_copy)])
    assert checked.exit_code == 1
    assert "'You said' says what the person told us: give it only_when" in checked.output


def test_the_same_claim_with_only_when_passes(cli, flows_copy):
    edit(flows_copy / "muscle-pain" / "lifestyle.yaml", GENERAL,
         CLAIMED + "      only_when: {question: triggers, anyOf: [heat]}\n")
    loaded = load_flows(flows_copy)
    assert any(c.only_when for c in loaded[("muscle-pain", 1)].lifestyle[6].cautions if "heat pad" in c.text)
    checked = cli.invoke(args=["flows", "check", "--dir", str(flows_copy)])
    assert "says what the person told us" not in checked.output  # (the new text still wants its translations)


def test_only_when_names_real_answers_and_is_not_mixed_with_first_when(flows_copy):
    path = flows_copy / "muscle-pain" / "lifestyle.yaml"
    edit(path, GENERAL, CLAIMED + "      only_when: {question: triggers, anyOf: [sauna]}\n")
    with pytest.raises(FlowError, match=r"cautions\[7\]\.only_when: unknown value\(s\) sauna"):
        load_flows(flows_copy)
    edit(path, "anyOf: [sauna]}\n", "anyOf: [heat]}\n      first_when: {question: triggers, anyOf: [heat]}\n")
    with pytest.raises(FlowError, match="first_when .* or only_when .* not both"):
        load_flows(flows_copy)


def test_a_caution_is_shown_by_its_own_rule():
    crash = (Criterion("exertion_response", any_of=("crash_next_day",)),)
    personal, general = Caution("You said you crash.", only_when=crash), Caution("If you crash, rest.", first_when=crash)
    crashing, steady = {"exertion_response": ("crash_next_day",)}, {"exertion_response": ("no_change",)}
    assert personal.shown(crashing) and personal.for_you(crashing)
    assert not personal.shown(steady) and not personal.shown({})
    assert general.shown(steady) and general.for_you(crashing) and not general.for_you(steady)


# --- shown when it holds, absent when not: through the real result -------------------------------------------------

def _holding(criteria, flow_: Flow) -> dict[str, list[str]]:
    """Answers that make every criterion hold."""
    made = {}
    for c in criteria:
        question = flow_.question(c.question)
        values = list(c.any_of[:1] or c.of[:c.at_least] or [v for v in question.values if v not in c.none_of][:1])
        made[c.question] = values if question.type == "multi" else values[0]
    return made


def _not_holding(criteria, flow_: Flow) -> dict[str, list[str]]:
    """Answers that make the criteria fail (another answer to the same questions)."""
    made = {}
    for c in criteria:
        question = flow_.question(c.question)
        other = [v for v in question.values if v not in c.values and v != "not_sure"]
        value = "none" if "none" in other else other[0]
        made[c.question] = [value] if question.type == "multi" else value
    return made


def _personal_cautions(version: int):
    return [(card.id, caution) for card in flow(version).lifestyle for caution in card.cautions if caution.only_when]


def _with(story: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    merged = dict(story)
    for question, value in change.items():
        if isinstance(value, list) and isinstance(merged.get(question), list) and value != ["none"]:
            merged[question] = sorted(set(merged[question]) - {"none"} | set(value))
        else:
            merged[question] = value
    return merged


@pytest.mark.parametrize("version", VERSIONS)
def test_each_personal_caution_is_shown_when_it_holds_and_absent_when_not(version):
    checked = []
    for card_id, caution in _personal_cautions(version):
        for name, story in STORIES.items():
            holding = _with(story, _holding(caution.only_when, flow(version)))
            if not {c.question for c in caution.only_when} <= set(ENGINES[version].walk(answers(holding)).visited):
                continue  # the flow does not ask this story those questions
            holds = result(holding, version)
            fails = result(_with(story, _not_holding(caution.only_when, flow(version))), version)
            if card_in(holds, card_id) and card_in(fails, card_id):
                assert caution.text in cautions_for_you(holds, card_id), (card_id, name, caution.text)
                assert caution.text not in shown_cautions(fails), (card_id, name, caution.text)
                checked.append(caution.text)
                break
    missed = {c.text for _, c in _personal_cautions(version)} - set(checked)
    assert not missed, f"no story reaches the card of these cautions (add one to STORIES): {missed}"


def _vignettes():
    for path in sorted((PROJECT_ROOT / "tests" / "vignettes").glob("*.json")):
        for case in json.loads(path.read_text())["cases"]:
            for version in case.get("versions", VERSIONS):
                yield pytest.param(case["answers"], version, id=f"{path.stem}-{case['id']}-v{version}")


@pytest.mark.parametrize("story, version", list(_vignettes()))
def test_no_vignette_is_told_something_it_did_not_say(story, version):
    try:
        found = result(story, version)
    except AnswerError:
        pytest.fail("a vignette's answers do not fit its flow version")
    given = answers(story)
    for card in flow(version).lifestyle:
        shown = card_in(found, card.id)
        for caution in card.cautions:
            if not shown:
                continue
            if caution.only_when:
                assert (caution.text in shown["cautions"]) == caution.shown(given), caution.text
            else:
                assert caution.text in shown["cautions"], f"a general caution went missing: {caution.text}"


# --- the cautions added for kidney disease, heart failure, myasthenia and statins ----------------------------------

KIDNEYS_AND_WATER_TABLETS = _with(STORIES["cramps on water tablets"], {"history": ["kidney_disease"]})
FLUID_LIMIT = "If a doctor has set you a daily fluid limit"
POTASSIUM_FOOD = "ask your kidney team before you eat more foods high in potassium"
MYASTHENIA = "If you have myasthenia gravis, do not take magnesium"
STATIN_PARTNERS = "grapefruit juice can raise the level of some statins"


def _first(found: dict[str, Any], card_id: str, words: str) -> bool:
    return any(words in text for text in cautions_for_you(found, card_id))


def _anywhere(found: dict[str, Any], words: str) -> bool:
    return any(words in text for text in shown_cautions(found))


@pytest.mark.parametrize("version", VERSIONS)
def test_kidney_disease_puts_the_potassium_food_and_fluid_limit_cautions_first(version):
    found = result(KIDNEYS_AND_WATER_TABLETS, version)
    assert _first(found, "magnesium_electrolytes", POTASSIUM_FOOD)
    assert _first(found, "hydration", FLUID_LIMIT)
    without = result(STORIES["cramps on water tablets"], version)
    assert _anywhere(without, POTASSIUM_FOOD) and not _first(without, "magnesium_electrolytes", POTASSIUM_FOOD), \
        "a general caution is shown to everyone, but not marked as theirs"


def test_heart_failure_puts_the_fluid_limit_first_on_version_2():
    found = result(_with(STORIES["dizzy on standing"], {"history": ["heart_failure"]}), 2)
    assert _first(found, "hydration", FLUID_LIMIT)
    assert _anywhere(result(STORIES["dizzy on standing"], 1), FLUID_LIMIT)
    assert not _first(result(STORIES["dizzy on standing"], 2), "hydration", FLUID_LIMIT)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_magnesium_card_warns_about_myasthenia(version):
    assert _anywhere(result(STORIES["cramps on water tablets"], version), MYASTHENIA)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_statin_user_hears_about_grapefruit_and_interacting_medicines_and_others_do_not(version):
    on_statin = result(STORIES["aching thighs on a statin"], version)
    assert _first(on_statin, "supplements", STATIN_PARTNERS)
    no_statin = result(_with(STORIES["aching thighs on a statin"], {"exposures": ["none"]}), version)
    assert card_in(no_statin, "supplements") or card_in(no_statin, "gentle_movement"), "the story lost its cards"
    assert not _anywhere(no_statin, STATIN_PARTNERS) and not _anywhere(no_statin, "You said you take a statin")


@pytest.mark.parametrize("version", VERSIONS)
def test_the_symptom_diary_is_offered_with_its_conditions(version):
    diary = next(c for c in flow(version).lifestyle if c.id == "symptom_diary")
    assert ("medicine_side_effect" in diary.for_conditions) == (version >= 2)


def test_a_calm_person_is_not_told_what_they_did_not_say_on_the_result_page(client):
    talk = Talk(client).through(WIDESPREAD_PAIN)
    page = client.get(f"/api/v1/conversations/{talk.id}/result").get_json()
    assert page["lifestyle"], "no lifestyle cards: nothing was checked"
    assert not [t for t in shown_cautions(page) if personal_claim(t)]
    crashing = Talk(client).through({**WIDESPREAD_PAIN, "exertion_response": "crash_next_day"})
    assert any(t.startswith("You said you crash") for t in shown_cautions(crashing.result()))
