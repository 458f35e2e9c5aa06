"""Checks each action-server reply against Rasa's response schema with a validator built once.

Rasa 3.6 checks every custom action's reply with `jsonschema.validate(reply, schema)`. That call
first checks the schema itself against JSON Schema's meta-schema (a deep recursive walk) and builds
a new validator, every time: under load about 9% of the Rasa server's CPU. The schema is a constant
(RemoteAction.action_response_format_spec), so it is checked once here and its validator kept.
A valid reply passes as before; an invalid one goes to Rasa's own method, so the error raised and
its message are exactly Rasa's.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Text

from rasa.core.actions.action import RemoteAction

_rasa_validate_action_result = RemoteAction._validate_action_result


@lru_cache(maxsize=1)
def response_validator():
    """jsonschema's validator for the action response schema (schema checked once, here)."""
    from jsonschema.validators import validator_for

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    if response_validator().is_valid(result):
        return True
    return _rasa_validate_action_result(self, result)  # raises Rasa's ValidationError


def use_cached_response_validator() -> None:
    """Makes Rasa's RemoteAction validate replies with the kept validator (bot.rasa_launcher calls it)."""
    RemoteAction._validate_action_result = _validate_action_result
