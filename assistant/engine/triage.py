"""Red flags: which hold for these answers, and the urgency they add up to."""
from __future__ import annotations

from assistant.content.flows import URGENCY_LEVELS, Answers, Flow, RedFlag, all_hold


def raised_flags(flow: Flow, answers: Answers) -> list[RedFlag]:
    """Flags that hold, most urgent first (file order within a level)."""
    raised = [f for f in flow.red_flags if all_hold(f.when, answers)]
    return sorted(raised, key=lambda f: -URGENCY_LEVELS.index(f.urgency))


def urgency(flags: list[RedFlag]) -> str:
    return max((f.urgency for f in flags), key=URGENCY_LEVELS.index, default="routine")


def linked_conditions(flags: list[RedFlag]) -> tuple[str, ...]:
    """Conditions that a same-day (or more urgent) flag names: the result lists them first, so that the card, the
    flag and the banner agree."""
    urgent = URGENCY_LEVELS.index("same_day")
    return tuple(dict.fromkeys(f.condition for f in flags
                               if f.condition and URGENCY_LEVELS.index(f.urgency) >= urgent))
