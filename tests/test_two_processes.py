"""Scale-out: two gunicorn processes on one PostgreSQL database serve one conversation alternately without loss.

The app keeps nothing between requests, so any process can take any turn: answers alternate between the two,
retries and stale steps land on the other process, both race for one step, and one process dies mid-conversation
while the other carries on. Skipped, with the reason, when PostgreSQL does not answer.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import WIDESPREAD_PAIN, _empty_postgres, call_json

pytestmark = pytest.mark.postgres

PROJECT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Process:
    """One gunicorn with one worker, configured as in production through the environment."""

    def __init__(self, database_url: str, secret: str, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in ("ASSISTANT_DEV", "REDIS_URL", "FORCE_HTTPS")}
        env.update(DATABASE_URL=database_url, SECRET_KEY=secret, PUBLIC_URL="https://checkin.example.org")
        self.log = log.open("w")
        self.popen = subprocess.Popen(
            [str(GUNICORN), "--workers", "1", "--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "2",
             "assistant:create_app()"],
            cwd=PROJECT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.popen.poll() is None, "gunicorn exited while starting"
            try:
                if self.call("GET", "/api/v1/flows")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"gunicorn on port {self.port} did not start")

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return call_json(self.base + path, method, body)

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gunicorn")


@pytest.fixture(scope="module")
def two(postgres_url, logs):
    """Started once for the module (starting gunicorn is the slow part); the last test kills one of them."""
    _empty_postgres(postgres_url)
    secret = secrets.token_hex(32)  # one secret for both, as a deployment would share it
    processes = [Process(postgres_url, secret, logs / f"gunicorn-{name}.log") for name in "ab"]
    try:
        for process in processes:
            process.wait_ready()
        yield processes
    finally:
        for process in processes:
            process.stop()


def answer(process: Process, conversation: dict[str, Any], value: Any) -> tuple[int, Any]:
    return process.call("POST", f"/api/v1/conversations/{conversation['id']}/answers",
                        {"question_id": conversation["question"]["id"], "value": value,
                         "step": conversation["step"]})


def test_two_processes_serve_one_conversation_alternately_without_loss(two, logs):
    a, b = two
    status, conversation = a.call("POST", "/api/v1/conversations", {"flow": "muscle-pain"})
    assert status == 201
    cid = conversation["id"]
    asked = []
    turn = 0
    while conversation["status"] == "active":
        process = (a, b)[turn % 2]
        question = conversation["question"]["id"]
        status, conversation = answer(process, conversation, WIDESPREAD_PAIN[question])
        assert status == 200, (process.port, conversation)
        asked.append(question)
        # the other process sees the turn at once
        other = (b, a)[turn % 2]
        assert other.call("GET", f"/api/v1/conversations/{cid}")[1]["step"] == conversation["step"]
        turn += 1
    assert conversation["status"] == "finished"
    assert set(conversation["answers"]) == set(asked)
    assert all(conversation["answers"][q] == WIDESPREAD_PAIN[q] for q in asked)
    result_a, result_b = a.call("GET", f"/api/v1/conversations/{cid}/result"), \
        b.call("GET", f"/api/v1/conversations/{cid}/result")
    assert result_a[0] == result_b[0] == 200 and result_a[1] == result_b[1]
    assert result_a[1]["conditions"]

    # Nothing identifying went to the processes' logs.
    for process in two:
        process.log.flush()
    written = "".join(path.read_text() for path in logs.glob("gunicorn-*.log"))
    assert "Booting worker" in written  # the log is there, and it is gunicorn's
    assert cid not in written
    assert "tender_all_over" not in written and "unrefreshing_sleep" not in written


def test_retries_and_stale_steps_across_processes(two):
    a, b = two
    _, conversation = a.call("POST", "/api/v1/conversations", {})
    cid = conversation["id"]
    first = {"question_id": "age_band", "value": "40_49", "step": 0}
    status, answered = a.call("POST", f"/api/v1/conversations/{cid}/answers", first)
    assert status == 200
    retry = b.call("POST", f"/api/v1/conversations/{cid}/answers", first)  # the phone retried via the other one
    assert retry[0] == 200 and retry[1]["step"] == answered["step"]
    changed = b.call("POST", f"/api/v1/conversations/{cid}/answers", {**first, "value": "65_plus"})
    assert changed[0] == 409 and changed[1]["error"]["conversation"]["answers"] == {"age_band": "40_49"}


def test_both_processes_racing_for_one_step_apply_exactly_one(two):
    a, b = two
    for _ in range(3):
        _, conversation = a.call("POST", "/api/v1/conversations", {})
        cid = conversation["id"]
        barrier = threading.Barrier(2)
        results: dict[str, tuple[int, Any]] = {}

        def send(process: Process, value: str) -> None:
            barrier.wait(timeout=30)
            results[value] = process.call("POST", f"/api/v1/conversations/{cid}/answers",
                                          {"question_id": "age_band", "value": value, "step": 0})

        threads = [threading.Thread(target=send, args=args) for args in ((a, "40_49"), (b, "65_plus"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        statuses = sorted(status for status, _ in results.values())
        assert statuses == [200, 409], results
        winner = next(value for value, (status, _) in results.items() if status == 200)
        for process in two:
            current = process.call("GET", f"/api/v1/conversations/{cid}")[1]
            assert current["step"] == 1 and current["answers"] == {"age_band": winner}


def test_one_process_dies_and_the_other_carries_on(two):  # keep last: it kills a process of the module
    a, b = two
    _, conversation = a.call("POST", "/api/v1/conversations", {})
    status, conversation = answer(a, conversation, "40_49")
    assert status == 200
    a.kill()  # no goodbye: whatever it held in memory is gone
    status, conversation = answer(b, conversation, ["none"])
    assert status == 200
    assert conversation["answers"] == {"age_band": "40_49", "red_flags": ["none"]}
