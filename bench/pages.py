"""Page weight and Lighthouse (mobile) of the landing, chat and result pages, served by gunicorn on 127.0.0.1.

Page weight: the first load of each page as a browser makes it with an empty cache: the HTML, then every
stylesheet, script (and the modules it imports), icon and image it references (and url()s inside the CSS).
For each: raw bytes, gzip -9 bytes, and the bytes on the wire as the Procfile's command serves them to a browser
that accepts Brotli and gzip (gunicorn alone: nothing in front of it compresses); the page's total and its number
of requests. The chat page is a
conversation in progress (a few questions answered, the body-map question showing), the result page a finished one;
both are reached as the person would, through the `conversation` cookie the chat sets.

Lighthouse 12 (bench/node_modules, installed with npm) runs in mobile mode (its default: a phone's screen, slow 4G
and a 4x slower CPU, simulated) with Debian's chromium, once per page, and reports performance, accessibility and
best practices, the requests it saw and the bytes it transferred.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import brotli

from common import BENCH, OUT, PROFILES, ProcfileServer, reset_database, servers

CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = ("--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update "
                "--disable-sync --no-first-run")
LIGHTHOUSE = BENCH / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices")


# --- setting up a conversation in progress and a finished one -----------------------------------------------------

def api(base: str, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def conversations(base: str) -> tuple[str, str]:
    """The id of a conversation showing the body-map question (pain locations), and of a finished one."""
    profile = PROFILES[0]
    active = api(base, "POST", "/api/v1/conversations", {"flow": "muscle-pain"})
    for _ in range(30):
        question = active["question"]["id"]
        if question == "pain_locations":
            break
        active = api(base, "POST", f"/api/v1/conversations/{active['id']}/answers",
                     {"question_id": question, "value": profile[question], "step": active["step"]})
    finished = api(base, "POST", "/api/v1/conversations", {"flow": "muscle-pain"})
    for _ in range(40):
        if finished["status"] != "active":
            break
        question = finished["question"]["id"]
        finished = api(base, "POST", f"/api/v1/conversations/{finished['id']}/answers",
                       {"question_id": question, "value": profile[question], "step": finished["step"]})
    return active["id"], finished["id"]


# --- page weight --------------------------------------------------------------------------------------------------

class References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and a.get("href") and set((a.get("rel") or "").split()) & {
                "stylesheet", "icon", "modulepreload", "preload", "manifest", "apple-touch-icon"}:
            self.found.append(a["href"])
        elif tag == "script" and a.get("src"):
            self.found.append(a["src"])
        elif tag in ("img", "source", "input") and a.get("src"):
            self.found.append(a["src"])


CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
JS_IMPORT = re.compile(r"""(?:^|[;\s])import\s*(?:[\w*{}\s,]+from\s*)?["']([^"']+)["']""", re.M)


def fetch(url: str, cookie: str | None) -> tuple[bytes, int, str]:
    """The body (decoded), the bytes of it that went over the wire as a browser asks (Brotli or gzip accepted), and
    its type."""
    headers = {"Accept-Encoding": "br, gzip", **({"Cookie": cookie} if cookie else {})}
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        sent = response.read()
        encoding = response.headers.get("Content-Encoding")
        body = {"br": brotli.decompress, "gzip": gzip.decompress}.get(encoding, lambda b: b)(sent)
        return body, len(sent), response.headers.get("Content-Type", "")


def weigh(url: str, cookie: str | None = None) -> dict[str, Any]:
    """Every resource the first load of `url` fetches, with raw and gzip -9 sizes."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    queue, seen, items = [url], set(), []
    while queue and len(seen) < 50:
        current = queue.pop(0)
        if current in seen or not current.startswith(origin):
            continue
        seen.add(current)
        body, wire, kind = fetch(current, cookie)
        items.append({"url": current[len(origin):], "type": kind.split(";")[0], "raw": len(body),
                      "gzip": len(gzip.compress(body, compresslevel=9)), "wire": wire})
        text = body.decode("utf-8", "replace")
        if "html" in kind:
            parser = References()
            parser.feed(text)
            found = parser.found
            if not any("icon" in r for r in re.findall(r"<link[^>]+rel=\"([^\"]+)\"", text)):
                found.append("/favicon.ico")  # a browser asks for it when the page names no icon
        elif "css" in kind:
            found = [u for u in CSS_URL.findall(text) if not u.startswith("data:")]
        elif "javascript" in kind:
            found = JS_IMPORT.findall(text)
        else:
            found = []
        queue.extend(urljoin(current, ref.split("#")[0]) for ref in found)
    return {"requests": len(items), "raw": sum(i["raw"] for i in items), "gzip": sum(i["gzip"] for i in items),
            "wire": sum(i["wire"] for i in items), "items": items}


# --- Lighthouse ---------------------------------------------------------------------------------------------------

def ensure_lighthouse() -> str | None:
    """None when Lighthouse and chromium are ready (installing Lighthouse with npm when missing), else why not."""
    if not Path(CHROME).exists():
        return f"no chromium at {CHROME} (make chromium installs Debian's)"
    if not LIGHTHOUSE.exists():
        npm = shutil.which("npm")
        if npm is None:
            return "npm is missing (Lighthouse is installed with npm)"
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=BENCH,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0 or not LIGHTHOUSE.exists():
            return f"npm install failed: {done.stderr.strip()[-300:]}"
    return None


def lighthouse_version() -> str:
    try:
        return json.loads((BENCH / "node_modules" / "lighthouse" / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "not installed"


def lighthouse(url: str, name: str, cookie: str | None) -> dict[str, Any]:
    report = OUT / f"lighthouse-{name}.json"
    command = [str(LIGHTHOUSE), url, "--output=json", f"--output-path={report}", "--form-factor=mobile",
               "--only-categories=" + ",".join(CATEGORIES), f"--chrome-flags={CHROME_FLAGS}", "--quiet"]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    done = subprocess.run(command, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "CHROME_PATH": CHROME})
    if done.returncode != 0 or not report.exists():
        return {"error": (done.stderr or done.stdout).strip()[-400:]}
    data = json.loads(report.read_text())
    audits = data["audits"]
    failed = sorted(f"{key}: {audits[ref['id']]['title']}" for key in CATEGORIES
                    for ref in data["categories"][key]["auditRefs"]
                    if ref.get("weight", 0) > 0 and audits[ref["id"]].get("score") not in (None, 1))
    network = audits.get("network-requests", {}).get("details", {}).get("items", [])
    return {
        **{key: round(data["categories"][key]["score"] * 100) for key in CATEGORIES},
        "requests": len(network),
        "transfer_bytes": sum(i.get("transferSize", 0) for i in network),
        "fcp_ms": round(audits["first-contentful-paint"]["numericValue"]),
        "lcp_ms": round(audits["largest-contentful-paint"]["numericValue"]),
        "tbt_ms": round(audits["total-blocking-time"]["numericValue"]),
        "cls": round(audits["cumulative-layout-shift"]["numericValue"], 3),
        "not_perfect": failed,
    }


def run(with_lighthouse: bool = True) -> dict[str, Any]:
    OUT.mkdir(exist_ok=True)
    url = f"sqlite:///{OUT / 'pages.sqlite3'}"
    reset_database(url)
    server = ProcfileServer("pages", url)
    result: dict[str, Any] = {"weight": {}, "lighthouse": {}, "lighthouse_skipped": None}
    with servers(server):
        active, finished = conversations(server.url)
        pages = {"landing": ("/", None), "chat": ("/chat", f"conversation={active}"),
                 "result": ("/chat/result", f"conversation={finished}")}
        for name, (path, cookie) in pages.items():
            result["weight"][name] = weigh(server.url + path, cookie)
        problem = ensure_lighthouse() if with_lighthouse else "not asked for"
        result["lighthouse_skipped"] = problem
        if problem is None:
            for name, (path, cookie) in pages.items():
                result["lighthouse"][name] = lighthouse(server.url + path, name, cookie)
                print(f"  lighthouse {name}: {result['lighthouse'][name]}", flush=True)
    (OUT / "pages.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-lighthouse", action="store_true")
    args = parser.parse_args()
    summary = run(not args.no_lighthouse)
    for page, weight in summary["weight"].items():
        print(f"{page:8s} {weight['requests']} requests  raw {weight['raw']} B  gzip {weight['gzip']} B  "
              + ", ".join(f"{i['url']} {i['gzip']}" for i in weight["items"]))
