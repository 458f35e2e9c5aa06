"""bot/rasa_speedups.py answers exactly as Rasa does: action-server replies (the same replies pass,
the same fail with Rasa's error) and whether a domain is empty."""
from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain

from bot import rasa_speedups

REPLIES = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "callback_phone", "value": "555"}], "responses": [{"text": "ok"}]},
    {"events": [{"event": "followup", "name": "action_listen"}, {"event": "active_loop", "name": None}]},
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"name": "missing the event key"}]},
    {"responses": ["not an object"]},
    {"responses": {"text": "an object, not a list"}},
    {"events": [{"event": "slot", "name": 7}]},
]


def outcome(validate, reply):
    try:
        return validate(RemoteAction("action_test", None), reply)
    except ValidationError as error:
        return f"error: {error.message}"


@pytest.mark.parametrize("reply", REPLIES, ids=[str(r)[:40] for r in REPLIES])
def test_same_verdict_and_message_as_rasa(reply):
    ours = outcome(rasa_speedups._validate_action_result, reply)
    rasa = outcome(rasa_speedups._rasa_validate_action_result, reply)
    assert ours == rasa


def test_some_replies_fail_and_the_message_says_why():
    verdicts = [outcome(rasa_speedups._validate_action_result, r) for r in REPLIES]
    assert verdicts.count(True) >= 3
    failures = [v for v in verdicts if v is not True]
    assert len(failures) >= 4 and all("Failed to validate Action server response" in v for v in failures)


def test_domain_emptiness_as_rasa_says(agent):
    domains = [Domain.empty(), agent.domain, Domain.from_dict({"intents": ["greet"]}), Domain.from_dict({})]
    verdicts = [rasa_speedups._domain_is_empty(d) for d in domains]
    assert verdicts == [rasa_speedups._rasa_domain_is_empty(d) for d in domains] == [True, False, False, True]


def test_install_puts_both_in_place(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", rasa_speedups._rasa_validate_action_result)
    monkeypatch.setattr(Domain, "is_empty", rasa_speedups._rasa_domain_is_empty)
    rasa_speedups.install()
    assert RemoteAction._validate_action_result is rasa_speedups._validate_action_result
    assert Domain.is_empty is rasa_speedups._domain_is_empty
