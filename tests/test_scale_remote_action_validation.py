"""Action-server replies are judged exactly as Rasa judges them, with the validator built once
(bot/remote_action_validation.py): the same replies pass, the same replies fail with Rasa's error."""
from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot import remote_action_validation

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
    ours = outcome(remote_action_validation._validate_action_result, reply)
    rasa = outcome(remote_action_validation._rasa_validate_action_result, reply)
    assert ours == rasa


def test_some_replies_fail_and_the_message_says_why():
    verdicts = [outcome(remote_action_validation._validate_action_result, r) for r in REPLIES]
    assert verdicts.count(True) >= 3
    failures = [v for v in verdicts if v is not True]
    assert len(failures) >= 4 and all("Failed to validate Action server response" in v for v in failures)


def test_launcher_installs_it(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", remote_action_validation._rasa_validate_action_result)
    remote_action_validation.use_cached_response_validator()
    assert RemoteAction._validate_action_result is remote_action_validation._validate_action_result
