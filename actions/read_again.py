"""A message whose first reading needs what the conversation does not have is read a second way.

The NLU pipeline reads one message at a time. Two of its readings only make sense with something
earlier in the conversation: a refusal ("I'll think about it", "never mind, what's your email?") means
"can it wait" only after a red-flag reply, and a follow-up ("how do they check?", "is there a waiting
list?") needs a treatment already discussed. Rules send such a message here when that context is
missing (data/rules/); the NLU left its next reading in parse data `read_instead` (bot.nlu.red_flags,
bot.nlu.clause_focus). The message is then put back with that intent, as Rasa's two-stage fallback
does with an affirmed intent, and the rules answer it like any other. Without a next reading the first
reading's own reply is given (the refusal's "tell me what is happening", the follow-up's "which
treatment do you mean?").
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, UserUtteranceReverted, UserUttered
from rasa_sdk.executor import CollectingDispatcher

READ_INSTEAD = "read_instead"
# the reply of the first reading when there is no second one
OWN_REPLY = {"red_flag_pushback": "utter_red_flag_pushback_none", "red_flag_about_me": "utter_red_flag_pushback_none"}


class ActionReadAgain(Action):
    def name(self) -> Text:
        return "action_read_again"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        latest = dict(tracker.latest_message or {})
        first = str((latest.get("intent") or {}).get("name") or "")
        instead = latest.get(READ_INSTEAD) or {}
        if not instead.get("name") or instead["name"] == first:
            dispatcher.utter_message(response=OWN_REPLY.get(first, f"utter_{first}"))
            return []
        ranking = [instead] + [r for r in latest.get("intent_ranking") or [] if r.get("name") not in (instead["name"], first)]
        parse = {**latest, "intent": instead, "intent_ranking": ranking, READ_INSTEAD: None, "read_from": first}
        # as Rasa's two-stage fallback re-reads an affirmed intent: undo the message, listen, hear it again
        return [UserUtteranceReverted(), ActionExecuted("action_listen"),
                UserUttered(latest.get("text"), parse_data=parse, input_channel=tracker.get_latest_input_channel())]
