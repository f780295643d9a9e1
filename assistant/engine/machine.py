"""The conversation state machine: one transitions.Machine per flow version, built once, shared by every turn.

States are the question ids plus the ends. After each answer the single event `answer` fires; its transitions are
tried in order: a stop the flow declares (e.g. not an adult), stop (an emergency red flag is now complete), then
every later question whose enableWhen holds, then `finished`. A turn attaches a small model carrying the answers, fires, and always detaches it.

Walking a whole path (to find which answers are on it) replays the same transitions without attaching a model at
every step: each source state keeps its outgoing transitions in the machine's order, with the same tests, and the
first whose tests hold is taken, exactly as the machine's `answer` event does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from transitions import EventData, Machine

from assistant.content.flows import Answers, Criterion, Flow, all_hold

FINISHED = "finished"
STOPPED = "stopped_emergency"
NOT_ADULT = "stopped_not_adult"
ENDS = (FINISHED, STOPPED, NOT_ADULT)
STOPS = (NOT_ADULT, STOPPED)  # ends reached early, when answers so far say the conversation cannot go on
EVENT = "answer"


class Turn:
    """The model attached to the machine for one turn."""

    def __init__(self, answers: Answers) -> None:
        self.answers = answers


class FlowMachine(Machine):
    """A flat Machine whose models get no `is_<state>` helpers: a Turn never asks, and attaching stays cheap."""

    def _add_model_to_state(self, state, model) -> None:  # transitions hook, called once per state on add_model
        pass


Test = Callable[[Answers], bool]


def _holds(criteria: tuple[Criterion, ...]) -> Test:
    return lambda answers: all_hold(criteria, answers)


def _any_holds(groups: list[tuple[Criterion, ...]]) -> Test:
    return lambda answers: any(all_hold(g, answers) for g in groups)


def _on_model(test: Test) -> Callable[[EventData], bool]:
    """The machine's condition for a test: the answers are those of the attached Turn."""
    return lambda event: test(event.model.answers)


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
        self.machine = FlowMachine(model=None, states=[q.id for q in flow.questions] + list(ENDS),
                                   transitions=self.transitions, initial=flow.start,
                                   auto_transitions=False, send_event=True)
        # the same transitions, per source in the machine's order, as (destination, test or None) for walks
        self._steps: dict[str, tuple[tuple[str, Test | None], ...]] = {}
        for t, test in zip(self.transitions, self._tests):
            self._steps[t["source"]] = self._steps.get(t["source"], ()) + ((t["dest"], test),)

    def _stop_groups(self) -> dict[str, list[tuple[str, tuple[Criterion, ...]]]]:
        """Declared stops, then emergency red flags, each filed under the last question it names: that is when it
        can first be decided. Values are (end state, criteria)."""
        groups: dict[str, list[tuple[str, tuple[Criterion, ...]]]] = {}
        stops = [(stop.status, stop.when) for stop in self.flow.stops]
        stops += [(STOPPED, flag.when) for flag in self.flow.red_flags if flag.urgency == "emergency"]
        for end, when in stops:
            # context answers (from the followed conversation) are known from the start: only asked ones count
            last = max((c.question for c in when if self.flow.has_question(c.question)), key=self.flow.position)
            groups.setdefault(last, []).append((end, when))
        return groups

    def _transitions(self) -> list[dict[str, Any]]:
        questions = self.flow.questions
        result: list[dict[str, Any]] = []
        tests: list[Test | None] = []

        def add(source: str, dest: str, test: Test | None) -> None:
            result.append({"trigger": EVENT, "source": source, "dest": dest,
                           "conditions": [_on_model(test)] if test else []})
            tests.append(test)

        for i, question in enumerate(questions):
            for end in STOPS:
                groups = [when for dest, when in self.stop_groups.get(question.id, ()) if dest == end]
                if groups:
                    add(question.id, end, _any_holds(groups))
            for later in questions[i + 1:]:
                add(question.id, later.id, _holds(later.enable_when) if later.enable_when else None)
                if not later.enable_when:
                    break  # an unconditional question always comes next: nothing after it can be reached directly
            else:
                add(question.id, FINISHED, None)
        self._tests = tests
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

    def _follow(self, state: str, answers: Answers) -> str:
        """next_state without attaching a model: the first transition from `state` whose test holds."""
        for dest, test in self._steps[state]:
            if test is None or test(answers):
                return dest
        return state  # as the machine: when no transition's conditions hold, the state does not change

    def walk(self, answers: Answers, until: str | None = None) -> Walk:
        """Follow the flow from the start with these answers; an unanswered question is passed over as absent.

        Only answers to questions on the way count: an answer left over from another path (a question this path
        skips) never steers it. Stops at `until` (not included) when given, else at an end.
        """
        state, visited, on_path = self.flow.start, [], self.context_of(answers)
        follow = self._follow
        while state not in ENDS and state != until:
            visited.append(state)
            if state in answers:
                on_path[state] = answers[state]
            state = follow(state, on_path)
        return Walk(tuple(visited), state)

    def path_answers(self, state: str, answers: Answers) -> Answers:
        """The answers that lead to `state`, in flow order (later answers are not on the path)."""
        visited = self.walk(answers, until=state).visited
        return {**self.context_of(answers), **{q: answers[q] for q in visited if q in answers}}

    def context_of(self, answers: Answers) -> Answers:
        """The answers given in the followed conversation that this flow's red flags look at (never asked here)."""
        return {q.id: answers[q.id] for q in self.flow.context if q.id in answers}

    def resume(self, answers: Answers) -> tuple[str, Answers]:
        """Where a conversation with these answers goes on: the first question on its path that has no answer (or
        the end it reaches), and the answers on the path before it. After an edit, answers that are still on the
        new path are kept rather than asked again."""
        state, on_path = self.flow.start, self.context_of(answers)
        follow = self._follow
        while state not in ENDS and state in answers:
            on_path[state] = answers[state]
            state = follow(state, on_path)
        return state, on_path

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
            elif dest == NOT_ADULT:
                label = "not an adult"
            else:
                question = self.flow.question(dest) if dest not in ENDS else None
                label = " and ".join(c.describe() for c in question.enable_when) if question else ""
            edges.append((t["source"], dest, label))
        return edges


class Engines:
    """Every flow version's engine, built once at start-up, and the flows' words in every language (`languages`,
    a translations.Languages: the engines run on ids, which no language changes)."""

    def __init__(self, flows: dict[tuple[str, int], Flow], languages: Any = None) -> None:
        self.languages = languages
        self._engines = {key: FlowEngine(flow) for key, flow in flows.items()}
        self._latest: dict[str, int] = {}
        for flow_id, version in self._engines:
            self._latest[flow_id] = max(version, self._latest.get(flow_id, 0))

    def get(self, flow_id: str, version: int | None = None) -> FlowEngine | None:
        if version is None:
            version = self._latest.get(flow_id)
        return self._engines.get((flow_id, version)) if version else None

    def follower(self, flow_id: str) -> FlowEngine | None:
        """The newest version of the flow that follows `flow_id` (its daily check-in), if any."""
        followers = [engine for engine in self._engines.values() if engine.flow.follows == flow_id]
        return max(followers, key=lambda engine: (engine.flow.id, engine.flow.version), default=None)

    def latest(self) -> list[FlowEngine]:
        return [self._engines[(flow_id, version)] for flow_id, version in sorted(self._latest.items())]

    def all(self) -> list[FlowEngine]:
        """Every served version of every flow, by flow id then version."""
        return [self._engines[key] for key in sorted(self._engines)]
