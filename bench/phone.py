"""A slow phone, as a person would feel it: Debian's chromium (390x844) through Playwright, throttled over the DevTools
protocol (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up, CPU 4x slower), against the app served by the
Procfile's own command (gunicorn alone, production settings, SQLite).

For JavaScript on and off, in a fresh browser profile each:
  first visit    the landing page with an empty cache, then Start: what the chat page fetches
  turns          one answer after another (1.5 s to read each question), from the tap to the next question on
                 screen: with JavaScript, the end of the frame in which the new question is in the page; without,
                 the first contentful paint of the page the form's POST -> 303 -> GET ends on
  repeat visit   the chat page opened again later with a warm cache: what goes over the network besides the page
  floor          one round trip as the page sees it: fetch() of a 300-byte file, never from the cache
  PRG floor      the no-JS turn of a bare page (bench/prg_floor_app.py: a heading and one submit button, no CSS, no
                 script, served by its own gunicorn like the app) whose form posts to a route that answers 303 to
                 the same bare page: two round trips plus the browser's own navigation work, whatever the page.
                 Timed exactly as the no-JS turns (Phone.answer), 12 turns, in a fresh browser context
And a fast tapper: with JavaScript on and an empty cache, the first answer tapped the moment its button shows, and
how long after the chat page first shows its script has run (module scripts run before DOMContentLoaded).

How a turn is timed, so that it is what the person feels and not the measuring:
- It starts when the finger lifts: the touchend event's own timestamp, the moment the browser took that input in
  (the click comes from it; a slowed, busy page then still counts in full). It is taken in the page by a listener
  in an isolated world of the bench's own (which runs with the page's JavaScript off as well, and never mixes with
  chat.js) and sent out at once through a DevTools binding, so that a turn's start and end are on the page's own
  clock. It comes about 1 ms after Python's clock before the tap. The finger stays down 80 ms (TAP_HOLD_MS), about
  as long as a person's tap: sent back to back, the touch's end waited behind the work of its start.
- With JavaScript, it ends when the frame that first has the new question in the page has been rendered: a
  MutationObserver (in the same isolated world) sees the question arrive, then a message posted from the next
  frame's requestAnimationFrame callback arrives once that frame's style, layout and paint are done. Work that
  chat.js leaves to the browser's next frame counts, as it does on a phone (the requestAnimationFrame callback alone
  comes before that work). Nothing of the bench runs while the turn waits on the network.
- Without JavaScript, it ends at the first contentful paint of the page the redirect ends on, read from the page's
  performance timeline once it has loaded. Nothing is evaluated in the page while it loads: Playwright's tap()
  waits for the navigation it starts to commit, and polling the new page from then on took its main thread, on a
  4x slowed CPU, from the very parsing and painting being measured (a trace showed a 7-10 ms script evaluation
  just before the first paint in three turns out of four). The tap is therefore sent straight over the DevTools
  protocol, as tap() sends it.
"""
from __future__ import annotations

import json
import statistics
import time
from typing import Any

from common import OUT, PROFILES, ProcfileServer, Server, reset_database, servers

LATENCY_MS = 150
DOWN_BYTES_S = 1.6e6 / 8
UP_BYTES_S = 750e3 / 8
CPU_SLOWDOWN = 4
READING_S = 1.5
TAP_HOLD_MS = 80
PRG_FLOOR_TURNS = 12
CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
QUESTION = "#answer input[name=question_id]"
WORLD = "phone-bench"  # the bench's own isolated world in the page
# In the bench's isolated world: the moment the next touch ends (its event's timestamp, epoch ms), sent out at once
# through a binding (the page may be gone by the time the tap's last message has been answered) ...
TOUCHED = """addEventListener('touchend', e => phoneBenchTouched(String(performance.timeOrigin + e.timeStamp)),
  {capture: true, passive: true, once: true}); 1"""
# ... and, with JavaScript, the end of the first frame that has question q in the page (epoch ms). A MutationObserver
# notices the question the moment chat.js puts it in the page, then a requestAnimationFrame callback (the next frame,
# the one that draws it) posts a message, delivered once that frame's style, layout and paint are done. Nothing runs
# in the page while the turn waits on the network: a check at every frame would take a slowed main thread's time
# and keep it making frames, which a real phone at rest does not.
SHOWN = """q => { window.__shown = new Promise(resolve => {
    const there = () => {
      const i = document.querySelector('#answer input[name=question_id]');
      return i && i.value === q;
    };
    const drawn = () => requestAnimationFrame(() => {
      const c = new MessageChannel();  // delivered after this frame's rendering
      c.port1.onmessage = () => resolve(performance.timeOrigin + performance.now());
      c.port2.postMessage(0);
    });
    if (there()) return drawn();
    const watch = new MutationObserver(() => { if (there()) { watch.disconnect(); drawn(); } });
    watch.observe(document, {childList: true, subtree: true, attributes: true, attributeFilter: ['value']});
  }); return 1; }"""
FCP = """() => { const p = performance.getEntriesByName('first-contentful-paint')[0];
  return p ? performance.timeOrigin + p.startTime : null; }"""
PAINTED = """q => { const i = document.querySelector('#answer input[name=question_id]');
  const p = performance.getEntriesByName('first-contentful-paint')[0];
  if (!(i && i.value === q && p)) return null;
  const n = performance.getEntriesByType('navigation')[0], o = performance.timeOrigin;
  return {post_sent: o + n.startTime, redirect_back: o + n.redirectEnd, page_received: o + n.responseEnd,
          parsed: o + n.domInteractive, painted: o + p.startTime}; }"""
READY = """() => { const p = performance.getEntriesByName('first-contentful-paint')[0];
  const n = performance.getEntriesByType('navigation')[0];
  return [p ? p.startTime : null, n.domContentLoadedEventStart || null]; }"""
FLOOR = """async url => { const times = [];
  for (let i = 0; i < 12; i++) { const t = performance.now(); await (await fetch(url, {cache: 'no-store'})).text();
    times.push(performance.now() - t); } return times; }"""


def story() -> tuple[dict[str, Any], list[str]]:
    """The bench person without a body map on their path (a map answer is many taps), and the questions asked."""
    from load import profile_paths
    for profile, path in zip(PROFILES, profile_paths()):
        if "pain_locations" not in profile:
            return profile, [q for q, _ in path]
    raise RuntimeError("every bench person is asked the body map")


class Phone:
    def __init__(self, browser, base: str, javascript: bool) -> None:
        self.base, self.javascript = base, javascript
        self.context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=3,
                                           is_mobile=True, has_touch=True, java_script_enabled=javascript)
        self.page = self.context.new_page()
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("Network.enable")
        self.cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": LATENCY_MS, "downloadThroughput": DOWN_BYTES_S,
            "uploadThroughput": UP_BYTES_S})
        self.cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        self.fetched: list[dict[str, Any]] = []
        self.parts: list[dict[str, int]] = []  # no JavaScript: the moments of each turn, ms after the tap
        self._sizes: dict[str, int] = {}
        self.cached: set[str] = set()
        self._world = 0
        self._touched: float | None = None
        self.cdp.on("Runtime.bindingCalled", self._binding)
        self.cdp.send("Runtime.enable")
        self.cdp.send("Runtime.addBinding", {"name": "phoneBenchTouched", "executionContextName": WORLD})
        self.cdp.on("Network.responseReceived", self._received)
        self.cdp.on("Network.requestServedFromCache", lambda e: self.cached.add(e["requestId"]))
        self.cdp.on("Network.loadingFinished", lambda e: self._sizes.__setitem__(e["requestId"],
                                                                                 int(e["encodedDataLength"])))

    def _binding(self, event: dict[str, Any]) -> None:
        if event["name"] == "phoneBenchTouched":
            self._touched = float(event["payload"])

    def _received(self, event: dict[str, Any]) -> None:
        response = event["response"]
        if not (response.get("fromDiskCache") or response.get("fromPrefetchCache")):
            self.fetched.append({"id": event["requestId"], "url": response["url"].removeprefix(self.base),
                                 "status": response["status"]})

    def network(self, start: int) -> dict[str, Any]:
        """What went over the network since fetched[start]: requests (revalidations counted) and bytes."""
        items = [i for i in self.fetched[start:] if i["id"] not in self.cached]
        return {"requests": len(items), "bytes": sum(self._sizes.get(i["id"], 0) for i in items),
                "revalidated": sum(1 for i in items if i["status"] == 304), "urls": [i["url"] for i in items]}

    def load(self, path: str) -> dict[str, Any]:
        start = len(self.fetched)
        self.page.goto(self.base + path, wait_until="load")
        self.page.wait_for_timeout(300)  # late requests (the icon) and the paint entry
        started = self.page.evaluate("performance.timeOrigin")
        return {"fcp_ms": round(self.page.evaluate(FCP) - started), **self.network(start)}

    def start(self) -> dict[str, Any]:
        """Start, after reading the landing page."""
        self.page.wait_for_timeout(READING_S * 1000)
        start = len(self.fetched)
        with self.page.expect_navigation(wait_until="load"):
            self.tap(self.page.locator("form[action='/start'] button"))
        self.page.wait_for_timeout(300)
        started = self.page.evaluate("performance.timeOrigin")
        return {"fcp_ms": round(self.page.evaluate(FCP) - started), **self.network(start)}

    def tap(self, locator) -> float:
        """A tap at the middle of the element; returns the moment it was sent (epoch ms)."""
        locator.scroll_into_view_if_needed()
        box = locator.bounding_box()
        sent = time.time() * 1000
        self.page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        return sent

    def new_world(self) -> None:
        """An isolated world of the bench's own in the current document (made before each timed tap, while the
        person reads: its scripts never see chat.js's, and run with the page's JavaScript off too)."""
        frame = self.cdp.send("Page.getFrameTree")["frameTree"]["frame"]
        self._world = self.cdp.send("Page.createIsolatedWorld", {"frameId": frame["id"],
                                                                 "worldName": WORLD})["executionContextId"]

    def in_world(self, expression: str, wait: bool = False) -> Any:
        found = self.cdp.send("Runtime.evaluate", {"contextId": self._world, "expression": expression,
                                                    "awaitPromise": wait, "returnByValue": True})
        if "exceptionDetails" in found:
            raise RuntimeError(f"bench script failed: {found['exceptionDetails']}")
        return found["result"].get("value")

    def timed_tap(self, locator) -> float:
        """A tap at the middle of the element, as the touchscreen's tap() sends it but straight over the DevTools
        protocol (tap() would wait for a navigation it starts, and the tapped page would be gone); returns the
        moment the touch ended in the page (epoch ms)."""
        locator.scroll_into_view_if_needed()
        box = locator.bounding_box()
        self.in_world(TOUCHED)
        self._touched = None
        point = {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}
        self.cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point]})
        self.page.wait_for_timeout(TAP_HOLD_MS)
        self.cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        deadline = time.monotonic() + 10
        while self._touched is None:
            if time.monotonic() > deadline:
                raise TimeoutError("the tap's touchend never reached the page")
            self.page.wait_for_timeout(5)
        return self._touched

    def answer(self, question: str, value: Any, following: str) -> float:
        """One turn; returns ms from the tap to the next question on screen."""
        form = self.page.locator("#answer")
        if isinstance(value, list):
            for v in value:
                if not form.locator(f"input[name=value][value='{v}']").is_checked():
                    form.locator(f"label.chip:has(> input[value='{v}'])").tap()  # not timed: waits until in reach
            button = form.locator("button.done")
        else:
            button = form.locator(f"button[name=value][value='{value}']")
        self.new_world()
        if self.javascript:
            self.in_world(f"({SHOWN})({json.dumps(following)})")
            sent = self.timed_tap(button)
            shown = self.in_world("window.__shown", wait=True)
        else:
            with self.page.expect_navigation(wait_until="load", timeout=30_000):
                sent = self.timed_tap(button)
            moments = self._painted(following)
            self.parts.append({key: round(value - sent) for key, value in moments.items()})
            shown = moments["painted"]
        return shown - sent

    def _painted(self, following: str) -> dict[str, float]:
        """When the page that shows `following` was asked for, came, was parsed and painted (epoch ms): read once
        it has loaded (the paint entry can come a frame after the load event)."""
        for _ in range(50):
            found = self.page.evaluate(PAINTED, following)
            if found:
                return found
            self.page.wait_for_timeout(20)
        raise TimeoutError(f"no page showing {following!r} painted")

    def median_parts(self) -> dict[str, float] | None:
        """No JavaScript: the median moment of each part of the turns so far (None with JavaScript)."""
        if not self.parts:
            return None
        return {key: statistics.median(p[key] for p in self.parts) for key in self.parts[0]}

    def floor(self) -> list[float]:
        icon = self.page.locator("link[rel=icon]").get_attribute("href")
        return self.page.evaluate(FLOOR, icon)

    def close(self) -> None:
        self.context.close()


def conversation(browser, base: str, javascript: bool, floor_page=None) -> dict[str, Any]:
    profile, asked = story()
    phone = Phone(browser, base, javascript)
    try:
        first = {"landing": phone.load("/"), "chat": phone.start()}
        turns, repeat = [], None
        for n, question in enumerate(asked[:-1]):  # the last answer leaves for the result page
            assert phone.page.locator(QUESTION).input_value() == question
            phone.page.wait_for_timeout(READING_S * 1000)
            turns.append(round(phone.answer(question, profile[question], asked[n + 1])))
            if n == 2:  # later, the same phone opens the chat again
                repeat = phone.load("/chat")
        parts = phone.median_parts()
        return {"first_visit": first, "repeat_visit": repeat, "turns_ms": turns, "median_parts_ms": parts,
                "median_ms": statistics.median(turns), "worst_ms": max(turns)}
    finally:
        phone.close()


def prg_floor(browser, base: str) -> dict[str, Any]:
    """The bare page's no-JS turns through its own POST -> 303 -> GET: the same Phone, pause and timing as the
    product's no-JS turns, in a fresh browser context with JavaScript off."""
    phone = Phone(browser, base, False)
    try:
        phone.page.goto(base + "/?n=0", wait_until="load")
        turns = []
        for n in range(PRG_FLOOR_TURNS):
            assert phone.page.locator(QUESTION).input_value() == f"q{n}"
            phone.page.wait_for_timeout(READING_S * 1000)
            turns.append(round(phone.answer(f"q{n}", "next", f"q{n + 1}")))
        parts = phone.median_parts()
        return {"turns_ms": turns, "median_parts_ms": parts, "median_ms": statistics.median(turns),
                "worst_ms": max(turns)}
    finally:
        phone.close()


def fast_tap(browser, base: str) -> dict[str, Any]:
    """Empty cache, JavaScript on: the first answer tapped as soon as it shows. Handled in place (chat.js was
    ready), or by the plain form (a page load): either way exactly one answer must be stored."""
    phone = Phone(browser, base, True)
    try:
        phone.load("/")
        phone.start()
        shows, ready = phone.page.evaluate(READY)
    finally:
        phone.close()
    phone = Phone(browser, base, True)
    try:
        phone.load("/")
        phone.page.wait_for_timeout(READING_S * 1000)
        phone.tap(phone.page.locator("form[action='/start'] button"))
        profile, asked = story()
        button = phone.page.locator(f"#answer button[name=value][value='{profile[asked[0]]}']")
        button.wait_for(state="visible")
        phone.page.wait_for_function("() => performance.getEntriesByName('first-contentful-paint').length > 0",
                                     polling=10)  # on screen: painted, not only in the page
        phone.page.evaluate("window.__before_tap = true")  # gone if the answer loads a new page
        value = button.get_attribute("value")
        first = phone.page.locator(QUESTION).input_value()
        phone.tap(button)
        phone.page.wait_for_function("q => { const i = document.querySelector('#answer input[name=question_id]');"
                                     " return i && i.value !== q; }", arg=first, timeout=30_000)
        in_place = phone.page.evaluate("window.__before_tap === true")
        api = phone.page.evaluate("document.querySelector('main').dataset.api")
        stored = phone.page.evaluate("async u => (await (await fetch(u)).json())", api) if api else {}
        return {"handled": "in place by chat.js" if in_place else "by the plain form (page load)",
                "script_ready_after_first_paint_ms": round(ready - shows) if shows and ready else None,
                "value": value, "step_after": stored.get("step"), "answers_stored": len(stored.get("answers", {}))}
    finally:
        phone.close()


def run() -> dict[str, Any]:
    from playwright.sync_api import sync_playwright
    OUT.mkdir(exist_ok=True)
    url = f"sqlite:///{OUT / 'phone.sqlite3'}"
    reset_database(url)
    server = ProcfileServer("phone", url)
    bare = Server("prg-floor", "prg_floor_app:app")  # the PRG floor's bare page, under gunicorn like the app
    result: dict[str, Any] = {"emulation": {"latency_ms": LATENCY_MS, "down_mbit_s": DOWN_BYTES_S * 8 / 1e6,
                                            "up_kbit_s": UP_BYTES_S * 8 / 1e3, "cpu_slowdown": CPU_SLOWDOWN,
                                            "reading_s": READING_S}}
    with servers(server, bare), sync_playwright() as playwright:
        base = f"http://localhost:{server.port}"  # localhost: a secure context, so the Secure cookies are kept
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROME_ARGS)
        try:
            probe = Phone(browser, base, True)
            probe.load("/")
            floor = probe.floor()[2:]  # the first two open the connection
            probe.close()
            result["floor_ms"] = round(statistics.median(floor), 1)
            for javascript in (True, False):
                name = "javascript" if javascript else "no_javascript"
                result[name] = conversation(browser, base, javascript)
                result[name]["floor_ratio"] = round(result[name]["median_ms"] / result["floor_ms"], 2)
                print(f"  {name}: median {result[name]['median_ms']} ms, worst {result[name]['worst_ms']} ms "
                      f"({result[name]['floor_ratio']}x the floor of {result['floor_ms']} ms)", flush=True)
            prg = prg_floor(browser, bare.url)
            prg["floor_ratio"] = round(prg["median_ms"] / result["floor_ms"], 2)
            result["prg_floor_ms"] = prg
            nojs = result["no_javascript"]
            nojs["prg_floor_ratio"] = round(nojs["median_ms"] / prg["median_ms"], 2)
            print(f"  PRG floor (bare page, no JS): median {prg['median_ms']} ms, worst {prg['worst_ms']} ms "
                  f"({prg['floor_ratio']}x the floor); the no-JS turn is {nojs['prg_floor_ratio']}x "
                  "it", flush=True)
            result["fast_tap"] = fast_tap(browser, base)
        finally:
            browser.close()
    (OUT / "phone.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
