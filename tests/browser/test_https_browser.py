"""Production as it runs: chromium over HTTPS through a TLS-terminating front, the app behind it with TRUSTED_PROXIES=1,
FORCE_HTTPS, a real secret and the browser's own Referer rules. A person finishes a conversation, makes a share link
on /share, opens it, and stops sharing."""
from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import BrowserType, expect
from werkzeug.serving import make_server

from assistant import create_app
from assistant.store.db import upgrade

from ..tls_front import TlsFront
from .conftest import PHONE, SHOULDERS_AND_HIPS, answer_through, start

pytestmark = pytest.mark.browser


@pytest.fixture
def production_behind_tls(tmp_path):
    """(front URL, app): the app served plainly on 127.0.0.1, reachable only through the HTTPS front."""
    url = f"sqlite:///{tmp_path / 'https.sqlite3'}"
    upgrade(url)
    backend = make_server("127.0.0.1", 0, None, threaded=True)  # the port first: PUBLIC_URL names the front's
    with TlsFront(backend.server_port, tmp_path) as front:
        app = create_app({"SECRET_KEY": "a-long-random-production-secret-for-the-https-test", "DATABASE_URL": url,
                          "TRUSTED_PROXIES": 1, "FORCE_HTTPS": True, "PUBLIC_URL": front.url})
        backend.app = app
        thread = threading.Thread(target=backend.serve_forever, daemon=True)
        thread.start()
        try:
            yield front.url, app
        finally:
            backend.shutdown()
            thread.join(5)
            app.extensions["db_engine"].dispose()


def test_share_link_made_and_stopped_over_https_through_a_tls_front(browser_type: BrowserType,
                                                                    browser_type_launch_args: dict,
                                                                    production_behind_tls, shot):
    front, _app = production_behind_tls
    # A browser of its own: the HSTS this app sends for 127.0.0.1 must not upgrade the other tests' plain-HTTP server.
    browser = browser_type.launch(**browser_type_launch_args)
    context = browser.new_context(**PHONE, base_url=front, ignore_https_errors=True)
    page = context.new_page()
    posts: list[dict[str, str]] = []
    page.on("request", lambda r: posts.append({"url": r.url, **r.headers}) if r.method == "POST" else None)
    try:
        start(page)
        answer_through(page, SHOULDERS_AND_HIPS)
        expect(page).to_have_url(f"{front}/chat/result")
        page.get_by_role("link", name="Share with your doctor").click()
        expect(page).to_have_url(f"{front}/share")

        page.get_by_role("button", name="Make a link").click()
        expect(page.locator("#link-title")).to_be_visible()  # not the "Please try that again" CSRF page
        link = page.locator("#share-url").input_value().strip()
        assert re.fullmatch(re.escape(front) + r"/s/[A-Za-z0-9_-]{43}", link), link
        token = link.rsplit("/", 1)[1]
        shot(page, "share-over-https")
        create = next(p for p in posts if p["url"] == f"{front}/share")
        assert create.get("referer") == f"{front}/share"  # what the CSRF check needs, and no token in it

        page.goto(link)
        expect(page.locator("h1")).to_be_visible()
        assert page.evaluate("document.referrer") == ""
        page.goto("/share")
        page.get_by_role("button", name="Stop sharing").click()
        expect(page.locator("[role=status]")).to_contain_text("Sharing stopped")
        assert page.locator("#share-url").count() == 0
        gone = page.goto(link)
        assert gone is not None and gone.status == 410
        assert all(token not in (p.get("referer") or "") for p in posts)
    finally:
        context.close()
        browser.close()
