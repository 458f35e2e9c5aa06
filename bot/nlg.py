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
from functools import lru_cache
from typing import Any, Callable, Dict, Optional, Text

import yaml
from rasa.core.nlg.generator import ResponseVariationFilter
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.constants import RESPONSE_CONDITION

from bot import clinic, knowledge, source_search
from bot.nlu.clause_focus import ALSO_ASKED, DECISION_ASKED, FOLLOWUP_PREFIX, PERSONAL_INTENTS, UNMENTIONED

FITS_YOU = "utter_clinic_fits_you"  # appended to an answer to a personally worded question
NOT_IN_PAGES = "utter_edu_not_in_pages"
DONT_MENTION = "utter_pages_dont_mention"  # put before an answer to a question that names what the pages don't
NOT_MENTIONED = "utter_pages_dont_mention_at_all"  # utter_edu_not_in_pages for a thing the pages never name
CLOSEST_PASSAGE = "utter_source_passage_not_in_pages"  # the same, with the pages' nearest passage quoted
ANSWERS = ("utter_edu_", "utter_followup_")
CONDITION_FOLLOWUPS = knowledge.KNOWLEDGE_DIR / "condition_followups.yml"
# an intent's answer is utter_<intent>, except for these (data/rules/handoff.yml)
ANSWER_OF = {"handoff_contact": "utter_clinic_contact"}


def _listed(terms) -> str:
    """"gabapentin", "gabapentin or CBD", "gabapentin, CBD or kratom"."""
    terms = list(terms)
    return terms[0] if len(terms) == 1 else f"{', '.join(terms[:-1])} or {terms[-1]}"


def answer_of(intent: str) -> str:
    return ANSWER_OF.get(intent, f"utter_{intent}")


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
        if clinic_values is None:
            self.details: Optional[clinic.Clinic] = details if details is not None else clinic.load()
            self.clinic_values = self.details.template_values()
        else:
            self.details, self.clinic_values = details, clinic_values
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
        """As Rasa's, and around the answer to what a message asked (bot.nlu.clause_focus): a second
        question's answer after it; first, that the pages never mention a thing it names; last, the
        clinic for what fits the person when it was personally worded or asked for a decision; the
        pages' nearest passage when they don't cover it."""
        utter_action = condition_follow_up(utter_action, tracker.get_slot("topic"))
        response = await super().generate(utter_action, tracker, output_channel, **kwargs)
        parse = (tracker.latest_message.parse_data or {}) if tracker.latest_message else {}
        if not response or not response.get("text"):
            return response
        slots = tracker.current_slot_values()
        text = tracker.latest_message.text or ""
        if utter_action == NOT_IN_PAGES and parse.get(UNMENTIONED) and slots.get("language") != "es":
            # "would a massage help this?": the pages never name it; said plainly, with the clinic
            named = self.generate_from_slots(NOT_MENTIONED, {**slots, "terms": _listed(parse[UNMENTIONED])}, output_channel)
            response = {**response, "text": named["text"]} if named and named.get("text") else response
        elif utter_action == NOT_IN_PAGES:
            response = self._closest_passage(response, text, slots, output_channel)
        answered = str((parse.get("intent") or {}).get("name") or "")
        if utter_action == answer_of(answered):
            for intent in parse.get(ALSO_ASKED) or []:
                if intent.startswith(FOLLOWUP_PREFIX) and topic_values(slots.get("topic"))["topic_known"] != "yes":
                    continue  # "does it hurt?" beside no treatment: the first answer stands alone
                response = self._appended(response, answer_of(intent), slots, output_channel, "\n\n")
        main_answer = utter_action == answer_of(answered) and utter_action.startswith(ANSWERS) and utter_action != NOT_IN_PAGES
        if main_answer and slots.get("language") != "es":
            terms = parse.get(UNMENTIONED)
            if terms:  # "is gabapentin used for this?": the pages never name it, and the answer says so first
                response = self._prepended(response, DONT_MENTION, {**slots, "terms": _listed(terms)}, output_channel)
        focus = parse.get("clause_focus")
        personal = focus and focus.get("from") in PERSONAL_INTENTS and utter_action.startswith("utter_edu_")
        if personal or (parse.get(DECISION_ASKED) and main_answer):
            response = self._appended(response, FITS_YOU, slots, output_channel)
        return response

    def _prepended(self, response: Dict, utter_action: Text, slots: Dict, output_channel: Text) -> Dict:
        first = self.generate_from_slots(utter_action, slots, output_channel)
        if not first or not first.get("text"):
            return response
        return {**response, "text": f"{first['text']} {response['text']}"}

    def _closest_passage(self, response: Dict, text: str, slots: Dict, output_channel: Text) -> Dict:
        """A question the pages don't answer as asked may still be near something they say: the honest
        reply then quotes it, with its page and section (bot.source_search), and keeps the clinic."""
        if slots.get("language") == "es" or text.startswith("/"):
            return response
        passage = source_search.shared().best(text)
        if passage is None:
            return response
        closest = self.generate_from_slots(CLOSEST_PASSAGE, {**slots, "source_page": passage.page,
                                           "source_section": passage.section, "source_passage": passage.text}, output_channel)
        return {**response, "text": closest["text"]} if closest and closest.get("text") else response

    def _appended(self, response: Dict, utter_action: Text, slots: Dict, output_channel: Text, joint: str = " ") -> Dict:
        extra = self.generate_from_slots(utter_action, slots, output_channel) if utter_action in self.responses else None
        if not extra or not extra.get("text") or extra["text"] in response["text"]:
            return response
        return {**response, "text": f"{response['text']}{joint}{extra['text']}"}

    def generate_from_slots(
        self, utter_action: Text, filled_slots: Dict[Text, Any], output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        now = self.details.now_values(self.clock()) if self.details is not None else {}
        values = {**self.clinic_values, **now, **topic_values(filled_slots.get("topic")),
                  **{k: v for k, v in filled_slots.items() if v is not None}}
        return super().generate_from_slots(utter_action, values, output_channel, **kwargs)


@lru_cache(maxsize=1)
def _condition_followups() -> Dict[str, Any]:
    return yaml.safe_load(CONDITION_FOLLOWUPS.read_text(encoding="utf-8")) or {}


def condition_follow_up(utter_action: Text, topic: Optional[str]) -> Text:
    """"How does it come about?" after the definition: the causes answer; "are some of them implants?" after
    the list of treatments: the list's answer (data/knowledge/condition_followups.yml)."""
    for group in _condition_followups().get("groups") or []:
        if topic in (group.get("topics") or []):
            return (group.get("answers") or {}).get(utter_action, utter_action)
    return utter_action


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
