"""`flask flows check` and `flask flows diagram` on the real flows and on deliberately broken copies."""
import shutil

import pytest

from assistant import create_app
from assistant.config import PROJECT_ROOT

from .test_flows import edit


@pytest.fixture
def flows_copy(tmp_path):
    target = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", target)
    return target


@pytest.fixture
def cli(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"})
    return app.test_cli_runner()


def test_check_passes_on_the_real_flows(cli):
    result = cli.invoke(args=["flows", "check"])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_check_fails_on_a_broken_file(cli, flows_copy):
    edit(flows_copy / "muscle-pain.yaml", "type: multi", "type: checkbox")
    result = cli.invoke(args=["flows", "check", "--dir", str(flows_copy)])
    assert result.exit_code == 1
    assert "questions[red_flags].type" in result.output


def test_check_fails_when_a_contract_value_is_missing(cli, flows_copy):
    edit(flows_copy / "muscle-pain.yaml", '      - {value: "prefer_not", label: "Prefer not to say"}\n', "")
    result = cli.invoke(args=["flows", "check", "--dir", str(flows_copy)])
    assert result.exit_code == 1
    assert "question 'sex' lacks value(s) prefer_not" in result.output


def test_check_fails_when_a_contract_question_is_missing(cli, flows_copy):
    path = flows_copy / "muscle-pain" / "contract.yaml"
    path.write_text(path.read_text().replace("questions:\n", "questions:\n  shoe_size: [small, large]\n", 1))
    result = cli.invoke(args=["flows", "check", "--dir", str(flows_copy)])
    assert result.exit_code == 1
    assert "question 'shoe_size' is missing" in result.output


def test_check_fails_when_a_rule_names_an_unknown_value(cli, flows_copy):
    edit(flows_copy / "muscle-pain.yaml", '      - {value: "moves_around", label: "It moves around"}\n', "")
    result = cli.invoke(args=["flows", "check", "--dir", str(flows_copy)])
    assert result.exit_code == 1
    assert "unknown value(s) moves_around for question 'pain_sides'" in result.output


def test_check_fails_when_a_state_is_unreachable(cli, flows_copy):
    edit(flows_copy / "muscle-pain.yaml", "{question: main_complaint, anyOf: [weakness, pain_and_weakness]}",
         "{question: main_complaint, noneOf: [pain, weakness, pain_and_weakness, exhaustion]}")
    result = cli.invoke(args=["flows", "check", "--dir", str(flows_copy)])
    assert result.exit_code == 1
    assert "state 'weakness_pattern' cannot be reached" in result.output


def test_check_fails_when_a_card_is_missing(cli, flows_copy):
    path = flows_copy / "muscle-pain" / "contract.yaml"
    path.write_text(path.read_text().replace("myasthenia_gravis]", "myasthenia_gravis, long_covid_extra]"))
    result = cli.invoke(args=["flows", "check", "--dir", str(flows_copy)])
    assert result.exit_code == 1
    assert "conditions card 'long_covid_extra' is missing" in result.output


def test_diagram_writes_mermaid(cli, tmp_path):
    target = tmp_path / "flow.mmd"
    result = cli.invoke(args=["flows", "diagram", "muscle-pain", "-o", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text()
    assert text.startswith("flowchart TD")
    assert "main_complaint -->|main_complaint is weakness or pain_and_weakness| weakness_pattern" in text
    assert "red_flags -.->|emergency red flag| stopped_emergency" in text


def test_diagram_of_unknown_flow_fails(cli):
    result = cli.invoke(args=["flows", "diagram", "back-pain"])
    assert result.exit_code != 0
    assert "no flow called 'back-pain'" in result.output
