"""Clinical vignettes (tests/vignettes/*.json, the public set plus our own) through POST /api/v1/assess, on every
served version of the flow.

A case's `expect` holds for every version it runs on; `expect_v2` replaces some of those keys for version 2 (where
version 2 deliberately answers differently, e.g. a derived same-day flag; null drops a key); `versions` limits a case to some
versions (cases that use values only version 2 has). Keys: 'top3' = at least one of these ids among the first
three; 'not_top3' = none of these in the first three; 'urgency_at_least' / 'urgency_at_most' bound the urgency;
'lifestyle' = these lifestyle ids are present; 'red_flags' = these flag ids are raised; 'status' = the result's status.
"""
import json
from pathlib import Path

import pytest

URGENCY = ["routine", "soon", "same_day", "emergency"]
VERSIONS = (1, 2)
FILES = sorted((Path(__file__).parent / "vignettes").glob("*.json"))
CASES = [case for path in FILES for case in json.loads(path.read_text())["cases"]]
RUNS = [(case, version) for case in CASES for version in case.get("versions", VERSIONS)]


def expectation(case: dict, version: int) -> dict:
    return {**case["expect"], **case.get(f"expect_v{version}", {})}


def run_id(run) -> str:
    case, version = run
    return f"{case['id']}-v{version}"


@pytest.fixture(scope="module")
def assess(tmp_path_factory):
    from assistant import create_app
    url = f"sqlite:///{tmp_path_factory.mktemp('vignettes') / 'v.sqlite3'}"
    client = create_app({"TESTING": True, "DATABASE_URL": url}).test_client()

    def run(answers, version=2):
        response = client.post("/api/v1/assess", json={"flow": "muscle-pain", "version": version, "answers": answers})
        assert response.status_code == 200, response.get_json()
        return response.get_json()
    return run


def test_there_are_enough_vignettes():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), "vignette ids must be unique"
    assert len(CASES) >= 12 + 25


@pytest.mark.parametrize("run", RUNS, ids=run_id)
def test_vignette(assess, run):
    case, version = run
    result = assess(case["answers"], version)
    expect = {k: v for k, v in expectation(case, version).items() if v is not None}  # null: no longer expected
    ranked = [c["id"] for c in result["conditions"]]
    if "top3" in expect:
        assert set(expect["top3"]) & set(ranked[:3]), f"{case['story']}\nnone of {expect['top3']} in {ranked[:3]}"
    if "not_top3" in expect:
        assert not set(expect["not_top3"]) & set(ranked[:3]), f"{case['story']}\n{ranked[:3]}"
    level = URGENCY.index(result["urgency"])
    flags = [f["id"] for f in result["red_flags"]]
    if "urgency_at_least" in expect:
        assert level >= URGENCY.index(expect["urgency_at_least"]), (result["urgency"], flags)
    if "urgency_at_most" in expect:
        assert level <= URGENCY.index(expect["urgency_at_most"]), (result["urgency"], flags)
    assert set(expect.get("red_flags", [])) <= set(flags), flags
    if "status" in expect:
        assert result["status"] == expect["status"]
    lifestyle = [item["id"] for item in result["lifestyle"]]
    assert set(expect.get("lifestyle", [])) <= set(lifestyle), lifestyle
    for condition in result["conditions"][:3]:
        assert condition["because"] and condition["sources"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_version_1_escalates_only_on_a_red_flag(assess, case):
    """Version 1's rule (kept for conversations started on it): only a ticked sign goes above `soon`."""
    answers = case["answers"]
    no_flags = answers.get("red_flags") == ["none"]
    eyes = "eyelids_or_double_vision" in answers.get("weakness_pattern", [])
    if no_flags and not eyes and 1 in case.get("versions", VERSIONS):
        assert assess(answers, 1)["urgency"] in ("routine", "soon")


def test_every_condition_is_expected_somewhere():
    from assistant.config import PROJECT_ROOT
    from assistant.content.flows import load_flow
    flow = load_flow(PROJECT_ROOT / "flows" / "muscle-pain.yaml")
    expected = {i for c in CASES for i in c["expect"].get("top3", [])}
    assert {card.id for card in flow.conditions} <= expected


def test_every_red_flag_value_is_exercised():
    from assistant.config import PROJECT_ROOT
    from assistant.content.flows import load_flow
    flow = load_flow(PROJECT_ROOT / "flows" / "muscle-pain-v2.yaml")
    values = {v for c in CASES for v in c["answers"].get("red_flags", [])}
    assert values >= set(flow.question("red_flags").values) - {"none"}


@pytest.mark.parametrize("case", CASES[:12], ids=lambda c: c["id"])
def test_same_answers_same_result(assess, case):
    first = assess(case["answers"])
    assert assess(dict(reversed(list(case["answers"].items())))) == first


@pytest.mark.parametrize("run", RUNS, ids=run_id)
def test_result_shape_holds(assess, run):
    case, version = run
    result = assess(case["answers"], version)
    assert result["disclaimer"]
    linked = {f["condition"] for f in result["red_flags"] if f["urgency"] in ("same_day", "emergency")}
    # conditions an urgent flag points to lead the list; the rest are ranked by score
    rest = [c for c in result["conditions"] if c["id"] not in linked]
    scores = [c["score"] for c in rest]
    assert scores == sorted(scores, reverse=True)
    assert [c["id"] for c in result["conditions"][:len(result["conditions"]) - len(rest)]] == \
           [c["id"] for c in result["conditions"] if c["id"] in linked]
    assert all(0 <= c["fit"] <= 1 for c in result["conditions"])
    if result["urgency"] == "emergency" or result["status"] == "stopped_not_adult":
        assert result["conditions"] == [] and result["lifestyle"] == []


def test_the_danger_and_calm_sets_keep_their_promise():
    """danger.json: cases a triage tool must never send home (at least same day); calm.json: cases it must never
    escalate (at most soon). Both are read by the tests above like every other file."""
    sets = {path.stem: json.loads(path.read_text())["cases"] for path in FILES if path.stem in ("danger", "calm")}
    assert len(sets.get("danger", [])) >= 12 and len(sets.get("calm", [])) >= 10
    for case in sets["danger"]:
        assert URGENCY.index(case["expect"]["urgency_at_least"]) >= URGENCY.index("same_day"), case["id"]
    for case in sets["calm"]:
        assert URGENCY.index(case["expect"]["urgency_at_most"]) <= URGENCY.index("soon"), case["id"]
    assert all(case in CASES for cases in sets.values() for case in cases)
