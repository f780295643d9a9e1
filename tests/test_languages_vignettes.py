"""A language never changes a result: every vignette (tests/vignettes/*.json) on every version it runs on, through
POST /api/v1/assess in English and in Spanish, gives the same conditions, lifestyle cards and red flags in the same
order with the same scores, the same urgency and status; only the words differ, and they are Spanish."""
import pytest

from .test_vignettes import RUNS, run_id


def ids(items: list[dict]) -> list[str]:
    return [item["id"] for item in items]


def outcome(result: dict) -> dict:
    """Everything in a result that is not words."""
    return {"status": result["status"], "urgency": result["urgency"],
            "conditions": [(c["id"], c["score"], c["fit"], c["lifestyle"]) for c in result["conditions"]],
            "lifestyle": ids(result["lifestyle"]), "red_flags": ids(result["red_flags"])}


@pytest.fixture(scope="module")
def assess(tmp_path_factory):
    from assistant import create_app
    url = f"sqlite:///{tmp_path_factory.mktemp('languages') / 'l.sqlite3'}"
    client = create_app({"TESTING": True, "DATABASE_URL": url}).test_client()

    def run(answers, version, language):
        response = client.post("/api/v1/assess", json={"flow": "muscle-pain", "version": version, "answers": answers},
                               headers={"Accept-Language": language})
        assert response.status_code == 200, response.get_json()
        assert response.headers["Content-Language"] == language
        return response.get_json()
    return run


@pytest.mark.parametrize("run", RUNS, ids=run_id)
def test_a_vignette_gives_the_same_result_in_english_and_spanish(assess, run):
    case, version = run
    english = assess(case["answers"], version, "en")
    spanish = assess(case["answers"], version, "es")
    assert outcome(spanish) == outcome(english), case["story"]
    assert spanish["language"] == "es" and english["language"] == "en"
    for theirs, ours in zip(spanish["conditions"], english["conditions"]):
        assert theirs["summary"] != ours["summary"]
        assert all(reason not in ours["because"] + ours["doesnt_fit"] for reason in theirs["because"] + theirs["doesnt_fit"])
        assert not any(" and " in reason for reason in theirs["because"])  # lists of answers joined in Spanish
    assert spanish["advice"]["title"] != english["advice"]["title"]
    for theirs, ours in zip(spanish["red_flags"], english["red_flags"]):
        assert theirs["text"] != ours["text"]
