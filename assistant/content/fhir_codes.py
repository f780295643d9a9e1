"""Standard codes for the questions themselves (`Questionnaire.item.code`), where a well-known one exists.

Only codes whose meaning is the question's meaning are used: a question that mixes several things, or asks for a
set of findings no single observable names, has no code rather than a near miss. Question ids are a public contract
and keep their meaning across versions, so the table is per flow, not per version. docs/sharing.md lists what has a
code and why the others have none.

Sources: LOINC (loinc.org); the HL7 FHIR Symptoms IG (hl7.org/fhir/uv/symptoms), whose Symptom Observation uses
99495-4, 56823-8 and 100752-5 for a symptom's onset, quality and exacerbating factors.
"""
from __future__ import annotations

LOINC = "http://loinc.org"

ITEM_CODES: dict[str, dict[str, tuple[str, str, str]]] = {
    "muscle-pain": {
        "age_band": (LOINC, "46251-5", "Age group"),
        "sex": (LOINC, "76689-9", "Sex assigned at birth"),
        "main_complaint": (LOINC, "8661-1", "Chief complaint - Reported"),
        "pain_character": (LOINC, "56823-8", "Problem quality or description"),
        "duration": (LOINC, "64748-7", "Symptoms duration"),
        "onset": (LOINC, "99495-4", "Speed of condition onset"),
        "triggers": (LOINC, "100752-5", "Exacerbating factors - Reported"),
    },
    "daily-check": {
        "pain": (LOINC, "72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported"),
    },
}


def item_code(flow_id: str, question_id: str) -> dict[str, str] | None:
    """The Coding of a question, or None when no well-known code fits it."""
    known = ITEM_CODES.get(flow_id, {}).get(question_id)
    if known is None:
        return None
    system, code, display = known
    return {"system": system, "code": code, "display": display}
