"""The result page taken in at a glance: what to do, one line per condition, one short test list, words not numbers."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import render_template

from assistant.content.wording import NOT_A_CHANCE, match, same_test_keys, short_test_list

from .conftest import WIDESPREAD_PAIN
from .test_chat import Chat, fake_result

OLDER_SHOULDERS = dict(WIDESPREAD_PAIN, age_band="65_plus", pain_locations=["shoulders", "hips", "neck"],
                       pain_character=["stiffness", "deep_ache"], duration="6_weeks_to_3_months", onset="over_days",
                       morning_stiffness="over_60_min", time_pattern="worse_morning",
                       exertion_response="eases_with_movement", triggers=["none"], associated=["none"])
WORDS_BEFORE_SHOW_MORE = 600


class VisibleText(HTMLParser):
    """The words a person sees before opening anything: text outside closed <details> (their <summary> counts)."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self.stack: list[str] = []  # "open" | "closed" per <details>, "summary" inside one
        self.skip = 0

    def hidden(self) -> bool:
        inside = [s for s in self.stack if s != "summary"]
        return bool(inside and "closed" in inside and self.stack[-1] != "summary")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Any]]) -> None:
        if tag == "details":
            self.stack.append("open" if any(name == "open" for name, _ in attrs) else "closed")
        elif tag == "summary":
            self.stack.append("summary")
        elif tag in ("script", "style", "title"):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("details", "summary") and self.stack:
            self.stack.pop()
        elif tag in ("script", "style", "title"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip and not self.hidden():
            self.words += data.split()


def visible_words(html: str) -> list[str]:
    main = html[html.index("<main"):html.index("</main>")]
    parser = VisibleText()
    parser.feed(main)
    return parser.words


@pytest.mark.parametrize("story", [WIDESPREAD_PAIN, OLDER_SHOULDERS], ids=["widespread", "older-shoulders"])
def test_the_result_reads_in_under_600_words_before_show_more(client, story):
    person = Chat(client).through(story)
    words = visible_words(person.html)
    print(f"visible words before any 'show more': {len(words)}")
    assert len(words) <= WORDS_BEFORE_SHOW_MORE, len(words)
    text = " ".join(words)
    assert text.index("what to do") < text.index("Share with your doctor") < text.index("Conditions to talk about")


def test_each_condition_is_one_line_that_opens_in_place(client):
    person = Chat(client).through(WIDESPREAD_PAIN)
    result = person.client.get(f"/api/v1/conversations/{person.id}/result").get_json()
    rows = re.findall(r'<details class="condition" id="c-([a-z0-9_]+)">\s*<summary>\s*<h3>([^<]+)</h3>\s*'
                      r'<span class="match match-(\w+)">([^<]+)</span>\s*<span class="key">([^<]+)</span>',
                      person.html)
    shown = result["conditions"][:result["shown_by_default"]]
    assert [r[0] for r in rows[:len(shown)]] == [c["id"] for c in shown]
    for (_, name, level, words, key), condition in zip(rows, shown):
        assert level == match(condition["fit"]).level
        assert words == f"{match(condition['fit']).words} with your answers"
        assert key.replace("&#39;", "'") == condition["because"][0]
    assert NOT_A_CHANCE in person.html.replace("&#39;", "'")
    assert "%" not in re.sub(r"<style.*?</style>", "", person.html), "no percentage anywhere"


def test_the_reason_shown_first_is_the_heaviest(client):
    result = client.post("/api/v1/assess", json={"answers": WIDESPREAD_PAIN}).get_json()
    fibromyalgia = next(c for c in result["conditions"] if c["id"] == "fibromyalgia")
    assert fibromyalgia["because"][0].startswith("You said the pain is everywhere")  # weight 4, the heaviest


def test_match_words_never_a_number():
    assert [match(f).words for f in (1.0, 0.66, 0.65, 0.33, 0.32, 0.0)] == \
        ["Strong match", "Strong match", "Some match", "Some match", "Weak match", "Weak match"]


def test_tests_to_ask_are_one_short_list_without_repeats():
    conditions = [{"tests_to_discuss": ["Inflammation markers (ESR and CRP)", "A full blood count and a thyroid test",
                                        "An ultrasound scan of the shoulders"]},
                  {"tests_to_discuss": ["Inflammation markers (ESR, CRP), which repeat the first line",
                                        "Rheumatoid factor (RF) and anti-CCP antibodies"]},
                  {"tests_to_discuss": ["A vitamin D blood test", "Lying and standing blood pressure"]},
                  {"tests_to_discuss": ["Never reached: only the top three count"]}]
    assert short_test_list(conditions) == [
        "Inflammation markers (ESR and CRP)", "A vitamin D blood test", "A full blood count and a thyroid test",
        "Rheumatoid factor (RF) and anti-CCP antibodies", "Lying and standing blood pressure",
        "An ultrasound scan of the shoulders"]
    assert same_test_keys("A thyroid test (TSH) and a muscle enzyme test (CK)") == {"TSH", "CK"}


def test_the_page_lists_at_most_six_tests(client):
    person = Chat(client).through(OLDER_SHOULDERS)
    tests = re.search(r'<ul class="tests">(.*?)</ul>', person.html, re.S).group(1)
    assert 3 <= tests.count("<li>") <= 6
    assert "Tests to ask about" not in person.html  # the lists per condition are on the clinician's pages


def test_a_routine_result_says_when_and_what_to_do(client):
    person = Chat(client).through(WIDESPREAD_PAIN)
    assert 'class="panel u-routine"' in person.html
    assert re.search(r"Next step:</strong> Book to see your GP or family doctor in the next 2 to 4 weeks", person.html)


def render(app, result: dict[str, Any]) -> str:
    with app.test_request_context("/chat/result"):
        return render_template("result.html", conversation={"id": "x"}, result=result, turns=[], number="112",
                               shown=result["conditions"][:8], more=result["conditions"][8:])


def test_safety_net_and_changes_show_when_the_result_has_them(app):
    plain = render(app, fake_result(3))
    assert "safety-net" not in plain and "What your change did" not in plain
    result = dict(fake_result(3), safety_net={"title": "Get help sooner if", "text": "It could not examine you.",
                                              "signs": ["You get a fever."]},
                  changes=[{"kind": "up", "id": "c1", "text": "Condition 1 moved up."}])
    page = render(app, result)
    assert page.index("u-same_day") < page.index("What your change did") < page.index("Conditions to talk about") \
        < page.index("Get help sooner if")  # the safety net follows the list, which starts on the first screen
    assert "<li>You get a fever.</li>" in page and '<li class="change-up">Condition 1 moved up.</li>' in page


def test_start_over_and_delete_ask_first(client):
    person = Chat(client).through(WIDESPREAD_PAIN)
    for label, action, button in (("Start over", "/start", "Yes, delete and start over"),
                                  ("Delete my answers", "/chat/delete", "Yes, delete my answers")):
        confirm = re.search(rf'<details class="confirm">\s*<summary class="btn \w+">{label}</summary>(.*?)</details>',
                            person.html, re.S)
        assert confirm, label
        assert f'action="{action}"' in confirm.group(1) and button in confirm.group(1)
        assert "will be deleted" in confirm.group(1) and 'name="confirmed" value="1"' in confirm.group(1)
    assert person.html.count('action="/start"') == 1 and person.html.count('action="/chat/delete"') == 1
