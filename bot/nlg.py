"""Response generator that fills clinic details into every response.

Responses in domain.yml say {clinic_phone}, {clinic_name}, ...; the values come from clinic.yml,
read once when the Rasa server starts. This runs inside the Rasa server, so contact details
reach even the emergency reply when the action server is down.

Some values depend on the moment of the reply (bot.clinic.Clinic.now_values): {clinic_now} says
whether the office is open right now, and `clinic_open` ("open"/"closed") lets a response have an
after-hours variant (`condition: [{type: slot, name: clinic_open, value: closed}]`) without any
action: an urgent reply at night does not tell the person to call a closed office. The same way,
{topic_name} and `topic_known` come from the `topic` slot (the treatment last explained).
"""
import os
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Optional, Text

from rasa.core.nlg.generator import ResponseVariationFilter
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.constants import RESPONSE_CONDITION

from bot import clinic, knowledge
from bot.nlu.clause_focus import PERSONAL_INTENTS


FITS_YOU = "utter_clinic_fits_you"  # appended to an answer to a personally worded question


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

    async def generate(self, utter_action: Text, tracker: Any, output_channel: Text, **kwargs: Any) -> Optional[Dict[Text, Any]]:
        """As Rasa's, and an education answer to a personally worded question (bot.nlu.clause_focus)
        ends with the clinic for what fits the person."""
        response = await super().generate(utter_action, tracker, output_channel, **kwargs)
        focus = (tracker.latest_message.parse_data or {}).get("clause_focus") if tracker.latest_message else None
        if response and response.get("text") and focus and focus.get("from") in PERSONAL_INTENTS and utter_action.startswith("utter_edu_"):
            extra = self.generate_from_slots(FITS_YOU, tracker.current_slot_values(), output_channel)
            if extra and extra.get("text"):
                response = {**response, "text": f"{response['text']} {extra['text']}"}
        return response

    def generate_from_slots(
        self, utter_action: Text, filled_slots: Dict[Text, Any], output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        now = self.details.now_values(self.clock()) if self.details is not None else {}
        values = {**self.clinic_values, **now, **topic_values(filled_slots.get("topic")),
                  **{k: v for k, v in filled_slots.items() if v is not None}}
        return super().generate_from_slots(utter_action, values, output_channel, **kwargs)


def topic_values(topic: Optional[str]) -> Dict[str, str]:
    """{topic_name} and `topic_known` for the follow-up replies (utter_followup_*): "does it hurt?"
    is answered about the treatment last explained, or asks which one is meant."""
    entry = knowledge.cached().topics.get(topic or "")
    if entry is None:
        return {"topic_known": "no", "topic_name": "that treatment"}
    return {"topic_known": "yes", "topic_name": entry.name or entry.title.lower()}


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
