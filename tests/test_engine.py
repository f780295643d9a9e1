"""The state machine: branches taken and skipped, emergency stops, one Machine per flow version."""
import pytest
import transitions

from assistant.config import PROJECT_ROOT
from assistant.engine.machine import FINISHED, STOPPED, FlowEngine
from assistant.content.flows import as_values, load_flow

from .conftest import WIDESPREAD_PAIN


@pytest.fixture(scope="module")
def engine():
    return FlowEngine(load_flow(PROJECT_ROOT / "flows" / "muscle-pain.yaml"))


def answers(**raw):
    return {k: as_values(v) for k, v in raw.items()}


def test_pain_skips_weakness_questions(engine):
    walk = engine.walk(answers(**WIDESPREAD_PAIN))
    assert walk.end == FINISHED
    assert "weakness_pattern" not in walk.visited
    assert {"pain_locations", "pain_sides", "pain_character"} <= set(walk.visited)


def test_weakness_skips_pain_questions(engine):
    state = engine.next_state("main_complaint", answers(main_complaint="weakness"))
    assert state == "weakness_pattern"
    assert engine.next_state("weakness_pattern", answers(main_complaint="weakness")) == "duration"


def test_pain_and_weakness_asks_both(engine):
    walk = engine.walk(answers(**{**WIDESPREAD_PAIN, "main_complaint": "pain_and_weakness"}))
    assert {"weakness_pattern", "pain_locations"} <= set(walk.visited)


def test_exhaustion_skips_pain_questions_but_asks_about_effort(engine):
    walk = engine.walk(answers(**{**WIDESPREAD_PAIN, "main_complaint": "exhaustion"}))
    assert not {"pain_locations", "pain_sides", "pain_character", "weakness_pattern"} & set(walk.visited)
    assert "exertion_response" in walk.visited


@pytest.mark.parametrize("flag", ["chest_pain", "breathing_difficulty", "face_throat_swelling", "sudden_weakness",
                                  "self_harm_thoughts"])
def test_emergency_flag_stops_at_once(engine, flag):
    assert engine.next_state("red_flags", answers(age_band="18_39", red_flags=[flag])) == STOPPED


def test_headache_jaw_vision_stops_only_from_fifty(engine):
    young = answers(age_band="40_49", red_flags=["new_headache_jaw_vision"])
    older = answers(age_band="65_plus", red_flags=["new_headache_jaw_vision"])
    assert engine.next_state("red_flags", young) == "sex"
    assert engine.next_state("red_flags", older) == STOPPED


def test_same_day_flag_does_not_stop(engine):
    assert engine.next_state("red_flags", answers(age_band="40_49", red_flags=["dark_urine"])) == "sex"


def test_model_is_always_detached(engine):
    before = len(engine.machine.models)
    for _ in range(3):
        engine.next_state("age_band", answers(age_band="18_39"))
    assert len(engine.machine.models) == before


def test_no_machine_is_built_per_turn(engine, monkeypatch):
    built = []
    original = transitions.Machine.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(transitions.Machine, "__init__", counting)
    engine.walk(answers(**WIDESPREAD_PAIN))
    assert built == []


def test_walk_ignores_questions_the_flow_would_not_ask(engine):
    walk = engine.walk(answers(**{**WIDESPREAD_PAIN, "weakness_pattern": ["grip_or_hands"]}))
    assert "weakness_pattern" not in walk.visited


def test_edges_describe_branches(engine):
    labels = {(s, d): label for s, d, label in engine.edges()}
    assert "main_complaint is weakness or pain_and_weakness" in labels[("main_complaint", "weakness_pattern")]
    assert ("red_flags", STOPPED) in labels
