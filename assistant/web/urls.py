"""Absolute URLs, always on PUBLIC_URL: share links, QR codes, handout and FHIR URLs, `Location` headers and the HTTPS
redirect. Never from the request: its `Host` and `X-Forwarded-Host` are whatever the client chose to send, and a
link built on them could point a doctor (or a QR code at the reception desk) to someone else's site.

PUBLIC_URL is required outside development and checked at start-up (config.py); in development and tests it falls
back to http://127.0.0.1:5000, the address `make run` serves.
"""
from __future__ import annotations

from typing import Any

from flask import current_app


def public_base() -> str:
    """Scheme, host and any path prefix people reach the app at, without a trailing slash."""
    return current_app.config["PUBLIC_URL"]


def path_for(endpoint: str, **values: Any) -> str:
    """The path of a Flask endpoint from the app's root, the same in a request, a CLI command or a test."""
    current_app.inject_url_defaults(endpoint, values)
    return current_app.url_map.bind("public", script_name="/").build(endpoint, values)


def public_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of a Flask endpoint, on public_base()."""
    return public_base() + path_for(endpoint, **values)
