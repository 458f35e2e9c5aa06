"""Callback requests: the form that collects name, phone, best time and consent, and the action that stores them.

Slots use custom mappings so this module decides what a message fills. A red flag, "cancel" or a
question asked in the middle of the form fills nothing: the form then steps aside, the matching rule
answers (emergency reply, cancellation, contact details...) and the form asks its question again.
Nothing reaches the clinic's queue without an explicit yes.
"""
from __future__ import annotations

import logging
import os
import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import clinic
from bot.log_privacy import masked
from bot.phone import format_us, looks_like_a_number, parse_us_phone

logger = logging.getLogger(__name__)

SLOTS = ("callback_name", "callback_phone", "callback_phone_display", "callback_best_time", "callback_consent")

# Messages that are not an answer to the form's question.
_RED_FLAG_PREFIX = "red_flag_"
_NOT_A_RED_FLAG = {"red_flag_denied", "red_flag_retracted", "red_flag_accepted"}  # answers like any other (a refusal is not: it gets the instruction)
_QUESTION_PREFIXES = ("handoff_", "edu_")
_QUESTION_INTENTS = {"out_of_scope", "bot_capabilities", "ask_risks", "tell_me_more", "decline_details"}
# "can it wait?" means something only after a red-flag reply; inside the form it is an answer ("Monday is
# better" is a time to call)
_PUSHBACK = "red_flag_pushback"
_NO_RED_FLAG_OPEN = (None, "cleared")
QUESTION_CONFIDENCE = 0.6  # below this, a short answer ("Pat", "mornings") is taken as the answer

MAX_NAME_CHARS = 80
MAX_NAME_WORDS = 6
MAX_TIME_CHARS = 200
_NAME_LEAD_IN = re.compile(
    r"^(?:(?:hi|hello|hey|ok|okay|sure|yes)[,!.]?\s+)?"
    r"(?:my name is|my name's|name is|name:|the name is|the name's|her name is|his name is|her name's|his name's|"
    r"she's|he's|she is|he is|i am|i'm|im|it's|its|it is|this is|you can ask for|ask for|call me)\s+",
    re.IGNORECASE,
)
_NAME_TRAIL = re.compile(r"\s+(?:here|speaking)\W*$", re.IGNORECASE)
# a name given up front or as a correction, inside a longer message ("hi this is Dave Smith, please call me")
_NAME_IN_SENTENCE = re.compile(
    r"\b(?:[Mm]y name is|[Mm]y name's|[Nn]ame is|[Nn]ame's|[Tt]his is|I am|I'm|i'm|i am|[Ss]he's|[Hh]e's|[Ss]he is|[Hh]e is|"
    r"[Hh]er name is|[Hh]is name is|[Aa]sk for)\s+([A-Z][^\W\d_'’.\-]*(?:\s+[A-Z][^\W\d_'’.\-]*){0,2})",
)  # a capitalised name: "this is Dave Smith"; "I'm sorry" or "it's actually 419..." introduce none
# a capitalised name that opens the message: "Dave Morrison here, ...", "Hi, it's Ann Lee, ...", "Ann speaking"
_NAME_OPENS = re.compile(
    r"^(?i:(?:hi|hello|hey|good (?:morning|afternoon|evening))[,!.]?\s+)?(?i:(?:it'?s|this is)\s+)?"
    r"([A-Z][^\W\d_'’.\-]+(?:\s+[A-Z][^\W\d_'’.\-]*){0,2})(?i:\s+(?:here|speaking))?\s*[,.!:;\-–]",
)
_NAME_OPENS_SAYS_IT = re.compile(r"^\W*(?:(?:hi|hello|hey|good \w+)\W+)?(?:it'?s\s|this is\s)|\s(?:here|speaking)\s*[,.!:;\-–]", re.IGNORECASE)
# a capitalised name written beside the number: "Tom Reyes, 419-555-0163", "call Greg Novak on 419..."
_NAME_BY_NUMBER = re.compile(
    r"(?:^|[:,.;!?]\s*|\s)([A-Z][^\W\d_'’.\-]+(?:\s+[A-Z][^\W\d_'’.\-]*){0,2})\s*[,:\-–]?\s*(?:on|at)?\s*[(+]?\d{3}"
    r"|\d{4}\s*[,;\-–]\s*(?:it'?s\s+|this is\s+)?([A-Z][^\W\d_'’.\-]+(?:\s+[A-Z][^\W\d_'’.\-]*){0,2})\s*[.!]?\s*$",
)  # "Priya, 419-555-0150" or "419-555-0166, Carol"
# the part of a message that says when to call: "mornings are best", "best after 2pm", "only after 5pm please"
_TIME_CLAUSE_WORDS = 7
_NAME_CHARS = re.compile(r"^[^\W\d_]+(?:[\s'’.\-][^\W\d_]*)*$")
# Everyday words that show a sentence, not a name ("no bladder problems", "I want to know").
_SENTENCE_WORDS = {
    "i", "im", "i'm", "my", "me", "you", "your", "the", "is", "are", "was", "have", "has", "had", "want", "need",
    "don't", "dont", "not", "no", "what", "how", "why", "when", "where", "can", "could", "would", "should",
    "please", "pain", "back", "call", "phone", "number", "doctor", "clinic", "help", "and", "or", "to", "of",
}
_NOT_A_NAME = {
    "yes", "no", "ok", "okay", "sure", "hi", "hello", "hey", "thanks", "thank you", "none", "nobody",
    "anonymous", "na", "n a", "idk", "why", "what", "skip", "nope", "yeah", "yep", "nah", "me",
}
_YES = re.compile(
    r"^(?:y|yes|yeah|yea|yep|yup|sure|ok|okay|of course|absolutely|definitely|i agree|agree|agreed|i consent|"
    r"i do|please do|go ahead|that's fine|thats fine|fine|correct|no problem)\b",
    re.IGNORECASE,
)
_NO = re.compile(r"^(?:n|no|nope|nah|don't|do not|i don't|i do not|never|not now|no thanks|no thank you)\b", re.IGNORECASE)
# backing out at the confirmation: "oh scrap that, I'll phone the office tomorrow", "no need after all"
_BACKS_OUT = re.compile(
    r"\b(?:never ?mind|nvm|forget it|forget about it|scrap that|don'?t bother|no need|changed my mind|"
    r"cancel (?:that|it|this|the request|the call|the call ?back|my request)|"
    r"i'?ll (?:just )?(?:call|ring|phone) (?:you|them|the clinic|the office)(?: myself)?)\b",
    re.IGNORECASE,
)
# words that make a message an answer to "when is a good time to call you?"
_TIME_WORDS = re.compile(
    r"\b(?:\d{1,2}(?::\d\d)?\s*(?:am|pm|a\.m\.|p\.m\.)?|morning|mornings|afternoon|afternoons|evening|evenings|"
    r"noon|lunch|lunchtime|tonight|today|tomorrow|weekday|weekdays|weekend|weekends|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|any ?time|anytime|after|before|between|early|late)\b",
    re.IGNORECASE,
)
_SMALL_TALK = re.compile(r"^(?:thanks|thank you|thx|ty|ok|okay|k|cool|great|hi|hello|hey|sorry)\W*$", re.IGNORECASE)
_BARE_ANSWER = re.compile(r"^(?:y|yes|yeah|yep|no|nope|n|ok|okay|sure|maybe|idk|dunno|\W*)$", re.IGNORECASE)


def _now() -> datetime:
    return datetime.now(timezone.utc)


@lru_cache(maxsize=1)
def _clinic() -> clinic.Clinic:
    return clinic.load()


def is_red_flag(message: Dict[Text, Any], red_flag_open: Optional[str] = None) -> bool:
    """The red-flag layer marks a message by intent or entity; either way the emergency reply must win.
    A refusal ("can it wait till Monday?") counts only while a red flag is open (slot red_flag_open)."""
    intent = (message.get("intent") or {}).get("name") or ""
    if intent == _PUSHBACK and red_flag_open in _NO_RED_FLAG_OPEN:
        return False
    if intent.startswith(_RED_FLAG_PREFIX) and intent not in _NOT_A_RED_FLAG:
        return True
    return any(str(e.get("entity", "")).startswith("red_flag") for e in message.get("entities") or [])


def backs_out(message: Dict[Text, Any], red_flag_open: Optional[str] = None) -> bool:
    """"never mind, I'll phone you myself", "actually cancel that": the person no longer wants the call. Not a
    red flag (that reply comes first), and not a plain "cancel" (the stop rule answers that)."""
    intent = (message.get("intent") or {}).get("name")
    return bool(_BACKS_OUT.search(message.get("text") or "")) and intent != "stop" and not is_red_flag(message, red_flag_open)


def is_interruption(message: Dict[Text, Any], red_flag_open: Optional[str] = None) -> bool:
    """True when the message should be answered by a rule instead of filling the requested slot."""
    if is_red_flag(message, red_flag_open):
        return True
    intent = message.get("intent") or {}
    name = intent.get("name") or ""
    if name == "stop":
        return True
    confident = (intent.get("confidence") or 0.0) >= QUESTION_CONFIDENCE
    return confident and (name in _QUESTION_INTENTS or name.startswith(_QUESTION_PREFIXES))


def clean_name(text: str) -> Optional[str]:
    """'my name is mary o'neil' → "Mary O'Neil"; None when it cannot be a name."""
    name = _NAME_LEAD_IN.sub("", (text or "").strip()).strip(" .,!?\"'")
    name = _NAME_TRAIL.sub("", name)  # "Ana Ruiz here", "Bea speaking"
    name = re.sub(r"\s+", " ", name)
    if not name or len(name) > MAX_NAME_CHARS or len(name.split()) > MAX_NAME_WORDS:
        return None
    if name.lower() in _NOT_A_NAME or not _NAME_CHARS.match(name):
        return None
    if any(word.strip(".'’") in _SENTENCE_WORDS for word in name.lower().split()):
        return None
    if name == name.lower() or name == name.upper():  # "mary o'neil" → "Mary O'Neil"
        name = re.sub(r"(^|[\s\-'’])(\w)", lambda m: m.group(1) + m.group(2).upper(), name.lower())
    return name


def name_in(text: str) -> Optional[str]:
    """A name introduced inside a longer message, or None: the words after "this is", "my name is" up to
    a word that shows a sentence ("this is Dave Smith and my number is" gives "Dave Smith"), or a
    capitalised name of two or three words written just before a phone number ("Tom Reyes, 419-...")."""
    for pattern in (_NAME_IN_SENTENCE, _NAME_BY_NUMBER, _NAME_OPENS):
        match = pattern.search(text or "")
        if not match:
            continue
        if pattern is _NAME_OPENS and not (_NAME_OPENS_SAYS_IT.search(text) and match.group(1)[:1].isupper()):
            continue  # "Sure, ..." or "Thanks, ..." open a sentence; a name says "here", "it's" or "this is"
        words = []
        for word in next(g for g in match.groups() if g).split():
            if word.lower().strip(".'’") in _SENTENCE_WORDS or word.lower() in _NOT_A_NAME:
                break
            words.append(word)
        name = clean_name(" ".join(words)) if words else None
        if name:
            return name
    return None


def time_in(text: str) -> Optional[str]:
    """The short part of a longer message that says when to call ("Tom, 419-555-0163, mornings are best"
    gives "mornings are best"), or None."""
    for part in re.split(r"[,.;:!?\n]+|\s+-\s+", text or ""):
        part = part.strip()
        if part and _TIME_WORDS.search(re.sub(r"[\d()+\-\s]{7,}", " ", part)) and len(part.split()) <= _TIME_CLAUSE_WORDS \
                and not looks_like_a_number(part):
            return clean_best_time(re.sub(r"^(?:but|and|or)\s+", "", part, flags=re.IGNORECASE))
    return None


# the words around a changed time: "sorry, could you change it to Friday morning" -> "Friday morning"
_CHANGE_TIME = re.compile(
    r"^(?:actually|sorry|oh|ok|okay|wait)\b[,]?\s*|\b(?:can|could) you (?:make|change) (?:that|it)(?: to)?\s*|"
    r"\b(?:make|change) (?:that|it)(?: to)?\s*|\s*\binstead\b|\s*\bplease\b",
    re.IGNORECASE,
)


def is_a_time(text: str) -> bool:
    """A short message that only says when to call ("weekdays after lunch", "could you change it to
    Friday morning"): not a name, number or question."""
    words = text.split()
    return bool(words) and len(words) <= _TIME_CLAUSE_WORDS + 2 and bool(_TIME_WORDS.search(text)) \
        and not text.rstrip().endswith("?") and not looks_like_a_number(text) and name_in(text) is None \
        and not _BACKS_OUT.search(text) and consent_from({"text": text}) is None


def clean_best_time(text: str) -> Optional[str]:
    value = re.sub(r"\s+", " ", (text or "").strip()).strip(" .!")
    if not value or len(value) > MAX_TIME_CHARS or _BARE_ANSWER.match(value):
        return None
    if parse_us_phone(value).ok:  # a phone number typed at the wrong question
        return None
    return value


def consent_from(message: Dict[Text, Any]) -> Optional[bool]:
    """An explicit yes or no; anything else (None) is asked again."""
    text = (message.get("text") or "").strip()
    intent = (message.get("intent") or {}).get("name")
    if intent == "affirm" or text == "/affirm":
        return True
    if intent == "deny" or text == "/deny":
        return False
    if _NO.match(text) and not re.match(r"^no problem\b", text, re.IGNORECASE):
        return False
    if _BACKS_OUT.search(text):
        return False
    if _YES.match(text):
        return True
    return None


class ValidateCallbackForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_callback_form"

    # --- extraction: the requested slot takes the whole message, unless the message is something else ---

    @staticmethod
    def _answer_for(slot: Text, tracker: Tracker) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != slot or is_interruption(tracker.latest_message, tracker.get_slot("red_flag_open")) \
                or backs_out(tracker.latest_message, tracker.get_slot("red_flag_open")):
            return {}
        return {slot: tracker.latest_message.get("text") or ""}

    async def extract_callback_name(self, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        requested = tracker.get_slot("requested_slot")
        message = tracker.latest_message
        text = message.get("text") or ""
        if is_red_flag(message, tracker.get_slot("red_flag_open")):
            return {}
        if requested != "callback_name":
            # given up front ("this is Dave, please call me"), beside the number at another question, or
            # corrected at the confirmation
            name = name_in(text)
            if name and (requested == "callback_consent" or tracker.get_slot("callback_name") is None):
                return {"callback_name": name}
            return {}
        if clean_name(text) is None:
            name = name_in(text)
            if name:
                return {"callback_name": name}  # "Her name is Angela Moore."
            if parse_us_phone(text).ok or _SMALL_TALK.match(text.strip()) or is_a_time(text):
                return {}  # the number, a time, or "thanks" at the name question: taken elsewhere or let pass; asked again
        return self._answer_for("callback_name", tracker)

    async def extract_callback_phone(self, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        message = tracker.latest_message
        text = message.get("text") or ""
        if is_red_flag(message, tracker.get_slot("red_flag_open")) or (message.get("intent") or {}).get("name") == "stop":
            return {}
        requested = tracker.get_slot("requested_slot")
        if requested == "callback_phone" and looks_like_a_number(text):
            return {"callback_phone": text}  # digits win over the classifier: numbers look like "handoff_phone"
        if requested == "callback_phone" and is_a_time(text):
            return {}  # "weekday evenings are best": the time is kept (extract_callback_best_time), the number asked again
        if requested != "callback_phone" and parse_us_phone(text).ok:
            # "please call me back on <number>" up front, a number given at another question, or
            # "sorry wrong number, it's 419-555-0199" at a later one: the new number
            return {"callback_phone": text}
        return self._answer_for("callback_phone", tracker)

    async def extract_callback_best_time(self, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        message = tracker.latest_message
        text = (message.get("text") or "").strip()
        requested = tracker.get_slot("requested_slot")
        if is_red_flag(message, tracker.get_slot("red_flag_open")) or (message.get("intent") or {}).get("name") == "stop":
            return {}
        if looks_like_a_number(text):
            # a number with a time beside it ("Tom, 419-555-0163, mornings are best"): the time part only
            found = time_in(text)
            return {"callback_best_time": found} if found and tracker.get_slot("callback_best_time") is None else {}
        if requested == "callback_best_time" and _TIME_WORDS.search(text) and not text.endswith("?"):
            return {"callback_best_time": text}  # "tomorrow after 2": a time wins over the classifier, like digits for the phone
        if requested in ("callback_name", "callback_phone", "callback_consent") and is_a_time(text) \
                and (tracker.get_slot("callback_best_time") is None or requested == "callback_consent"):
            # "weekdays after lunch" at the name question, "change it to Friday morning" at the confirmation
            return {"callback_best_time": time_in(text) or _CHANGE_TIME.sub("", text).strip(" ,.!")}
        return self._answer_for("callback_best_time", tracker)

    async def required_slots(self, domain_slots: List[Text], dispatcher, tracker: Tracker, domain) -> List[Text]:
        """All four, until the person backs out: then nothing more is asked and the request ends unsent."""
        if tracker.get_slot("callback_consent") is False:
            return ["callback_consent"]
        return domain_slots

    async def extract_callback_consent(self, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        message = tracker.latest_message
        if backs_out(message, tracker.get_slot("red_flag_open")):
            # "actually cancel that, I'll come by in person" at any question, even beside a question of its
            # own: a no, so nothing is sent and the form ends (required_slots) with the clinic's contacts
            return {"callback_consent": False}
        if tracker.get_slot("requested_slot") != "callback_consent" or is_interruption(
            tracker.latest_message, tracker.get_slot("red_flag_open")
        ):
            return {}
        text = tracker.latest_message.get("text") or ""
        if parse_us_phone(text).ok or name_in(text) or is_a_time(text):
            return {}  # a correction, not an answer: the confirmation is asked again with the new details
        answer = consent_from(tracker.latest_message)
        # An unclear answer is passed on as text so that validation can say what is wrong.
        return {"callback_consent": answer if answer is not None else tracker.latest_message.get("text") or ""}

    # --- validation: a clear reason when the answer cannot be used; the form then asks again ---
    # A slot set to None (a fresh request resets every field) is "not given yet", never a wrong answer:
    # the SDK validates every slot set since the last message, so without this check a new request
    # opened with four error messages before its first question.

    @staticmethod
    def _cleaned(slot: Text, clean, value: Any, dispatcher: CollectingDispatcher) -> Dict:
        if value is None:
            return {slot: None}
        cleaned = clean(str(value))
        if cleaned is None:
            dispatcher.utter_message(response=f"utter_{slot}_invalid")
        return {slot: cleaned}

    def validate_callback_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> Dict:
        return self._cleaned("callback_name", clean_name, value, dispatcher)

    def validate_callback_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> Dict:
        if value is None:
            return {"callback_phone": None, "callback_phone_display": None}
        result = parse_us_phone(str(value))
        if result.e164 is None:  # = not result.ok
            dispatcher.utter_message(response=f"utter_callback_phone_{result.problem}")
            return {"callback_phone": None, "callback_phone_display": None}
        return {"callback_phone": result.e164, "callback_phone_display": format_us(result.e164)}

    def validate_callback_best_time(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> Dict:
        return self._cleaned("callback_best_time", clean_best_time, value, dispatcher)

    def validate_callback_consent(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> Dict:
        if value is None or isinstance(value, bool):
            return {"callback_consent": value}
        dispatcher.utter_message(response="utter_callback_consent_unclear")
        return {"callback_consent": None}


def _reset() -> List[Dict[Text, Any]]:
    return [SlotSet(slot, None) for slot in SLOTS]


class ActionResetCallback(Action):
    """Forget a half-filled request (after 'cancel'), so the next request starts from the first question."""

    def name(self) -> Text:
        return "action_reset_callback"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        return _reset()


class ActionSubmitCallback(Action):
    """Puts a consented request in the staff queue (callback_requests, status 'new') and says when to expect the call."""

    def name(self) -> Text:
        return "action_submit_callback"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[Dict[Text, Any]]:
        if tracker.get_slot("callback_consent") is not True:
            dispatcher.utter_message(response="utter_callback_no_consent")
            return _reset()
        name = tracker.get_slot("callback_name")
        phone = tracker.get_slot("callback_phone")
        try:
            store_request(
                sender_id=tracker.sender_id,
                name=name,
                phone_e164=phone,
                best_time=tracker.get_slot("callback_best_time"),
                channel=tracker.get_latest_input_channel() or "unknown",
            )
        except Exception:  # any storage failure: the person must be told to call, and staff must see it in the log
            logger.exception("callback request NOT stored for sender %s: told the user to call the clinic", masked(tracker.sender_id))
            dispatcher.utter_message(response="utter_callback_save_failed")
            return _reset()
        now = _now()
        details = _clinic()
        if details.is_open(now):
            dispatcher.utter_message(response="utter_callback_saved_open", callback_name=name)
        else:
            dispatcher.utter_message(
                response="utter_callback_saved_closed",
                callback_name=name,
                callback_reply_when=details.next_opening_text(now),
            )
        return _reset()


_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")


def check_request(name: str, phone_e164: str, best_time: str) -> None:
    """The form's rules once more, at the door of the database: whatever reached this action (a forged
    tracker, another client), nothing longer or other than the form allows is stored."""
    # what clean_name can return (it is not idempotent: "Call Me Ask For Bob" cleans to something else,
    # and comparing the two once lost a request the form had accepted)
    if not name or len(name) > MAX_NAME_CHARS or clean_name(name) is None:
        raise ValueError("callback name is not one the form accepts")
    if not _E164.match(phone_e164 or ""):
        raise ValueError("callback phone is not an E.164 number")
    if not best_time or len(best_time) > MAX_TIME_CHARS:
        raise ValueError("callback time is empty or too long")


def store_request(sender_id: str, name: str, phone_e164: str, best_time: str, channel: str) -> int:
    """Insert one consented request; returns its id. Raises if the database cannot take it, or if the
    request is not one the form could have produced (check_request)."""
    from bot.store.db import session_scope
    from bot.store.models import CallbackRequest

    check_request(name, phone_e164, best_time)
    with session_scope(os.environ.get("DATABASE_URL") or None) as session:
        row = CallbackRequest(
            sender_id=sender_id,
            name=name,
            phone_e164=phone_e164,
            best_time=best_time,
            consent=True,
            channel=channel[:64],
            status="new",
        )
        session.add(row)
        session.flush()
        return row.id
