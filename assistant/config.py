"""Configuration: defaults here, instance/config.py for a deployment, environment variables on top; checked at
start-up (`check`), so a bad setting stops the app with a message saying which and how to fix it, instead of failing
requests later."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT_PUBLIC_URL = "http://127.0.0.1:5000"  # what `make run` serves
DEFAULT_RETENTION_DAYS = 30
FROM_ENVIRONMENT = ("DATABASE_URL", "SECRET_KEY", "REDIS_URL", "FLOWS_DIR", "PUBLIC_URL", "RETENTION_DAYS",
                    "TRUSTED_PROXIES", "FORCE_HTTPS")
SWITCH_VALUES = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False,
                 "off": False, "": False}


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
    for name in FROM_ENVIRONMENT:
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    if os.environ.get("ASSISTANT_DEV") == "1":
        app.config["DEVELOPMENT"] = True


def is_development(app: Flask) -> bool:
    return bool(app.debug or app.testing or app.config.get("DEVELOPMENT"))


# --- one check per kind of setting ------------------------------------------------------------------------------------

def whole_number(name: str, value: Any, minimum: int, default: int, hint: str = "") -> int:
    if value is None or value == "":
        return default
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or number < minimum:
        raise SettingsError(f"{name} must be a whole number of at least {minimum}, not {value!r}{hint}")
    return number


def switch(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text not in SWITCH_VALUES:
        raise SettingsError(f"{name} must be 1 (on) or 0 (off), not {value!r}")
    return SWITCH_VALUES[text]


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


def database_url(value: Any) -> str:
    try:
        backend = make_url(str(value)).get_backend_name()
    except ArgumentError:
        backend = None
    if backend not in ("sqlite", "postgresql", "postgres"):
        raise SettingsError("DATABASE_URL must be a SQLite or PostgreSQL URL (sqlite:///path/file.sqlite3, "
                            f"postgresql://user@host:5432/name), not {value!r}")
    return str(value)


def redis_url(value: Any) -> str | None:
    if not value:
        return None
    if urlsplit(str(value)).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError(f"REDIS_URL must be a redis://, rediss:// or unix:// URL, not {value!r}")
    return str(value)


def check(app: Flask) -> None:
    """Every setting the app reads, checked (and turned into its type) once, at start-up. All problems at once."""
    config, problems = app.config, []

    def checked(name: str, parse) -> None:  # type: ignore[no-untyped-def]
        try:
            config[name] = parse(config.get(name))
        except SettingsError as err:
            problems.append(str(err))

    checked("RETENTION_DAYS", lambda v: whole_number(
        "RETENTION_DAYS", v, 1, DEFAULT_RETENTION_DAYS,
        " (days a conversation is kept after its last answer; to delete everything now, run `flask purge --all`)"))
    checked("TRUSTED_PROXIES", lambda v: whole_number(
        "TRUSTED_PROXIES", v, 0, 0, " (how many proxies stand in front of the app)"))
    checked("FORCE_HTTPS", lambda v: switch("FORCE_HTTPS", v))
    checked("PUBLIC_URL", lambda v: public_url(v, is_development(app), bool(config.get("FORCE_HTTPS"))))
    checked("DATABASE_URL", database_url)
    checked("REDIS_URL", redis_url)
    if problems:
        raise SettingsError("The app cannot start with these settings:\n- " + "\n- ".join(problems))
