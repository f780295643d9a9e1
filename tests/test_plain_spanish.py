"""Plain Spanish, measured: the flow's Spanish content read with textstat's Fernández-Huerta score (set_lang("es")),
the Spanish counterpart of test_plain_words.py. Each kind of text is measured as a whole, as a reader meets it across
the flow: questions, help, options, reasons and advice at 70 or more ("fairly easy"), the cards (summaries, tests,
lifestyle cards and their cautions) at 60 or more ("normal"). test-output/plain-spanish.txt lists every kind's score
and its hardest strings, for whoever rewrites them."""
from __future__ import annotations

import pytest
from textstat.textstat import textstatistics

from assistant.config import PROJECT_ROOT
from assistant.content.translations import Languages

from .test_plain_words import FLOWS, Text, flow_texts

EASY, NORMAL = 70, 60
LIMITS = {"question": EASY, "help": EASY, "options": EASY, "reason": EASY, "advice": EASY,
          "summary": NORMAL, "tests": NORMAL, "lifestyle": NORMAL, "caution": NORMAL}
REPORT = PROJECT_ROOT / "test-output" / "plain-spanish.txt"
HARDEST = 5
REPORT.unlink(missing_ok=True)  # a fresh report each run

spanish = textstatistics()  # its own instance: the English tests keep textstat's default language
spanish.set_lang("es")

LANGUAGES = Languages(FLOWS, PROJECT_ROOT / "flows")
CONTENT = {kind: [t for flow in FLOWS.values() for t in flow_texts(LANGUAGES.flow(flow, "es")) if t.kind == kind]
           for kind in LIMITS}


def as_read(texts: list[Text]) -> str:
    """A kind's strings one after another, each ending a sentence (a label has no full stop of its own)."""
    return " ".join(t.text if t.text.rstrip()[-1:] in ".?!:" else t.text.rstrip() + "." for t in texts)


def score(text: str) -> float:
    return spanish.fernandez_huerta(text)


def report(kind: str, measured: float, texts: list[Text]) -> str:
    hardest = sorted(texts, key=lambda t: score(t.text))[:HARDEST]
    lines = [f"\n## {kind}: Fernández-Huerta {measured:.1f} (limit {LIMITS[kind]}), {len(texts)} strings; hardest:"]
    lines += [f"  {score(t.text):5.1f} {t.where}: {t.text[:100]!r}" for t in hardest]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    with REPORT.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return "\n".join(lines)


def test_the_flow_content_is_in_spanish():
    """What is measured is Spanish: a flow with the English left in would measure English instead."""
    english = {t.text for flow in FLOWS.values() for t in flow_texts(flow)}
    for kind, texts in CONTENT.items():
        assert texts, kind
        left_in_english = [t for t in texts if t.text in english and len(t.text.split()) > 3]
        assert not left_in_english, left_in_english[:5]


@pytest.mark.parametrize("kind", list(LIMITS))
def test_the_spanish_content_is_plain(kind):
    measured = score(as_read(CONTENT[kind]))
    print(report(kind, measured, CONTENT[kind]))
    assert measured >= LIMITS[kind], report(kind, measured, CONTENT[kind])


def test_the_measure_tells_hard_spanish_from_plain():
    hard = ("Consecuentemente, la evaluación multidisciplinaria requiere investigaciones exhaustivas de las "
            "manifestaciones musculoesqueléticas inflamatorias concomitantes.")
    plain = "Le duele todo el cuerpo. Es común después de una infección. Hable con un médico."
    assert score(hard) < NORMAL < EASY <= score(plain)
    assert score(as_read([Text("options", "x", "Hombros"), Text("options", "x", "Caderas")])) \
        == score("Hombros. Caderas.")


def test_spanish_questions_and_exclamations_open_with_their_marks():
    """¿…? and ¡…!: a Spanish sentence that ends with ? or ! opens with ¿ or ¡ (anywhere in it, as in "Primero, por
    su seguridad: ¿tiene …?")."""
    import re
    wrong = []
    for texts in CONTENT.values():
        for t in texts:
            for sentence in re.split(r"(?<=[.?!])\s+", t.text):
                if (sentence.rstrip(" )»”").endswith("?") and "¿" not in sentence) or \
                        (sentence.rstrip(" )»”").endswith("!") and "¡" not in sentence):
                    wrong.append(f"{t.where}: {sentence}")
    assert not wrong, wrong[:10]
