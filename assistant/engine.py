"""The conversation state machine: one transitions.Machine per flow version, built once, shared by every turn.

States are the question ids plus two ends. After each answer the single event `answer` fires; its transitions are
tried in order: stop (an emergency red flag is now complete), then every later question whose enableWhen holds,
then `finished`. A turn attaches a small model carrying the answers, fires, and always detaches it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from transitions import EventData, Machine

from .flows import Answers, Criterion, Flow, all_hold

FINISHED = "finished"
STOPPED = "stopped_emergency"
ENDS = (FINISHED, STOPPED)
EVENT = "answer"


class Turn:
    """The model attached to the machine for one turn."""

    def __init__(self, answers: Answers) -> None:
        self.answers = answers


def _holds(criteria: tuple[Criterion, ...]) -> Callable[[EventData], bool]:
    return lambda event: all_hold(criteria, event.model.answers)


def _any_holds(groups: list[tuple[Criterion, ...]]) -> Callable[[EventData], bool]:
    return lambda event: any(all_hold(g, event.model.answers) for g in groups)


@dataclass(frozen=True)
class Walk:
    """Where a set of answers leads when every question is taken in turn."""
    visited: tuple[str, ...]
    end: str


class FlowEngine:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.stop_groups = self._stop_groups()
        self.transitions = self._transitions()
        self.machine = Machine(model=None, states=[q.id for q in flow.questions] + list(ENDS),
                               transitions=self.transitions, initial=flow.start,
                               auto_transitions=False, send_event=True)

    def _stop_groups(self) -> dict[str, list[tuple[Criterion, ...]]]:
        """Emergency red flags, filed under the last question they name: that is when they can first be decided."""
        groups: dict[str, list[tuple[Criterion, ...]]] = {}
        for flag in self.flow.red_flags:
            if flag.urgency == "emergency":
                last = max((c.question for c in flag.when), key=self.flow.position)
                groups.setdefault(last, []).append(flag.when)
        return groups

    def _transitions(self) -> list[dict[str, Any]]:
        questions = self.flow.questions
        result = []
        for i, question in enumerate(questions):
            if question.id in self.stop_groups:
                result.append({"trigger": EVENT, "source": question.id, "dest": STOPPED,
                               "conditions": [_any_holds(self.stop_groups[question.id])]})
            for later in questions[i + 1:]:
                result.append({"trigger": EVENT, "source": question.id, "dest": later.id,
                               "conditions": [_holds(later.enable_when)] if later.enable_when else []})
                if not later.enable_when:
                    break  # an unconditional question always comes next: nothing after it can be reached directly
            else:
                result.append({"trigger": EVENT, "source": question.id, "dest": FINISHED})
        return result

    def next_state(self, state: str, answers: Answers) -> str:
        """The state that follows `state` once it has been answered."""
        turn = Turn(answers)
        self.machine.add_model(turn, initial=state)
        try:
            self.machine.events[EVENT].trigger(turn)
            return turn.state
        finally:
            self.machine.remove_model(turn)

    def walk(self, answers: Answers, until: str | None = None) -> Walk:
        """Follow the flow from the start with these answers; an unanswered question is passed over as absent.

        Stops at `until` (not included) when given, else at an end.
        """
        state, visited = self.flow.start, []
        while state not in ENDS and state != until:
            visited.append(state)
            state = self.next_state(state, answers)
        return Walk(tuple(visited), state)

    def path_answers(self, state: str, answers: Answers) -> Answers:
        """The answers that lead to `state`, in flow order (later answers are not on the path)."""
        visited = self.walk(answers, until=state).visited
        return {q: answers[q] for q in visited if q in answers}

    def remaining(self, state: str, answers: Answers) -> int:
        """How many questions are still likely to be asked from `state`, assuming no emergency stop."""
        if state in ENDS:
            return 0
        start = self.flow.position(state)
        return sum(1 for q in self.flow.questions[start:] if all_hold(q.enable_when, answers)
                   or any(c.question not in answers for c in q.enable_when))

    def edges(self) -> list[tuple[str, str, str]]:
        """(source, destination, label) for every transition: used by `flows check` and `flows diagram`."""
        edges = []
        for t in self.transitions:
            dest = t["dest"]
            if dest == STOPPED:
                label = "emergency red flag"
            else:
                question = self.flow.question(dest) if dest not in ENDS else None
                label = " and ".join(c.describe() for c in question.enable_when) if question else ""
            edges.append((t["source"], dest, label))
        return edges


class Engines:
    """Every flow version's engine, built once at start-up."""

    def __init__(self, flows: dict[tuple[str, int], Flow]) -> None:
        self._engines = {key: FlowEngine(flow) for key, flow in flows.items()}
        self._latest: dict[str, int] = {}
        for flow_id, version in self._engines:
            self._latest[flow_id] = max(version, self._latest.get(flow_id, 0))

    def get(self, flow_id: str, version: int | None = None) -> FlowEngine | None:
        if version is None:
            version = self._latest.get(flow_id)
        return self._engines.get((flow_id, version)) if version else None

    def latest(self) -> list[FlowEngine]:
        return [self._engines[(flow_id, version)] for flow_id, version in sorted(self._latest.items())]
