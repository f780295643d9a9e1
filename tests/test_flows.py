"""Loading flow files: the real flow loads, and broken files fail with a message naming file, item and field."""
import shutil
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT
from assistant.content.flows import AnswerError, FlowError, load_flow, load_flows

FLOWS = PROJECT_ROOT / "flows"


@pytest.fixture
def flow_copy(tmp_path) -> Path:
    """A writable copy of flows/ to break on purpose."""
    target = tmp_path / "flows"
    shutil.copytree(FLOWS, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_real_flow_loads_with_every_contract_question():
    flow = load_flow(FLOWS / "muscle-pain.yaml")
    assert (flow.id, flow.version) == ("muscle-pain", 1)
    for question_id, values in flow.contract["questions"].items():
        assert set(values) <= set(flow.question(question_id).values), question_id


def test_ids_that_look_like_numbers_stay_strings():
    flow = load_flow(FLOWS / "muscle-pain.yaml")
    assert "50_64" in flow.question("age_band").values


def test_unknown_type_names_file_question_and_field(flow_copy):
    edit(flow_copy / "muscle-pain.yaml", "linkId: onset\n    type: choice", "linkId: onset\n    type: dropdown")
    with pytest.raises(FlowError) as err:
        load_flows(flow_copy)
    message = str(err.value)
    assert "muscle-pain.yaml" in message and "questions[onset].type" in message


def test_missing_text_is_named(flow_copy):
    edit(flow_copy / "muscle-pain.yaml", "    text: How did it start?\n", "")
    with pytest.raises(FlowError, match=r"questions\[onset\]\.text"):
        load_flows(flow_copy)


def test_enable_when_on_unknown_question_is_named(flow_copy):
    edit(flow_copy / "muscle-pain.yaml", "{question: main_complaint, anyOf: [weakness, pain_and_weakness]}",
         "{question: main_complaint_typo, anyOf: [weakness]}")
    with pytest.raises(FlowError, match=r"questions\[weakness_pattern\]\.enableWhen: unknown question"):
        load_flows(flow_copy)


def test_enable_when_on_unknown_value_is_named(flow_copy):
    edit(flow_copy / "muscle-pain.yaml", "anyOf: [weakness, pain_and_weakness]", "anyOf: [weakish]")
    with pytest.raises(FlowError, match="unknown value.*weakish"):
        load_flows(flow_copy)


def test_enable_when_must_look_back(flow_copy):
    edit(flow_copy / "muscle-pain.yaml", "anyOf: [weakness, pain_and_weakness]}",
         "anyOf: [weakness, pain_and_weakness]}\n      - {question: history, anyOf: [none]}")
    with pytest.raises(FlowError, match="'history' is not asked before 'weakness_pattern'"):
        load_flows(flow_copy)


def test_invalid_yaml_is_named(flow_copy):
    (flow_copy / "muscle-pain.yaml").write_text("id: [unclosed\n")
    with pytest.raises(FlowError, match="muscle-pain.yaml: not valid YAML"):
        load_flows(flow_copy)


def test_duplicate_version_is_refused(flow_copy):
    shutil.copy(flow_copy / "muscle-pain.yaml", flow_copy / "muscle-pain-copy.yaml")
    with pytest.raises(FlowError, match="defined twice"):
        load_flows(flow_copy)


@pytest.mark.parametrize("raw, message", [
    ("18_39", None),
    (["18_39"], "exactly one value"),
    ("eighteen", "unknown value"),
])
def test_choice_answers_are_cleaned(raw, message):
    question = load_flow(FLOWS / "muscle-pain.yaml").question("age_band")
    if message is None:
        assert question.clean(raw) == ("18_39",)
    else:
        with pytest.raises(AnswerError, match=message):
            question.clean(raw)


@pytest.mark.parametrize("raw, message", [
    (["neck", "neck", "hips"], None),
    ([], "non-empty list"),
    ([1, 2], "non-empty list"),
    (["neck", "knees"], "unknown value.*knees"),
])
def test_multi_answers_are_cleaned(raw, message):
    question = load_flow(FLOWS / "muscle-pain.yaml").question("pain_locations")
    if message is None:
        assert question.clean(raw) == ("neck", "hips")
    else:
        with pytest.raises(AnswerError, match=message):
            question.clean(raw)


def test_none_is_exclusive():
    question = load_flow(FLOWS / "muscle-pain.yaml").question("red_flags")
    with pytest.raises(AnswerError, match="cannot be combined"):
        question.clean(["none", "chest_pain"])
