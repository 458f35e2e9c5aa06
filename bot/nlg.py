"""Response generator that fills clinic details into every response.

Responses in domain.yml say {clinic_phone}, {clinic_name}, ...; the values come from clinic.yml,
read once when the Rasa server starts. This runs inside the Rasa server, so contact details
reach even the emergency reply when the action server is down.

Some values depend on the moment of the reply (bot.clinic.Clinic.now_values): {clinic_now} says
whether the office is open right now, and `clinic_open` ("open"/"closed") lets a response have an
after-hours variant (`condition: [{type: slot, name: clinic_open, value: closed}]`) without any
action: an urgent reply at night does not tell the person to call a closed office.
"""
import os
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Optional, Text

from rasa.core.nlg.generator import ResponseVariationFilter
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.constants import RESPONSE_CONDITION

from bot import clinic


class ClinicNLG(TemplatedNaturalLanguageGenerator):
    def __init__(
        self,
        endpoint_config=None,
        domain=None,
        clinic_values: Optional[Dict[str, str]] = None,
        details: Optional["clinic.Clinic"] = None,
        clock: Optional[Callable[[], datetime]] = None,
    ) -> None:
        super().__init__(domain.responses if domain is not None else {})
        # A broken clinic.yml raises ClinicConfigError here and the server does not start.
        self.details = details if details is not None else (clinic.load() if clinic_values is None else None)
        self.clinic_values = clinic_values if clinic_values is not None else self.details.template_values()
        self.clock = clock or clinic_clock()

    def _random_response_for(
        self, utter_action: Text, output_channel: Text, filled_slots: Dict[Text, Any]
    ) -> Optional[Dict[Text, Any]]:
        """The matching variation with the most conditions, the first of those in the domain.

        Rasa picks at random among all matching variations, so a reply meant for a Spanish-speaking
        caregiver could come out as the plain Spanish one. Safety replies must be predictable: the most
        specific match wins, every time.
        """
        if utter_action not in self.responses:
            return None
        suitable = ResponseVariationFilter(self.responses).responses_for_utter_action(
            utter_action, output_channel, filled_slots
        )
        if not suitable:
            return None
        return max(suitable, key=lambda r: len(r.get(RESPONSE_CONDITION) or []))

    def generate_from_slots(
        self, utter_action: Text, filled_slots: Dict[Text, Any], output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        now = self.details.now_values(self.clock()) if self.details is not None else {}
        values = {**self.clinic_values, **now, **{k: v for k, v in filled_slots.items() if v is not None}}
        return super().generate_from_slots(utter_action, values, output_channel, **kwargs)


def clinic_clock() -> Callable[[], datetime]:
    """The time replies are written at: now, or the fixed moment in CLINIC_CLOCK (ISO 8601 with its
    offset, e.g. 2024-06-10T10:00:00-04:00), so that tests and demos say the same thing at any hour."""
    fixed = os.environ.get("CLINIC_CLOCK")
    if fixed:
        moment = datetime.fromisoformat(fixed)
        if moment.tzinfo is None:
            raise ValueError(f"CLINIC_CLOCK needs a UTC offset: {fixed!r}")
        return lambda: moment
    return lambda: datetime.now(timezone.utc)
