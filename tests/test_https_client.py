"""The test client's browser rules (tests/https_client.py) against the examples of the Referrer Policy and Fetch specs:
if the emulation drifted, the HTML tests would pass for the wrong reason."""
from __future__ import annotations

import pytest

from .https_client import origin_header, page_policy, referer

PAGE = "https://app.example/share?x=1#top"
SAME = "https://app.example/share"
OTHER = "https://other.example/"
PLAIN = "http://app.example/share"


@pytest.mark.parametrize("policy, target, expected", [
    ("no-referrer", SAME, None),
    ("same-origin", SAME, "https://app.example/share?x=1"),
    ("same-origin", OTHER, None),
    ("strict-origin-when-cross-origin", SAME, "https://app.example/share?x=1"),
    ("strict-origin-when-cross-origin", OTHER, "https://app.example/"),
    ("strict-origin-when-cross-origin", PLAIN, None),
    ("origin", SAME, "https://app.example/"),
    ("no-referrer-when-downgrade", PLAIN, None),
    ("unsafe-url", PLAIN, "https://app.example/share?x=1"),
])
def test_referer_follows_the_policy(policy, target, expected):
    assert referer(PAGE, policy, target) == expected


@pytest.mark.parametrize("policy, target, expected", [
    ("no-referrer", SAME, "null"),
    ("same-origin", SAME, "https://app.example"),
    ("same-origin", OTHER, "null"),
    ("strict-origin-when-cross-origin", OTHER, "https://app.example"),
    ("strict-origin-when-cross-origin", PLAIN, "null"),
])
def test_origin_of_a_post_follows_the_policy(policy, target, expected):
    assert origin_header(PAGE, policy, target) == expected


def test_the_meta_tag_wins_over_the_header_and_the_last_valid_token_counts():
    assert page_policy("same-origin", '<meta name="referrer" content="no-referrer">') == "no-referrer"
    assert page_policy("no-referrer, same-origin, bogus", "") == "same-origin"
    assert page_policy(None, "<p>no policy</p>") == "strict-origin-when-cross-origin"
