"""The "Did you mean …?" step of Rasa's two-stage fallback, with readable topic names.

Rasa's built-in version shows raw intent names ("Did you mean 'edu_treatment_scs'?"). This one
offers up to three likely topics by their titles from data/knowledge/sources.yml, "Talk to the
clinic" and "None of these". Each topic button sends the intent itself, so a click is understood
exactly. "None of these" sends /out_of_scope, which is what Rasa's fallback loop expects for a
rejection: it then asks the person to rephrase and, on a second miss, gives the clinic's contact
details (utter_default). If this server is down, Rasa's core fallback says utter_default instead.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import knowledge

MAX_SUGGESTIONS = 3
MIN_CONFIDENCE = 0.05  # below this an intent is noise, not a plausible meaning
REJECT_INTENT = "out_of_scope"  # Rasa's two-stage fallback treats this intent as "no"
TALK_TO_CLINIC = {"title": "Talk to the clinic", "payload": "How do I contact the clinic?"}
SKIPPED_INTENTS = {"nlu_fallback", REJECT_INTENT}
# A button must never carry a red-flag intent: a click would tell someone who reported nothing to go to
# the ER or call 988, and file a false alert for staff. Those guesses are offered as the warning-signs answer.
RED_FLAG_PREFIX = "red_flag_"
WARNING_SIGNS_INTENT = "edu_warning_signs"


def _offered_intent(name: Text) -> Text:
    return WARNING_SIGNS_INTENT if name.startswith(RED_FLAG_PREFIX) else name


def suggestions(intent_ranking: List[Dict[Text, Any]], kb: knowledge.Knowledge) -> List[Dict[Text, str]]:
    """Buttons for the most likely intents that have a readable title, best first, one per title."""
    buttons: List[Dict[Text, str]] = []
    seen_titles = set()
    for candidate in intent_ranking:
        name = candidate.get("name")
        if not name or name in SKIPPED_INTENTS or (candidate.get("confidence") or 0.0) < MIN_CONFIDENCE:
            continue
        name = _offered_intent(name)
        title = kb.title_for(name)
        if not title or title in seen_titles:
            continue
        seen_titles.add(title)
        buttons.append({"title": title, "payload": f"/{name}"})
        if len(buttons) == MAX_SUGGESTIONS:
            break
    return buttons


class ActionDefaultAskAffirmation(Action):
    def name(self) -> Text:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        buttons = suggestions(ranking, knowledge.cached())
        if not buttons:  # nothing plausible to offer: go straight to asking for other words
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        buttons += [TALK_TO_CLINIC, {"title": "None of these", "payload": f"/{REJECT_INTENT}"}]
        dispatcher.utter_message(response="utter_edu_did_you_mean", buttons=buttons)
        return []
