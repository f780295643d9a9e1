"""What an edit changed: the result before a changed answer against the result after it, in a few plain lines.

Pure: `moves` compares two Result dicts into `[{"kind": "up"|"down"|"new"|"gone"|"urgency", "id", "was", "now"}]`
(places on the list, or urgency levels); `described` adds the `text` of shared/spec/api.md in the flow's language.
Kept apart so a result read later in another language says the same thing in that language.
"""
from __future__ import annotations

from typing import Any, Callable

from assistant.content.flows import Flow

WATCHED = 8  # places on the list that count: a move far down the list is not news
MOST_LINES = 6
TEXTS = {  # English templates; a translation file's `phrases` gives the same sentence in its language
    "urgency": "What to do changed: it is now “{now}” (it was “{was}”).",
    "new": "{name} is now on your list.",
    "gone": "{name} is no longer on your list.",
    "up": "{name} moved up, from {was_place} to {now_place}.",
    "down": "{name} moved down, from {was_place} to {now_place}.",
}


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _places(result: dict[str, Any]) -> dict[str, int]:
    return {c["id"]: place for place, c in enumerate(result.get("conditions", []), 1)}


def _urgency(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    if before.get("urgency") == after.get("urgency"):
        return []
    return [{"kind": "urgency", "id": after.get("urgency", ""), "was": before.get("urgency", ""),
             "now": after.get("urgency", "")}]


def _conditions(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """New and gone first; then moves. A condition only "moves" when it passed another that is on both lists (not
    merely because conditions above it came or went) and its place changed the same way."""
    was, now = _places(before), _places(after)
    watched = [cid for cid in now if now[cid] <= WATCHED or was.get(cid, WATCHED + 1) <= WATCHED]
    both = [cid for cid in now if cid in was]
    old_order = sorted(both, key=was.get)
    lines = [{"kind": "new", "id": cid, "was": None, "now": now[cid]} for cid in watched if cid not in was]
    lines += [{"kind": "gone", "id": cid, "was": place, "now": None}
              for cid, place in was.items() if cid not in now and place <= WATCHED]
    for kind, moved in (("up", lambda i, cid: i < old_order.index(cid) and now[cid] < was[cid]),
                        ("down", lambda i, cid: i > old_order.index(cid) and now[cid] > was[cid])):
        lines += [{"kind": kind, "id": cid, "was": was[cid], "now": now[cid]}
                  for i, cid in enumerate(both) if cid in watched and moved(i, cid)]
    return lines


def moves(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """The urgency first (it matters most), then conditions new, gone, up and down; at most a few lines."""
    return (_urgency(before, after) + _conditions(before, after))[:MOST_LINES]


def described(items: list[dict[str, Any]], flow: Flow, phrase: Callable[[str], str]) -> list[dict[str, Any]]:
    """The moves with their `text`, in the words of `flow` (and `phrase` for the sentence around them)."""
    names = {card.id: card.name for card in flow.conditions}
    titles = {level: advice.title for level, advice in flow.levels.items()}
    out = []
    for item in items:
        if item["kind"] == "urgency":
            values = {"now": titles.get(item["now"], item["now"]), "was": titles.get(item["was"], item["was"])}
        else:
            values = {"name": names.get(item["id"], item["id"]),
                      "was_place": ordinal(item["was"]) if item["was"] else "", "was": item["was"],
                      "now_place": ordinal(item["now"]) if item["now"] else "", "now": item["now"]}
        out.append({**item, "text": phrase(TEXTS[item["kind"]]).format(**values)})
    return out
