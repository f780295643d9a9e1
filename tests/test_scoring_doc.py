"""docs/scoring.md's worked example must match what the API computes."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_worked_example_matches_the_api(client):
    doc = (ROOT / "docs" / "scoring.md").read_text()
    stated = {card: float(score) for card, score in re.findall(r"\| `(\w+)` \|[^\n]*\| = (-?\d+) \|", doc)}
    assert set(stated) == {"polymyalgia_rheumatica", "rheumatoid_arthritis", "fibromyalgia"}
    case = next(c for c in json.loads((ROOT / "tests" / "vignettes" / "public.json").read_text())["cases"]
                if c["id"].startswith("P02"))
    result = client.post("/api/v1/assess", json={"answers": case["answers"]}).get_json()
    scores = {c["id"]: c["score"] for c in result["conditions"]}
    for card, score in stated.items():
        assert scores.get(card, 0.0) == score if score > 0 else card not in scores, card
    assert result["conditions"][0]["id"] == "polymyalgia_rheumatica"
