"""The person's country, guessed from the browser's language (en-GB, en-US ...), and the numbers that go with it.

Emergency numbers and services follow the country, never the language. 112 works from most mobile phones.
"""
from __future__ import annotations

from typing import Iterable

EMERGENCY_NUMBERS = {"GB": "999", "IE": "999", "US": "911", "CA": "911", "MX": "911"}
DEFAULT_EMERGENCY_NUMBER = "112"

# The first thing to do when a doctor is needed today (not an emergency): the national advice line where there is one.
SAME_DAY_ACTIONS = {
    "GB": {"label": "Call NHS 111", "href": "tel:111"},
    "CA": {"label": "Call 811 (health advice line)", "href": "tel:811"},
    "AU": {"label": "Call healthdirect: 1800 022 222", "href": "tel:1800022222"},
    "NZ": {"label": "Call Healthline: 0800 611 116", "href": "tel:0800611116"},
}
DEFAULT_SAME_DAY_ACTION = {"label": "Call your doctor's office now", "href": "#what-to-do"}
# The labels in other languages come from the flow's translation file (`phrases`, like the result's own sentences).
PHRASES = tuple(action["label"] for action in (*SAME_DAY_ACTIONS.values(), DEFAULT_SAME_DAY_ACTION))


def region_of(languages: Iterable[tuple[str, float]]) -> str:
    """The region of the first language tag that names one (en-GB -> GB), else ''."""
    for language, _quality in languages:
        parts = language.replace("_", "-").split("-")
        if len(parts) > 1 and len(parts[1]) == 2:
            return parts[1].upper()
    return ""


def emergency_number(region: str) -> str:
    return EMERGENCY_NUMBERS.get(region, DEFAULT_EMERGENCY_NUMBER)


def same_day_action(region: str) -> dict[str, str]:
    return dict(SAME_DAY_ACTIONS.get(region, DEFAULT_SAME_DAY_ACTION))
