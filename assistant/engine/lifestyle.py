"""Pick the lifestyle cards that match the ranked conditions; keep the cautions that are true for this person, and put
the ones that apply to them first."""
from __future__ import annotations

from dataclasses import dataclass

from assistant.engine.conditions import RankedCondition
from assistant.content.flows import Answers, Caution, Flow, LifestyleCard, all_hold


@dataclass(frozen=True)
class PickedCard:
    card: LifestyleCard
    for_conditions: tuple[str, ...]
    cautions: tuple[Caution, ...]
    relevant_cautions: int


def _ordered_cautions(card: LifestyleCard, answers: Answers) -> tuple[tuple[Caution, ...], int]:
    """The cautions this person sees: a personal one (`only_when`) only when it holds; those that apply to them
    first, then the general ones."""
    shown = [c for c in card.cautions if c.shown(answers)]
    relevant = [c for c in shown if c.for_you(answers)]
    rest = [c for c in shown if c not in relevant]
    return tuple(relevant + rest), len(relevant)


def pick(flow: Flow, ranked: list[RankedCondition], answers: Answers) -> list[PickedCard]:
    rank_of = {r.card.id: i for i, r in enumerate(ranked)}
    never = len(flow.conditions) + 1
    chosen = []
    for place, card in enumerate(flow.lifestyle):
        fitting = sorted((c for c in card.for_conditions if c in rank_of), key=rank_of.get)
        direct = bool(card.also_when) and all_hold(card.also_when, answers)
        if not fitting and not direct:
            continue
        best = rank_of[fitting[0]] if fitting else never
        cautions, relevant = _ordered_cautions(card, answers)
        chosen.append(((best, -len(fitting), place), PickedCard(card, tuple(fitting), cautions, relevant)))
    return [picked for _, picked in sorted(chosen, key=lambda item: item[0])]
