"""marshmallow schemas for every request body and response of the JSON API."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from assistant.content.flows import URGENCY_LEVELS

STATUSES = ("active", "finished", "stopped_emergency", "stopped_not_adult")
RESULT_STATUSES = STATUSES[1:]


class AnswerValue(fields.Field):
    """A single value (choice) or a list of values (multi)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return value
        raise ValidationError("must be a string or a list of strings")


# --- requests ------------------------------------------------------------------------------------------------------

Version = fields.Integer(strict=True, validate=validate.Range(min=1))  # absent: the newest served version


class AssessRequest(Schema):
    flow = fields.String(load_default="muscle-pain")
    version = Version
    answers = fields.Dict(keys=fields.String(), values=AnswerValue(), required=True)


class CreateConversationRequest(Schema):
    flow = fields.String(load_default="muscle-pain")
    version = Version


class AnswerRequest(Schema):
    question_id = fields.String(required=True)
    value = AnswerValue(required=True)
    step = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class RewindRequest(Schema):
    question_id = fields.String(required=True)


class CheckinRequest(Schema):
    date = fields.Date(load_default=None, metadata={
        "description": "The person's own date (YYYY-MM-DD), at most a day from UTC's; default: today in UTC."})


class ShareRequest(Schema):
    expires_in_days = fields.Integer(load_default=7, strict=True, validate=validate.Range(min=1, max=30))


# --- responses -----------------------------------------------------------------------------------------------------

class FlowRef(Schema):
    id = fields.String(required=True)
    version = fields.Integer(required=True)


class OptionOut(Schema):
    value = fields.String(required=True)
    label = fields.String(required=True)
    group = fields.String()


class QuestionOut(Schema):
    id = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(("choice", "multi")))
    text = fields.String(required=True)
    help = fields.String(required=True)
    options = fields.List(fields.Nested(OptionOut), required=True)
    suggested = AnswerValue(allow_none=True)


class Progress(Schema):
    answered = fields.Integer(required=True)
    estimated_total = fields.Integer(required=True)


class Action(Schema):
    label = fields.String(required=True)
    href = fields.String(required=True)


class UrgentAdvice(Schema):
    title = fields.String(required=True)
    text = fields.String(required=True)
    action = fields.Nested(Action, required=True)


class ConversationOut(Schema):
    id = fields.String(required=True)
    flow = fields.Nested(FlowRef, required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    step = fields.Integer(required=True)
    question = fields.Nested(QuestionOut, allow_none=True, required=True)
    answers = fields.Dict(keys=fields.String(), values=AnswerValue(), required=True)
    suggestions = fields.Dict(keys=fields.String(), values=AnswerValue())
    progress = fields.Nested(Progress, required=True)
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCY_LEVELS))
    urgent_advice = fields.Nested(UrgentAdvice, allow_none=True, required=True)
    language = fields.String()
    created_at = fields.String(required=True)
    updated_at = fields.String(required=True)


class SourceOut(Schema):
    title = fields.String(required=True)
    url = fields.String(required=True)


class RedFlagOut(Schema):
    id = fields.String(required=True)
    text = fields.String(required=True)
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCY_LEVELS))
    condition = fields.String(allow_none=True)
    derived = fields.Boolean()
    sources = fields.List(fields.Nested(SourceOut))


class ConditionOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    fit = fields.Float(required=True, validate=validate.Range(min=0, max=1))
    score = fields.Float()
    summary = fields.String(required=True)
    note = fields.String(allow_none=True)
    because = fields.List(fields.String(), required=True)
    doesnt_fit = fields.List(fields.String(), required=True)
    tests_to_discuss = fields.List(fields.String(), required=True)
    sources = fields.List(fields.Nested(SourceOut), required=True)
    lifestyle = fields.List(fields.String(), required=True)


class LifestyleOut(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    why = fields.String(required=True)
    how = fields.String(required=True)
    cautions = fields.List(fields.String(), required=True)
    cautions_for_you = fields.Integer()
    for_conditions = fields.List(fields.String(), required=True)
    sources = fields.List(fields.Nested(SourceOut), required=True)


class Advice(Schema):
    title = fields.String(required=True)
    text = fields.String(required=True)


class SafetyNetOut(Schema):
    title = fields.String(required=True)
    text = fields.String(required=True)
    signs = fields.List(fields.String(), required=True)


class ChangeOut(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("up", "down", "new", "gone", "urgency")))
    id = fields.String(required=True)
    text = fields.String(required=True)
    was = fields.Raw(allow_none=True)  # the place on the list before (or the urgency before)
    now = fields.Raw(allow_none=True)  # the place after (or the urgency after)


class ResultOut(Schema):
    flow = fields.Nested(FlowRef, required=True)
    language = fields.String()
    status = fields.String(validate=validate.OneOf(RESULT_STATUSES))
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCY_LEVELS))
    advice = fields.Nested(Advice, allow_none=True)
    red_flags = fields.List(fields.Nested(RedFlagOut), required=True)
    conditions = fields.List(fields.Nested(ConditionOut), required=True)
    shown_by_default = fields.Integer()
    lifestyle = fields.List(fields.Nested(LifestyleOut), required=True)
    safety_net = fields.Nested(SafetyNetOut, allow_none=True)
    get_help = fields.List(fields.String())
    changes = fields.List(fields.Nested(ChangeOut))
    disclaimer = fields.String(required=True)
    ignored = fields.List(fields.String(), required=True)


class FlowOut(Schema):
    id = fields.String(required=True)
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    questions = fields.List(fields.Nested(QuestionOut), required=True)


class ShareOut(Schema):
    url = fields.String(required=True)
    expires_at = fields.String(required=True)
    qr_svg_url = fields.String(required=True)


class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields")


class ErrorOut(Schema):
    error = fields.Nested(ErrorBody, required=True)


class Scores(Schema):
    pain = fields.Integer(required=True, allow_none=True)
    sleep = fields.Integer(required=True, allow_none=True)
    energy = fields.Integer(required=True, allow_none=True)
    interference = fields.Integer(required=True, allow_none=True)


class CheckinOut(Schema):
    """One daily check-in of an intake: its answers on 0-10 scales, the lifestyle areas tried, its urgency."""
    id = fields.String(required=True)
    date = fields.String(required=True, metadata={"format": "date"})
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    scores = fields.Nested(Scores, required=True)
    tried = fields.List(fields.String(), required=True)
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCY_LEVELS))
