"""Assemble the Result (shared/spec/api.md) from a flow and a set of answers. Pure: no Flask, no database."""
from __future__ import annotations

from typing import Any

from assistant.engine import conditions, lifestyle, triage
from assistant.engine.machine import FINISHED, STOPPED, FlowEngine
from assistant.content.flows import Answers, Flow, RedFlag, Source, Stop, all_hold

SHOWN_BY_DEFAULT = 8
LIFESTYLE_FROM_TOP = 3  # lifestyle areas follow the conditions most worth discussing, not every weak match


def _sources(sources: tuple[Source, ...]) -> list[dict[str, str]]:
    return [{"title": s.title, "url": s.url} for s in sources]


def _condition(r: conditions.RankedCondition) -> dict[str, Any]:
    card = r.card
    return {"id": card.id, "name": card.name, "fit": r.fit, "score": r.score, "summary": card.summary,
            "note": card.note, "because": list(r.because), "doesnt_fit": list(r.doesnt_fit),
            "tests_to_discuss": list(card.tests_to_discuss), "sources": _sources(card.sources),
            "lifestyle": list(card.lifestyle)}


def _lifestyle(p: lifestyle.PickedCard) -> dict[str, Any]:
    card = p.card
    return {"id": card.id, "title": card.title, "why": card.why, "how": card.how,
            "cautions": [c.text for c in p.cautions], "cautions_for_you": p.relevant_cautions,
            "for_conditions": list(p.for_conditions), "sources": _sources(card.sources)}


def _flag(flag: RedFlag) -> dict[str, Any]:
    return {"id": flag.id, "text": flag.text, "urgency": flag.urgency, "condition": flag.condition,
            "derived": flag.derived, "sources": _sources(flag.sources)}


def safety_net(flow: Flow, answers: Answers) -> dict[str, Any] | None:
    """What the check could not do, and the signs that should make this person get help the same day."""
    net = flow.safety_net
    if net is None:
        return None
    return {"title": net.title, "text": net.text,
            "signs": [s.text for s in net.signs if not s.when or all_hold(s.when, answers)]}


def _stopped(flow: Flow, stop: Stop, ignored: list[str] | None) -> dict[str, Any]:
    """A conversation that ended early by the flow's own rule (e.g. not an adult): its message and nothing else."""
    return {
        "flow": {"id": flow.id, "version": flow.version},
        "language": flow.language,
        "status": stop.status,
        "urgency": "routine",
        "advice": {"title": stop.title, "text": stop.text},
        "get_help": list(stop.get_help),
        "red_flags": [],
        "conditions": [],
        "shown_by_default": SHOWN_BY_DEFAULT,
        "lifestyle": [],
        "safety_net": None,
        "disclaimer": flow.disclaimer,
        "ignored": sorted(ignored or []),
    }


def build(flow: Flow, answers: Answers, ignored: list[str] | None = None) -> dict[str, Any]:
    """The result for answers that are already on the flow's path."""
    stop = flow.stop_for(answers)
    if stop is not None:
        return _stopped(flow, stop, ignored)
    flags = triage.raised_flags(flow, answers)
    urgency = triage.urgency(flags)
    ranked = [] if urgency == "emergency" else conditions.rank(flow, answers, triage.linked_conditions(flags))
    picked = lifestyle.pick(flow, ranked[:LIFESTYLE_FROM_TOP], answers) if ranked else []
    level = flow.levels.get(urgency)
    return {
        "flow": {"id": flow.id, "version": flow.version},
        "language": flow.language,
        "status": STOPPED if urgency == "emergency" else FINISHED,
        "urgency": urgency,
        "advice": {"title": level.title, "text": level.advice} if level else None,
        "red_flags": [_flag(f) for f in flags],
        "conditions": [_condition(r) for r in ranked],
        "shown_by_default": SHOWN_BY_DEFAULT,
        "lifestyle": [_lifestyle(p) for p in picked],
        "safety_net": None if urgency == "emergency" else safety_net(flow, answers),
        "disclaimer": flow.disclaimer,
        "ignored": sorted(ignored or []),
    }


def assess(engine: FlowEngine, answers: Answers, flow: Flow | None = None) -> dict[str, Any]:
    """Stateless assessment: answers the flow would not have asked are set aside and listed as ignored.
    `flow` is the engine's flow in the words to answer in (by default the engine's own)."""
    walk = engine.walk(answers)
    used = {q: answers[q] for q in walk.visited if q in answers}
    return build(flow or engine.flow, used, [q for q in answers if q not in used])

