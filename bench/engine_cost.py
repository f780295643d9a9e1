"""Engine cost of one turn, without HTTP and without a database, and proof that no Machine is built per turn.

"One turn" is the engine work that Service.answer does for one answer, in the same calls:
  path_answers(state, latest)           the answers on the path to the current question
  next_state(question, answers)         the machine fires `answer` (attach a model, trigger, detach)
  results.build(flow, answers)          only on the last turn (the result is stored with it)
  path_answers(next, latest) + remaining(next, path)   what the reply shows (answers, suggestions, progress)
It is timed over whole conversations of the three bench people (so the average includes the final turn with its
result) with timeit, best of several repeats. Also timed: next_state alone, and the walk of a whole path.

Proof of "no Machine per turn": transitions.Machine.__init__ is counted while every turn runs, the machine's model
list is checked to be empty afterwards, and the Machine objects alive in the process are counted.
"""
from __future__ import annotations

import gc
import json
import timeit
from typing import Any

import transitions

from common import OUT
from load import flow_engine, profile_paths


def conversation_turns() -> list[tuple[str, dict, str, tuple[str, ...]]]:
    """(state, answers so far, question, values) for every turn of the bench people's conversations."""
    from assistant.content.flows import as_values
    turns = []
    for path in profile_paths():
        latest: dict[str, tuple[str, ...]] = {}
        for question_id, value in path:
            turns.append((question_id, dict(latest), question_id, as_values(value)))
            latest[question_id] = as_values(value)
    return turns


def engine_turn(engine, state: str, latest: dict, question_id: str, values: tuple[str, ...]) -> str:
    from assistant.engine import results
    from assistant.engine.machine import ENDS
    answers = engine.path_answers(state, latest)
    answers[question_id] = values
    next_state = engine.next_state(question_id, answers)
    if next_state in ENDS:
        results.build(engine.flow, answers)
    latest = {**latest, question_id: values}
    shown = engine.path_answers(next_state, latest)
    engine.remaining(next_state, shown)
    return next_state


def random_answers(flow, rng) -> dict[str, tuple[str, ...]]:
    """A random person: most questions answered (choice: one value, multi: one to three), some left out."""
    answers = {}
    for question in flow.questions:
        if rng.random() < 0.85:
            values = list(question.values)
            answers[question.id] = ((rng.choice(values),) if question.type == "choice"
                                    else tuple(rng.sample(values, rng.randint(1, min(3, len(values))))))
    return answers


def walks_agree(engine, count: int = 2000, seed: int = 7) -> tuple[int, int]:
    """The walk against the machine fired at every step (attach, trigger, detach), for random answer sets."""
    import random

    from assistant.engine.machine import ENDS
    rng = random.Random(seed)
    differing = 0
    for _ in range(count):
        answers = random_answers(engine.flow, rng)
        until = rng.choice([None] + [q.id for q in engine.flow.questions])
        state, visited = engine.flow.start, []
        while state not in ENDS and state != until and len(visited) <= len(engine.flow.questions):
            visited.append(state)
            state = engine.next_state(state, answers)
        walk = engine.walk(answers, until)
        differing += (tuple(visited), state) != (walk.visited, walk.end)
    return count, differing


def best_per_call(function, calls: int, repeat: int = 7) -> float:
    """Seconds per call: the best of `repeat` runs (the least disturbed by other work on the machine)."""
    return min(timeit.repeat(function, number=1, repeat=repeat)) / calls


def run(repeat: int = 7) -> dict[str, Any]:
    from assistant.engine import results
    from assistant.engine.machine import ENDS
    engine = flow_engine()
    turns = conversation_turns()

    def all_turns() -> None:
        for state, latest, question_id, values in turns:
            engine_turn(engine, state, latest, question_id, values)

    def only_fire() -> None:
        for state, latest, question_id, values in turns:
            engine.next_state(question_id, {**latest, question_id: values})

    full_answers = [dict(latest, **{q: v}) for (_, latest, q, v) in turns if q == "history"]

    def walks() -> None:
        for answers in full_answers:
            engine.walk(answers)

    def results_only() -> None:
        for answers in full_answers:
            results.build(engine.flow, answers)

    # count Machine constructions while every turn runs
    built = {"machines": 0}
    original_init = transitions.Machine.__init__

    def counting_init(self, *args, **kwargs):
        built["machines"] += 1
        original_init(self, *args, **kwargs)

    transitions.Machine.__init__ = counting_init
    try:
        all_turns()
        checked_turns = len(turns)
        for _ in range(200):  # 200 more conversations' worth of turns
            all_turns()
        checked_turns += 200 * len(turns)
    finally:
        transitions.Machine.__init__ = original_init
    gc.collect()
    alive = sum(1 for o in gc.get_objects() if isinstance(o, transitions.Machine))
    walks_checked, walks_differing = walks_agree(engine)

    per_turn = best_per_call(all_turns, len(turns), repeat)
    ends = sum(1 for (_, latest, q, v) in turns
               if engine.next_state(q, engine.path_answers(q, latest) | {q: v}) in ENDS)
    summary = {
        "turns_per_pass": len(turns),
        "conversations_per_pass": len(profile_paths()),
        "engine_turn_ms": per_turn * 1000,
        "next_state_ms": best_per_call(only_fire, len(turns), repeat) * 1000,
        "walk_whole_path_ms": best_per_call(walks, len(full_answers), repeat) * 1000,
        "result_build_ms": best_per_call(results_only, len(full_answers), repeat) * 1000,
        "final_turns_per_pass": ends,
        "machines_built_during_turns": built["machines"],
        "turns_checked": checked_turns,
        "models_left_attached": len(engine.machine.models),
        "machines_alive": alive,
        "walks_checked": walks_checked,
        "walks_differing": walks_differing,
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "engine.json").write_text(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
