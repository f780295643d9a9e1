"""What an edit changed: the result before a changed answer against the result after it, in a few plain lines.

Pure: two Result dicts in, `[{"kind": "up"|"down"|"new"|"gone"|"urgency", "id", "text"}]` out (shared/spec/api.md).
"""
from __future__ import annotations

from typing import Any

WATCHED = 8  # places on the list that count: a move far down the list is not news
MOST_LINES = 6


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _urgency(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, str]]:
    if before.get("urgency") == after.get("urgency") and before.get("status") == after.get("status"):
        return []
    title = (after.get("advice") or {}).get("title") or after.get("urgency", "")
    was = (before.get("advice") or {}).get("title") or before.get("urgency", "")
    return [{"kind": "urgency", "id": after.get("urgency", ""),
             "text": f"What to do changed: it is now “{title}” (it was “{was}”)."}]


def _places(result: dict[str, Any]) -> dict[str, int]:
    return {c["id"]: place for place, c in enumerate(result.get("conditions", []), 1)}


def _conditions(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, str]]:
    """New and gone first; then moves. A condition only "moves" when it passed another that is on both lists (not
    merely because conditions above it came or went) and its place changed the same way."""
    was, now = _places(before), _places(after)
    names = {c["id"]: c["name"] for c in before.get("conditions", []) + after.get("conditions", [])}
    watched = [cid for cid in now if now[cid] <= WATCHED or was.get(cid, WATCHED + 1) <= WATCHED]
    both = [cid for cid in now if cid in was]
    old_order = sorted(both, key=was.get)
    lines = [{"kind": "new", "id": cid, "text": f"{names[cid]} is now on your list."}
             for cid in watched if cid not in was]
    lines += [{"kind": "gone", "id": cid, "text": f"{names[cid]} is no longer on your list."}
              for cid, place in was.items() if cid not in now and place <= WATCHED]
    for kind, moved in (("up", lambda i, cid: i < old_order.index(cid) and now[cid] < was[cid]),
                        ("down", lambda i, cid: i > old_order.index(cid) and now[cid] > was[cid])):
        lines += [{"kind": kind, "id": cid,
                   "text": f"{names[cid]} moved {kind}, from {_ordinal(was[cid])} to {_ordinal(now[cid])}."}
                  for i, cid in enumerate(both) if cid in watched and moved(i, cid)]
    return lines


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, str]]:
    """The urgency first (it matters most), then conditions new, gone, up and down; at most a few lines."""
    return (_urgency(before, after) + _conditions(before, after))[:MOST_LINES]
