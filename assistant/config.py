"""Configuration: defaults here, instance/config.py for a deployment, environment variables on top."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def defaults(app: Flask) -> dict:
    return {
        "SECRET_KEY": "dev",
        "DATABASE_URL": "sqlite:///" + os.path.join(app.instance_path, "assistant.sqlite3"),
        "FLOWS_DIR": str(PROJECT_ROOT / "flows"),
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "JSON_SORT_KEYS": False,
    }


def from_environment(app: Flask) -> None:
    for name in ("DATABASE_URL", "SECRET_KEY", "REDIS_URL", "FLOWS_DIR"):
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    if os.environ.get("ASSISTANT_DEV") == "1":
        app.config["DEVELOPMENT"] = True
    if os.environ.get("FORCE_HTTPS") == "1":
        app.config["FORCE_HTTPS"] = True
