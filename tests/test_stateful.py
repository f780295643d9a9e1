"""Hypothesis walks random conversations of every flow through the JSON API, as a person on a flaky phone would.

Rules: start a conversation, answer the current question with a random valid value, go back to a random earlier
question, resend the last answer unchanged (a retry), send a stale step, send an invalid value, read it again, start
today's daily check-in of a conversation (then walked by the same rules), delete one.
Invariants: never a 5xx; the server's conversation is always the one the walk expects; every conversation that ends
(finished or stopped for an emergency) has a result valid per schemas.ResultOut; a check-in starts only from a
finished intake, a second start the same day returns the one in progress or replaces an ended one, and deleting an
intake deletes its check-ins; and in the end every conversation can be answered to an end within as many answers as
its flow has questions.
"""
from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, consumes, initialize, invariant, multiple,
                                 precondition, rule, run_state_machine_as_test)

from assistant.web import schemas
from assistant.content.flows import EXCLUSIVE_VALUE

RESULT = schemas.ResultOut()
ENDS = {"finished", "stopped_emergency", "stopped_not_adult"}
MAX_CONVERSATIONS = 3


def answer_values(question: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Any valid answer to a question: one value, or a non-empty set (or just "none") for a multi question."""
    values = [option["value"] for option in question["options"]]
    if question["type"] == "choice":
        return st.sampled_from(values)
    others = [v for v in values if v != EXCLUSIVE_VALUE]
    some = st.lists(st.sampled_from(others), min_size=1, max_size=len(others), unique=True)
    return st.one_of(st.just([EXCLUSIVE_VALUE]), some) if EXCLUSIVE_VALUE in values else some


def conversation_walk(client, flow_ids: list[str], question_counts: dict[str, int], seen: dict[str, int]):
    class ConversationWalk(RuleBasedStateMachine):
        conversations = Bundle("conversations")

        def __init__(self) -> None:
            super().__init__()
            self.known: dict[str, dict[str, Any]] = {}      # id -> the conversation as the server last told us
            self.retry: dict[str, dict[str, Any]] = {}      # id -> the last applied answer body, while it is the last
            self.parent: dict[str, str] = {}                # check-in id -> its intake's id
            self.results_checked = 0

        # --- talking to the server ------------------------------------------------------------------------------

        def call(self, method: str, path: str, body: Any = None):
            response = getattr(client, method)(path, json=body) if body is not None else \
                getattr(client, method)(path)
            assert response.status_code < 500, (method, path, body, response.status_code, response.get_data())
            return response

        def check_end(self, conversation: dict[str, Any]) -> None:
            if conversation["status"] not in ENDS:
                return
            response = self.call("get", f"/api/v1/conversations/{conversation['id']}/result")
            assert response.status_code == 200, response.get_json()
            result = response.get_json()
            assert RESULT.validate(result) == {}, RESULT.validate(result)
            assert result["flow"] == conversation["flow"]
            assert result["status"] == conversation["status"]
            if conversation["status"] == "stopped_emergency":
                assert result["urgency"] == "emergency" and result["red_flags"]
            if conversation["status"] == "stopped_not_adult":
                assert result["conditions"] == [] and result["lifestyle"] == []
            self.results_checked += 1

        def answered(self, cid: str, body: dict[str, Any], response) -> None:
            assert response.status_code == 200, (body, response.get_json())
            before, after = self.known[cid], response.get_json()
            assert after["step"] == before["step"] + 1
            assert after["answers"][body["question_id"]] in (body["value"], [body["value"]])
            self.known[cid] = after
            self.retry[cid] = body
            self.check_end(after)

        # --- rules ---------------------------------------------------------------------------------------------------

        @initialize(target=conversations, flow=st.sampled_from(flow_ids))
        def start(self, flow: str) -> str:
            response = self.call("post", "/api/v1/conversations", {"flow": flow})
            assert response.status_code == 201, response.get_json()
            conversation = response.get_json()
            assert conversation["status"] == "active" and conversation["step"] == 0
            self.known[conversation["id"]] = conversation
            return conversation["id"]

        @precondition(lambda self: len(self.known) < MAX_CONVERSATIONS)
        @rule(target=conversations, flow=st.sampled_from(flow_ids))
        def start_another(self, flow: str) -> str:
            return self.start(flow)

        @rule(cid=conversations, data=st.data())
        def answer(self, cid: str, data: st.DataObject) -> None:
            conversation = self.known.get(cid)
            if conversation is None or conversation["status"] in ENDS:
                return
            question = conversation["question"]
            body = {"question_id": question["id"], "value": data.draw(answer_values(question)),
                    "step": conversation["step"]}
            self.answered(cid, body, self.call("post", f"/api/v1/conversations/{cid}/answers", body))

        @rule(cid=conversations, data=st.data())
        def rewind(self, cid: str, data: st.DataObject) -> None:
            conversation = self.known.get(cid)
            if conversation is None:
                return
            choices = list(conversation["answers"]) + ([conversation["question"]["id"]]
                                                       if conversation["question"] else [])
            question_id = data.draw(st.sampled_from(choices)) if choices else None
            if question_id is None:
                return
            response = self.call("post", f"/api/v1/conversations/{cid}/rewind", {"question_id": question_id})
            assert response.status_code == 200, response.get_json()
            after = response.get_json()
            assert after["status"] == "active" and after["question"]["id"] == question_id
            current = conversation["question"] and conversation["question"]["id"] == question_id
            assert after["step"] == conversation["step"] + (0 if current else 1)  # already there: nothing moves
            assert question_id not in after["answers"]
            if question_id in conversation["answers"]:  # the old answer is offered again
                assert after["question"]["suggested"] == conversation["answers"][question_id]
            self.known[cid] = after
            self.retry.pop(cid, None)

        @precondition(lambda self: bool(self.retry))
        @rule(data=st.data())
        def retry_identical(self, data: st.DataObject) -> None:
            cid = data.draw(st.sampled_from(sorted(self.retry)))
            response = self.call("post", f"/api/v1/conversations/{cid}/answers", self.retry[cid])
            assert response.status_code == 200, response.get_json()
            again = response.get_json()
            known = self.known[cid]
            assert (again["step"], again["answers"], again["status"]) == \
                   (known["step"], known["answers"], known["status"])

        @rule(cid=conversations, data=st.data())
        def stale_step(self, cid: str, data: st.DataObject) -> None:
            conversation = self.known.get(cid)
            if conversation is None:
                return
            question = conversation["question"] or {"id": "age_band", "type": "choice",
                                                    "options": [{"value": "x", "label": "x"}]}
            step = data.draw(st.integers(min_value=conversation["step"] + 1, max_value=conversation["step"] + 50)
                             | st.integers(min_value=0, max_value=max(0, conversation["step"] - 2)))
            if step == conversation["step"]:
                return
            body = {"question_id": question["id"], "value": data.draw(answer_values(question)), "step": step}
            response = self.call("post", f"/api/v1/conversations/{cid}/answers", body)
            if response.status_code == 200:  # only an identical resend of the previous answer may pass
                assert self.retry.get(cid) == body
                return
            assert response.status_code in (409, 422), response.get_json()
            if response.status_code == 409:
                current = response.get_json()["error"]["conversation"]
                assert current["step"] == conversation["step"] and current["answers"] == conversation["answers"]

        @rule(cid=conversations, bad=st.sampled_from(["not-an-option", ["none", "also"], [], 7, None]))
        def invalid_value(self, cid: str, bad: Any) -> None:
            conversation = self.known.get(cid)
            if conversation is None or conversation["question"] is None:
                return
            body = {"question_id": conversation["question"]["id"], "value": bad, "step": conversation["step"]}
            response = self.call("post", f"/api/v1/conversations/{cid}/answers", body)
            assert response.status_code == 422, response.get_json()

        @rule(cid=conversations)
        def read(self, cid: str) -> None:
            response = self.call("get", f"/api/v1/conversations/{cid}")
            if cid not in self.known:  # deleted with its intake, or replaced by a new check-in the same day
                assert response.status_code == 404
                return
            assert response.status_code == 200
            current, known = response.get_json(), self.known[cid]
            assert {k: current[k] for k in ("step", "status", "answers", "question")} == \
                   {k: known[k] for k in ("step", "status", "answers", "question")}

        @rule(cid=consumes(conversations))
        def delete(self, cid: str) -> None:
            if cid not in self.known:
                return
            assert self.call("delete", f"/api/v1/conversations/{cid}").status_code == 204
            for gone in [cid] + [c for c, intake in self.parent.items() if intake == cid]:  # its check-ins go too
                assert self.call("get", f"/api/v1/conversations/{gone}").status_code == 404
                self.forget(gone)

        def forget(self, cid: str) -> None:
            self.known.pop(cid, None)
            self.retry.pop(cid, None)
            self.parent.pop(cid, None)

        @rule(target=conversations, cid=conversations)
        def start_checkin(self, cid: str):
            intake = self.known.get(cid)
            if intake is None:
                return multiple()
            response = self.call("post", f"/api/v1/conversations/{cid}/checkins", {})
            if cid in self.parent:  # a check-in has no check-ins of its own
                assert response.status_code == 404, response.get_json()
                return multiple()
            if intake["status"] != "finished":
                assert response.status_code == 409, response.get_json()
                assert response.get_json()["error"]["code"] == "not_finished"
                return multiple()
            assert response.status_code in (200, 201), response.get_json()
            checkin = response.get_json()
            today = [c for c, parent in self.parent.items() if parent == cid]  # every check-in here is today's
            if today and self.known[today[0]]["status"] not in ENDS:  # in progress: the same one again
                assert response.status_code == 200 and checkin["id"] == today[0]
                assert checkin["step"] == self.known[today[0]]["step"]
                return multiple()
            assert response.status_code == 201 and checkin["id"] not in self.known
            assert checkin["status"] == "active" and checkin["step"] == 0
            assert checkin["flow"]["id"] != intake["flow"]["id"]
            for replaced in today:  # it ended: the new one replaces it
                assert self.call("get", f"/api/v1/conversations/{replaced}").status_code == 404
                self.forget(replaced)
            self.known[checkin["id"]] = checkin
            self.parent[checkin["id"]] = cid
            seen["checkins"] += 1
            listed = self.call("get", f"/api/v1/conversations/{cid}/checkins").get_json()
            assert [entry["id"] for entry in listed] == [checkin["id"]]
            return checkin["id"]

        @invariant()
        def conversations_are_coherent(self) -> None:
            for conversation in self.known.values():
                assert conversation["step"] >= len(conversation["answers"])  # every turn counts, rewinds too
                # while an earlier answer is being changed, the answers kept after it still count as answered
                answered = conversation["progress"]["answered"]
                assert len(conversation["answers"]) <= answered
                assert answered <= len(conversation["answers"]) + len(conversation["suggestions"])
                assert answered <= conversation["progress"]["estimated_total"]
                assert (conversation["question"] is None) == (conversation["status"] in ENDS)

        def answer_to_the_end(self, cid: str) -> None:
            """Answer the rest in a row (the last option, or "none"): it ends within as many answers as the flow has
            questions."""
            conversation = self.known[cid]
            limit = question_counts[conversation["flow"]["id"]]
            for _ in range(limit):
                if conversation["status"] in ENDS:
                    break
                question = conversation["question"]
                values = [o["value"] for o in question["options"]]
                value = values[-1] if question["type"] == "choice" else \
                    ([EXCLUSIVE_VALUE] if EXCLUSIVE_VALUE in values else values[:1])
                body = {"question_id": question["id"], "value": value, "step": conversation["step"]}
                self.answered(cid, body, self.call("post", f"/api/v1/conversations/{cid}/answers", body))
                conversation = self.known[cid]
            assert conversation["status"] in ENDS, f"not ended after {limit} answers: {conversation['question']}"

        @rule(cid=conversations)
        def answer_the_rest(self, cid: str) -> None:
            if cid in self.known:
                self.answer_to_the_end(cid)

        def teardown(self) -> None:
            """Every conversation still open ends within as many answers as its flow has questions."""
            for cid in list(self.known):
                self.answer_to_the_end(cid)

    return ConversationWalk


def test_random_conversations_never_fail_always_end_and_give_valid_results(app, client):
    engines = app.extensions["engines"].latest()
    flow_ids = [engine.flow.id for engine in engines if not engine.flow.follows]  # check-ins start from an intake
    question_counts = {engine.flow.id: len(engine.flow.questions) for engine in engines}
    assert flow_ids
    seen = {"checkins": 0}
    run_state_machine_as_test(
        conversation_walk(client, flow_ids, question_counts, seen),
        settings=settings(max_examples=60, stateful_step_count=25, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    assert seen["checkins"] > 0, "no walk got as far as a daily check-in"
