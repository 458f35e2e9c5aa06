"""Response generator that fills clinic details into every response.

Responses in domain.yml say {clinic_phone}, {clinic_name}, ...; the values come from clinic.yml,
read once when the Rasa server starts. This runs inside the Rasa server, so contact details
reach even the emergency reply when the action server is down.
"""
from typing import Any, Dict, Optional, Text

from rasa.core.nlg.generator import ResponseVariationFilter
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.constants import RESPONSE_CONDITION

from bot import clinic


class ClinicNLG(TemplatedNaturalLanguageGenerator):
    def __init__(self, endpoint_config=None, domain=None, clinic_values: Optional[Dict[str, str]] = None) -> None:
        super().__init__(domain.responses if domain is not None else {})
        # A broken clinic.yml raises ClinicConfigError here and the server does not start.
        self.clinic_values = clinic_values if clinic_values is not None else clinic.load().template_values()

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
        values = {**self.clinic_values, **{k: v for k, v in filled_slots.items() if v is not None}}
        return super().generate_from_slots(utter_action, values, output_channel, **kwargs)
