"""The soak's simulated phone (a locust user), run by bench/soak.py; not a benchmark on its own.

Each user has its own 127.x source address (so the per-client rate limits hold, as for real phones) and holds whole
conversations over the JSON API, a few seconds between answers, as a person would. It logs every answer the server
accepted (a 200 to POST .../answers) to SOAK_LOG, one JSON line each, as soon as it sees it. When an answer meets a
503, a 502, a reset connection or a timeout, it waits and sends the same answer again for the same step, as the
phone app does; an identical retry is idempotent, so an answer the server stored but never confirmed is confirmed
then. At the end each process writes its status counts to SOAK_LOG as well.
"""
from __future__ import annotations

import itertools
import json
import os
import random
import time
from collections import Counter

import requests
from locust import HttpUser, between, events, task
from requests.adapters import HTTPAdapter

LOG = open(os.environ.get("SOAK_LOG", "soak-accepted.jsonl"), "a", buffering=1)
STATUSES: Counter[str] = Counter()
ADDRESSES = itertools.count()
RETRY_SECONDS = 1.0
MAX_ATTEMPTS = 120          # two minutes of retries for one answer, far longer than any outage in the run
TIMEOUT = 30


class SourceAddress(HTTPAdapter):
    """Connections from one 127.x address of the loopback network."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def pick(question: dict) -> str | list[str]:
    """An answer a person could give; no red flag and no under-18, so most conversations run to the end."""
    values = [option["value"] for option in question["options"]]
    if question["type"] == "choice":
        return random.choice([v for v in values if v != "under_18"] or values)
    if question["id"] == "red_flags" or (random.random() < 0.3 and "none" in values):
        return ["none"]
    return random.sample([v for v in values if v != "none"], k=min(2, len(values) - 1)) or ["none"]


class Phone(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        n = next(ADDRESSES)
        self.client.mount("http://", SourceAddress(f"127.0.{n // 250 + 1}.{n % 250 + 1}"))

    def send(self, method: str, path: str, name: str, body: dict | None = None) -> requests.Response | None:
        """One request; None when the connection broke or timed out (a worker killed, the server overloaded)."""
        try:
            with self.client.request(method, path, json=body, name=name, timeout=TIMEOUT,
                                     catch_response=True) as response:
                if not response.status_code:  # locust's way of saying the connection broke or timed out
                    STATUSES[type(response.error).__name__] += 1
                    response.failure(response.error)
                    return None
                STATUSES[str(response.status_code)] += 1
                if response.status_code in (200, 201, 204):
                    response.success()
                else:
                    response.failure(f"HTTP {response.status_code}")
                return response
        except requests.RequestException as err:
            STATUSES[type(err).__name__] += 1
            return None

    @task
    def conversation(self) -> None:
        created = None
        for _ in range(MAX_ATTEMPTS):
            created = self.send("POST", "/api/v1/conversations", "start", {})
            if created is not None and created.status_code == 201:
                break
            time.sleep(RETRY_SECONDS)
        else:
            return
        state = created.json()
        while state["status"] == "active":
            self.wait()
            question = state["question"]
            answer = {"question_id": question["id"], "value": pick(question), "step": state["step"]}
            state = self.answer(state["id"], answer)
            if state is None:
                return  # refused for good (logged in STATUSES): this phone starts a new conversation
        self.send("GET", f"/api/v1/conversations/{state['id']}/result", "result")

    def answer(self, conversation_id: str, answer: dict) -> dict | None:
        for _ in range(MAX_ATTEMPTS):
            response = self.send("POST", f"/api/v1/conversations/{conversation_id}/answers", "answer", answer)
            if response is not None and response.status_code == 200:
                LOG.write(json.dumps({"conversation": conversation_id, **answer}) + "\n")
                return response.json()
            if response is not None and response.status_code not in (429, 502, 503, 504):
                return None
            time.sleep(RETRY_SECONDS)
        return None


@events.quitting.add_listener
def _write_counts(**_kwargs) -> None:
    LOG.write(json.dumps({"statuses": dict(STATUSES)}) + "\n")
    LOG.flush()
