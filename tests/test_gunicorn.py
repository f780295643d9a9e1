"""Served the way the Procfile serves it: its `web` command (gunicorn with gunicorn.conf.py), a real secret, no
development mode. Its logs never hold a conversation id or a share token, whichever log is turned on, and it believes
`X-Forwarded-Proto` only when TRUSTED_PROXIES says there is a proxy in front."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from assistant.store.db import upgrade

PROJECT = Path(__file__).resolve().parent.parent
BEARER = "Zq7-" * 10 + "abc"  # shaped like a conversation id or a share token (43 characters)


def procfile_web() -> str:
    line = next(line for line in (PROJECT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    return line.split(":", 1)[1].strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served:
    def __init__(self, folder: Path, extra: str = "", **env: str) -> None:
        self.port = free_port()
        url = f"sqlite:///{folder / 'served.sqlite3'}"
        upgrade(url)
        environment = {k: v for k, v in os.environ.items()
                       if k not in ("ASSISTANT_DEV", "REDIS_URL", "FORCE_HTTPS", "TRUSTED_PROXIES", "WEB_CONCURRENCY")}
        environment.update(PORT=str(self.port), WEB_CONCURRENCY="1", DATABASE_URL=url, SECRET_KEY="a-long-random-production-secret",
                           PUBLIC_URL="https://checkin.example.org", PATH=f"{Path(os.sys.executable).parent}:"
                                                                          f"{os.environ.get('PATH', '')}", **env)
        command = f"exec {procfile_web()} {extra}"  # the Procfile's command as a platform runs it, on $PORT
        self.output = (folder / "gunicorn.out").open("w")
        self.process = subprocess.Popen(["sh", "-c", command], cwd=PROJECT, env=environment, stdout=self.output,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (folder / "gunicorn.out").read_text()
            try:
                self.get("/api/v1/flows")
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not start")

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str]]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers)
        opener = urllib.request.build_opener(NoRedirects)
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers)
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(30)
        self.output.close()


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(extra: str = "", **env: str) -> Served:
        started.append(Served(tmp_path, extra, **env))
        return started[-1]
    yield start
    for served in started:
        if served.process.poll() is None:
            served.stop()


def test_gunicorn_logs_never_hold_conversation_ids_or_share_tokens(serve, tmp_path):
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    served = serve(f"--access-logfile {access} --error-logfile {errors} --log-level debug")
    for path in (f"/api/v1/conversations/{BEARER}", f"/s/{BEARER}", f"/s/{BEARER}/qr.svg?t={BEARER}"):
        served.get(path, Referer=f"https://checkin.example.org/s/{BEARER}/handout")
    served.stop()
    logged = access.read_text() + errors.read_text() + (tmp_path / "gunicorn.out").read_text()
    assert "/api/v1/conversations/[redacted]" in logged and "/s/[redacted]/qr.svg" in logged  # the lines are there
    assert BEARER not in logged


def test_forwarded_https_is_believed_only_behind_trusted_proxies(serve):
    """FORCE_HTTPS redirects plain HTTP: a client on 127.0.0.1 that says `X-Forwarded-Proto: https` is still
    redirected when TRUSTED_PROXIES=0, and is the proxy's word when TRUSTED_PROXIES=1."""
    alone = serve(FORCE_HTTPS="1", TRUSTED_PROXIES="0")
    status, headers = alone.get("/api/v1/flows", **{"X-Forwarded-Proto": "https"})
    assert status == 301 and headers["Location"] == "https://checkin.example.org/api/v1/flows"
    alone.stop()

    behind = serve(FORCE_HTTPS="1", TRUSTED_PROXIES="1")
    status, headers = behind.get("/api/v1/flows", **{"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert status == 200 and headers["Strict-Transport-Security"].startswith("max-age=")
    status, _ = behind.get("/api/v1/flows", **{"X-Forwarded-Ssl": "on"})  # a scheme header the app does not read
    assert status == 301


def test_the_procfile_uses_the_gunicorn_config():
    assert "-c gunicorn.conf.py" in procfile_web()
