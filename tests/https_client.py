"""Flask's test client as a phone browser over HTTPS, so the pages are tested the way they run in production.

`BrowserClient` sends every request to https://localhost and, like a browser, sends the `Referer` and `Origin` headers
that the referrer policy of the page it comes from allows (the last HTML page it loaded: its
`<meta name="referrer">`, else its `Referrer-Policy` header, else the browsers' default). Flask-WTF's CSRF check over
HTTPS insists on a same-origin `Referer`, so a page whose policy withholds it cannot post its forms here either.
A test can still pass its own `Referer`/`Origin`, or another `base_url`.

The rules are the Referrer Policy specification's (https://www.w3.org/TR/referrer-policy/) and the Fetch standard's
for the `Origin` header of a POST (https://fetch.spec.whatwg.org/#origin-header).
"""
from __future__ import annotations

import gzip
import re
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import brotli
from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

BASE_URL = "https://localhost"
DEFAULT_POLICY = "strict-origin-when-cross-origin"
POLICIES = {"no-referrer", "no-referrer-when-downgrade", "same-origin", "origin", "strict-origin",
            "origin-when-cross-origin", "strict-origin-when-cross-origin", "unsafe-url"}
META_REFERRER = re.compile(r"""<meta\s+name=["']referrer["']\s+content=["']([^"']*)["']""", re.IGNORECASE)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def _as_referrer(url: str) -> str:
    """The page's URL without credentials and fragment, as browsers send it."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path or "/", parts.query, ""))


def _downgrade(page: str, target: str) -> bool:
    return urlsplit(page).scheme == "https" and urlsplit(target).scheme != "https"


def referer(page: str, policy: str, target: str) -> str | None:
    """The Referer a browser sends from `page` under `policy` to `target` (None: no header)."""
    same = origin_of(page) == origin_of(target)
    full, origin = _as_referrer(page), origin_of(page) + "/"
    downgrade = _downgrade(page, target)
    return {
        "no-referrer": None,
        "no-referrer-when-downgrade": None if downgrade else full,
        "same-origin": full if same else None,
        "origin": origin,
        "strict-origin": None if downgrade else origin,
        "origin-when-cross-origin": full if same else origin,
        "strict-origin-when-cross-origin": full if same else (None if downgrade else origin),
        "unsafe-url": full,
    }[policy]


def origin_header(page: str, policy: str, target: str) -> str:
    """The Origin a browser sends with a POST (or any non-GET) from `page` under `policy` to `target`."""
    if policy == "no-referrer":
        return "null"
    if policy in ("no-referrer-when-downgrade", "strict-origin", "strict-origin-when-cross-origin"):
        return "null" if _downgrade(page, target) else origin_of(page)
    if policy == "same-origin":
        return origin_of(page) if origin_of(page) == origin_of(target) else "null"
    return origin_of(page)


def page_policy(header: str | None, html: str) -> str:
    """A page's referrer policy: the last valid `<meta name="referrer">` wins over the header, whose last valid token
    wins; otherwise the default."""
    for token in reversed(META_REFERRER.findall(html)):
        if token.strip().lower() in POLICIES:
            return token.strip().lower()
    for token in reversed((header or "").split(",")):
        if token.strip().lower() in POLICIES:
            return token.strip().lower()
    return DEFAULT_POLICY


def decoded_text(response) -> str:
    """The body as a browser reads it: a response sent compressed (Content-Encoding) is decompressed first."""
    decode = {"br": brotli.decompress, "gzip": gzip.decompress}.get(response.headers.get("Content-Encoding", ""))
    body = response.get_data()
    return (decode(body) if decode else body).decode("utf-8", "replace")


class BrowserClient(FlaskClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base_url = BASE_URL  # where requests go unless a test says otherwise
        self.page_url: str | None = None
        self.page_policy = DEFAULT_POLICY

    def open(self, *args: Any, **kwargs: Any):
        if args and not isinstance(args[0], str):  # a prepared request (redirects): as it is
            return super().open(*args, **kwargs)
        path = args[0] if args else kwargs.pop("path", "/")
        base_url = kwargs.setdefault("base_url", self.base_url)
        target = urljoin(base_url.rstrip("/") + "/", path)
        method = kwargs.get("method", "GET").upper()
        headers = Headers(kwargs.pop("headers", None) or {})
        if self.page_url is not None:
            sent = referer(self.page_url, self.page_policy, target)
            if sent and "Referer" not in headers:
                headers["Referer"] = sent
            if method not in ("GET", "HEAD") and "Origin" not in headers:
                headers["Origin"] = origin_header(self.page_url, self.page_policy, target)
        response = super().open(path, *args[1:], headers=headers, **kwargs)
        if method == "GET" and response.mimetype == "text/html" and not 300 <= response.status_code < 400:
            self.page_url = target  # a page was loaded: the next request comes from it
            self.page_policy = page_policy(response.headers.get("Referrer-Policy"), decoded_text(response))
        return response
