"""Response generator that fills clinic details into every response.

Responses in domain.yml say {clinic_phone}, {clinic_name}, ...; the values come from clinic.yml,
read once when the Rasa server starts. This runs inside the Rasa server, so contact details
reach even the emergency reply when the action server is down.
"""
from typing import Any, Dict, Optional, Text

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

from bot import clinic


class ClinicNLG(TemplatedNaturalLanguageGenerator):
    def __init__(self, endpoint_config=None, domain=None, clinic_values: Optional[Dict[str, str]] = None) -> None:
        super().__init__(domain.responses if domain is not None else {})
        # A broken clinic.yml raises ClinicConfigError here and the server does not start.
        self.clinic_values = clinic_values if clinic_values is not None else clinic.load().template_values()

    def generate_from_slots(
        self, utter_action: Text, filled_slots: Dict[Text, Any], output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        values = {**self.clinic_values, **{k: v for k, v in filled_slots.items() if v is not None}}
        return super().generate_from_slots(utter_action, values, output_channel, **kwargs)
