"""Small exact replacements for two of Rasa 3.6's per-turn hot spots (bot.rasa_launcher installs them).

1. Action-server replies. Rasa checks every custom action's reply with
   `jsonschema.validate(reply, schema)`, which first checks the schema itself against JSON Schema's
   meta-schema (a deep recursive walk) and builds a new validator, every time: under load about 9%
   of the Rasa server's CPU. The schema is a constant (RemoteAction.action_response_format_spec),
   so it is checked once here and its validator kept. A valid reply passes as before; an invalid
   one goes to Rasa's own method, so the error raised and its message are exactly Rasa's.
2. "Is the domain empty?" Rasa asks before every message (MessageProcessor._check_for_unseen_features)
   and answers by building a whole empty Domain to compare with (about 3% of the CPU). The empty
   domain's description is a constant: it is built once here.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Text

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain

_rasa_validate_action_result = RemoteAction._validate_action_result
_rasa_domain_is_empty = Domain.is_empty


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


@lru_cache(maxsize=1)
def empty_domain_description() -> Dict[Text, Any]:
    return Domain.empty().as_dict()


def _domain_is_empty(self: Domain) -> bool:
    return self.as_dict() == empty_domain_description()


def install() -> None:
    """Makes Rasa use both replacements in this process."""
    RemoteAction._validate_action_result = _validate_action_result
    Domain.is_empty = _domain_is_empty
