"""Configuration: defaults here, instance/config.py for a deployment, environment variables on top; checked at
start-up so a bad setting stops the app with a clear message instead of failing requests later."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT_PUBLIC_URL = "http://127.0.0.1:5000"  # what `make run` serves


class SettingsError(RuntimeError):
    """A setting that would make the app misbehave: the app refuses to start and says which and why."""


def defaults(app: Flask) -> dict:
    return {
        "SECRET_KEY": "dev",
        "DATABASE_URL": "sqlite:///" + os.path.join(app.instance_path, "assistant.sqlite3"),
        "FLOWS_DIR": str(PROJECT_ROOT / "flows"),
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "JSON_SORT_KEYS": False,
    }


def from_environment(app: Flask) -> None:
    for name in ("DATABASE_URL", "SECRET_KEY", "REDIS_URL", "FLOWS_DIR", "PUBLIC_URL"):
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    if os.environ.get("ASSISTANT_DEV") == "1":
        app.config["DEVELOPMENT"] = True
    if os.environ.get("FORCE_HTTPS") == "1":
        app.config["FORCE_HTTPS"] = True


def is_development(app: Flask) -> bool:
    return bool(app.debug or app.testing or app.config.get("DEVELOPMENT"))


def public_url(value: object, development: bool, force_https: bool = False) -> str:
    """PUBLIC_URL checked and without its trailing slash; the development default when unset in development."""
    if not value:
        if not development:
            raise SettingsError(
                "PUBLIC_URL must be set outside development: the address people reach the app at, for example "
                "PUBLIC_URL=https://checkin.example.org. Share links, QR codes and redirects are built on it.")
        value = DEVELOPMENT_PUBLIC_URL
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
            or "@" in parts.netloc:
        raise SettingsError(f"PUBLIC_URL must look like https://host[:port][/path], not {text!r}")
    if parts.scheme != "https" and (force_https or not development):
        raise SettingsError(f"PUBLIC_URL must start with https://{' when FORCE_HTTPS=1' if force_https else ''} "
                            f"(outside development people reach the app over HTTPS), not {text!r}")
    return text.rstrip("/")


def check(app: Flask) -> None:
    """Every setting the app reads, checked once at start-up."""
    app.config["PUBLIC_URL"] = public_url(app.config.get("PUBLIC_URL"), is_development(app),
                                          bool(app.config.get("FORCE_HTTPS")))
