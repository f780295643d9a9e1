"""The daily check-in is a second flow, loaded, checked and run like the first: its warning signs and their urgency
are the intake's own, its lifestyle options are the intake's lifestyle areas, and it stops at an emergency."""
import shutil

import pytest

from assistant import create_app
from assistant.config import PROJECT_ROOT
from assistant.content.flows import FlowError, load_flows
from assistant.engine import triage
from assistant.engine.machine import FINISHED, STOPPED, Engines

from .test_flows import edit

FLOWS = load_flows(PROJECT_ROOT / "flows")
DAILY = FLOWS[("daily-check", 1)]
INTAKE = max((flow for (flow_id, _), flow in FLOWS.items() if flow_id == "muscle-pain"), key=lambda f: f.version)
CALM = {"red_flags": ("none",), "pain": ("6",), "sleep": ("4",), "energy": ("3",), "interference": ("5",),
        "tried": ("pacing", "sleep_quality")}


@pytest.fixture(scope="module")
def engine():
    return Engines(FLOWS).get("daily-check")


@pytest.fixture
def flow_copy(tmp_path):
    target = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", target)
    return target


def test_it_follows_the_newest_intake_and_borrows_its_warning_signs_and_lifestyle_areas():
    assert DAILY.follows == "muscle-pain"
    signs = DAILY.question("red_flags")
    assert (signs.text, signs.options) == (INTAKE.question("red_flags").text, INTAKE.question("red_flags").options)
    assert DAILY.question("tried").values == tuple(card.id for card in INTAKE.lifestyle) + ("none",)
    assert DAILY.question("tried").label("pacing") == next(c.title for c in INTAKE.lifestyle if c.id == "pacing")
    assert DAILY.levels == INTAKE.levels
    assert DAILY.scores == ("pain", "sleep", "energy", "interference")
    assert {q.id for q in DAILY.context} == {"age_band", "exposures", "triggers", "weakness_pattern"}


@pytest.mark.parametrize("sign", [v for v in INTAKE.question("red_flags").values if v != "none"])
@pytest.mark.parametrize("age", ["18_39", "65_plus"])
def test_every_warning_sign_has_the_urgency_and_words_it_has_in_the_intake(sign, age):
    answers = {"age_band": (age,), "red_flags": (sign,)}
    daily, intake = triage.raised_flags(DAILY, answers), triage.raised_flags(INTAKE, answers)
    assert triage.urgency(daily) == triage.urgency(intake)
    assert [(f.id, f.text) for f in daily] == [(f.id, f.text) for f in intake]


def test_a_calm_day_goes_through_every_question_to_the_end(engine):
    walk = engine.walk(CALM)
    assert walk.visited == ("red_flags", "pain", "sleep", "energy", "interference", "tried")
    assert walk.end == FINISHED
    assert DAILY.score("pain", CALM["pain"]) == 6 and DAILY.score("tried", CALM["tried"]) is None


def test_chest_pain_stops_the_check_in_at_once(engine):
    assert engine.next_state("red_flags", {"red_flags": ("chest_pain",)}) == STOPPED
    assert engine.walk({**CALM, "red_flags": ("chest_pain", "fainting")}).visited == ("red_flags",)


def test_a_new_headache_is_an_emergency_at_65_as_the_intake_said_and_same_day_at_30(engine):
    """The age comes from the intake (context): the check-in never asks it again."""
    headache = {"red_flags": ("new_headache_jaw_vision",)}
    assert engine.next_state("red_flags", {**headache, "age_band": ("65_plus",)}) == STOPPED
    assert engine.next_state("red_flags", {**headache, "age_band": ("18_39",)}) == "pain"
    on_path = engine.path_answers("pain", {**headache, "age_band": ("18_39",)})
    assert triage.urgency(triage.raised_flags(DAILY, on_path)) == "same_day"


def test_flags_derived_from_other_intake_answers_stay_with_the_intake():
    derived = [f.id for f in INTAKE.red_flags if f.derived]
    assert derived and not {f.id for f in DAILY.red_flags} & set(derived)


def test_one_machine_per_flow_version_built_once():
    engines = Engines(FLOWS)
    assert engines.get("daily-check") is engines.get("daily-check", 1)
    assert engines.get("daily-check").machine is engines.get("daily-check").machine
    assert engines.get("daily-check").machine is not engines.get("muscle-pain").machine


def test_borrowing_needs_a_followed_flow(flow_copy):
    edit(flow_copy / "daily-check.yaml", "follows:\n  flow: muscle-pain\n  red_flags: true\n", "")
    with pytest.raises(FlowError, match=r"questions\[red_flags\]\.answerOptionFrom: only a flow that `follows`"):
        load_flows(flow_copy)


def test_an_unknown_followed_flow_or_lent_question_is_named(flow_copy):
    edit(flow_copy / "daily-check.yaml", "answerOptionFrom: red_flags", "answerOptionFrom: red_flag")
    with pytest.raises(FlowError, match=r"flow 'muscle-pain' has no question 'red_flag'"):
        load_flows(flow_copy)
    edit(flow_copy / "daily-check.yaml", "  flow: muscle-pain", "  flow: muscle-ache")
    with pytest.raises(FlowError, match=r"follows.flow: no flow called 'muscle-ache'"):
        load_flows(flow_copy)


def test_a_score_must_be_a_number_question(flow_copy):
    edit(flow_copy / "daily-check.yaml", "scores: [pain,", "scores: [tried, pain,")
    with pytest.raises(FlowError, match=r"scores: 'tried' is not a question of this flow answered with a number"):
        load_flows(flow_copy)


def test_flows_check_and_diagram_take_the_daily_check(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"})
    cli = app.test_cli_runner()
    assert cli.invoke(args=["flows", "check"]).exit_code == 0
    diagram = cli.invoke(args=["flows", "diagram", "daily-check"]).output
    assert "red_flags -.->|emergency red flag| stopped_emergency" in diagram
    assert "interference --> tried" in diagram and "tried --> finished" in diagram


def test_flows_check_finds_a_contract_value_the_daily_check_lost(tmp_path, flow_copy):
    edit(flow_copy / "daily-check.yaml", '      - {value: "10", label: "10 – worst pain you can imagine"}\n', "")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"})
    result = app.test_cli_runner().invoke(args=["flows", "check", "--dir", str(flow_copy)])
    assert result.exit_code == 1 and "daily-check v1: question 'pain' lacks value(s) 10" in result.output
