"""The "Did you mean …?" step of Rasa's two-stage fallback, with readable topic names.

Rasa's built-in version shows raw intent names ("Did you mean 'edu_treatment_scs'?"). This one
offers up to three likely topics by their titles from data/knowledge/sources.yml, "Talk to the
clinic" and "None of these". Each topic button sends the intent itself, so a click is understood
exactly. "None of these" sends /out_of_scope, which is what Rasa's fallback loop expects for a
rejection: it then asks the person to rephrase and, on a second miss, gives the clinic's contact
details (utter_default). If this server is down, Rasa's core fallback says utter_default instead.

Before guessing, the clinic's pages are searched (bot.source_search): a question they answer in words
the classifier does not know gets the best passage, quoted with its page and section. Never for what
looks like a personal decision or a contact request (that is the clinic's to answer), nor in Spanish.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import knowledge, source_search

MAX_SUGGESTIONS = 3
MIN_CONFIDENCE = 0.05  # below this an intent is noise, not a plausible meaning
REJECT_INTENT = "out_of_scope"  # Rasa's two-stage fallback treats this intent as "no"
TALK_TO_CLINIC = {"title": "Talk to the clinic", "payload": "How do I contact the clinic?"}
SKIPPED_INTENTS = {"nlu_fallback", REJECT_INTENT}
# A button must never carry a red-flag intent: a click would tell someone who reported nothing to go to
# the ER or call 988, and file a false alert for staff. Those guesses are offered as the warning-signs answer.
RED_FLAG_PREFIX = "red_flag_"
WARNING_SIGNS_INTENT = "edu_warning_signs"
# a guess this likely of the clinic's own business (a decision, a dose, a contact) gets no passage
HANDOFF_PREFIXES = ("handoff_", "request_callback")
HANDOFF_GUESS = 0.2


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
        passage = passage_for(tracker.latest_message.get("text") or "", ranking, tracker.get_slot("language"))
        closing = [TALK_TO_CLINIC, {"title": "None of these", "payload": f"/{REJECT_INTENT}"}]
        if passage is not None:
            dispatcher.utter_message(
                response="utter_source_passage", buttons=buttons + closing,
                source_page=passage.page, source_section=passage.section, source_passage=passage.text,
            )
            return []
        if not buttons:  # nothing plausible to offer: go straight to asking for other words
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        dispatcher.utter_message(response="utter_edu_did_you_mean", buttons=buttons + closing)
        return []


def passage_for(text: Text, ranking: List[Dict[Text, Any]], language: Any) -> Any:
    """The pages' best passage for a question the classifier could not place, or None."""
    if language == "es" or text.startswith("/"):
        return None
    if any(
        str(g.get("name") or "").startswith(HANDOFF_PREFIXES) and (g.get("confidence") or 0.0) >= HANDOFF_GUESS
        for g in ranking
    ):
        return None
    return source_search.shared().best(text)
