"""A conversation goes out as the service builds it (api.conversation_out), without a marshmallow dump on every turn:
that is only right while the dump would change nothing. Checked on random walks through every served flow version,
with rewinds, retries and whatever end a walk reaches, and on a whole conversation to its result."""
from __future__ import annotations

import random

import pytest

from assistant.web.schemas import ConversationOut

from .conftest import WIDESPREAD_PAIN

DUMP = ConversationOut()


def pick(question: dict, rng: random.Random):
    values = [o["value"] for o in question["options"]]
    if question["type"] == "choice":
        return rng.choice(values)
    return rng.sample(values, rng.randint(1, min(3, len(values))))


def sent(response) -> dict:
    body = response.get_json()
    assert DUMP.dump(body) == body, "the schema's dump would change what the API sent"
    return body


def served_versions(client) -> list[tuple[str, int]]:
    versions = []
    for flow in client.get("/api/v1/flows").get_json():
        versions.append((flow["id"], flow["version"]))
    return versions


@pytest.mark.parametrize("seed", range(3))
def test_what_the_api_sends_is_what_the_schema_would_dump(client, seed):
    rng = random.Random(seed)
    for flow_id, version in served_versions(client):
        for _ in range(12):
            created = client.post("/api/v1/conversations", json={"flow": flow_id, "version": version})
            if created.status_code == 422:
                break  # a flow that only follows another conversation (its own tests start it from there)
            assert created.status_code == 201
            conversation = sent(created)
            for _ in range(60):
                if conversation["status"] != "active":
                    break
                question = conversation["question"]
                path = f"/api/v1/conversations/{conversation['id']}"
                body = {"question_id": question["id"], "value": pick(question, rng), "step": conversation["step"]}
                response = client.post(path + "/answers", json=body)
                if response.status_code == 422:  # e.g. "none" with something else: a single value instead
                    body["value"] = [question["options"][0]["value"]] if question["type"] == "multi" \
                        else question["options"][0]["value"]
                    response = client.post(path + "/answers", json=body)
                assert response.status_code == 200, response.get_json()
                conversation = sent(response)
                assert sent(client.post(path + "/answers", json=body)) == conversation  # a retry
                if conversation["answers"] and rng.random() < 0.1:
                    back = rng.choice(sorted(conversation["answers"]))
                    conversation = sent(client.post(path + "/rewind", json={"question_id": back}))
            assert sent(client.get(f"/api/v1/conversations/{conversation['id']}")) == conversation


def test_a_whole_conversation_to_its_result_goes_out_as_the_schema_would_dump_it(client):
    created = client.post("/api/v1/conversations", json={"flow": "muscle-pain"})
    conversation = sent(created)
    while conversation["status"] == "active":
        question = conversation["question"]["id"]
        conversation = sent(client.post(f"/api/v1/conversations/{conversation['id']}/answers", json={
            "question_id": question, "value": WIDESPREAD_PAIN[question], "step": conversation["step"]}))
    assert conversation["status"] == "finished"
