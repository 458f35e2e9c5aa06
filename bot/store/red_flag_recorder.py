"""Stores every red flag for the staff console, inside the tracker store's save transaction.

Registered with bot.store.tracker_store.register_event_hook, so it needs no action server and a
row exists exactly when the conversation that produced it is saved. Two sources, both read from
the tracker:
- the detector's findings in a message's parse data (`red_flags`, set by bot.nlu.red_flags), or
  the red-flag intent alone when only the classifier recognised it;
- a "yes" (or "not sure") to a symptom-check question (the form's requested slot at that moment says
  which) or to a safety question (utter_safety_question_<tier>; the category the question was about).
One row per message and category: duplicates in one save are merged, rows already stored are
skipped (Rasa's two-stage fallback re-sends a message with the same id), and the unique
constraint uq_red_flag_message_category backs both.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple

from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.channels.urgency import SAFETY_QUESTION_PREFIX
from bot.log_privacy import masked
from bot.store.models import RedFlagEvent
from bot.store.tracker_store import register_event_hook

logger = logging.getLogger(__name__)

RED_FLAG_INTENTS = {"red_flag_emergency": "EMERGENCY", "red_flag_crisis": "CRISIS", "red_flag_urgent": "URGENT"}
CLASSIFIER_ONLY = "recognised_by_classifier"
MAX_MATCHED_TEXT = 1000

# The symptom-check questions (forms in domain.yml): slot -> (tier, category, what was asked).
SYMPTOM_CHECK_FORMS = {"symptom_check_form", "symptom_check_urgent_form"}
SYMPTOM_CHECK_QUESTIONS: Dict[str, Tuple[str, str, str]] = {
    "symptom_bladder_bowel": ("EMERGENCY", "bladder_or_bowel", "new bladder or bowel trouble"),
    "symptom_saddle": ("EMERGENCY", "saddle_numbness", "numbness in the saddle area"),
    "symptom_legs_both": ("EMERGENCY", "leg_weakness_both", "weakness or numbness in both legs"),
    "symptom_leg_one": ("URGENT", "leg_weakness_one", "numbness or weakness in one leg"),
    "symptom_fever_wound": ("URGENT", "fever_or_wound", "fever, chills or wound problem"),
    "symptom_chest_breath": ("EMERGENCY", "chest_or_breathing", "chest pain or sudden shortness of breath"),
    "symptom_calf": ("URGENT", "calf_clot", "a swollen, red, warm or painful calf"),
    "symptom_headache": ("URGENT", "positional_headache", "a headache worse sitting or standing up"),
}
YES_ANSWERS = {"affirm", "unsure", "red_flag_about_me"}  # "not sure" counts as yes, to be safe; so does "it's me"
ABOUT_ME = "red_flag_about_me"
RECENT_SURGERY = "red_flag_recent_surgery"
# a vague sign of a tier, as the answer to that tier's safety question or inside the check, counts as "not sure"
VAGUE_SIGN = {f"red_flag_unsure_{tier.lower()}": tier for tier in RED_FLAG_INTENTS.values()}
VAGUE_SIGN_ENDS_CHECK = {"symptom_check_form": "EMERGENCY", "symptom_check_urgent_form": "URGENT"}
SAFETY_QUESTIONS = {f"{SAFETY_QUESTION_PREFIX}{tier.lower()}": tier for tier in RED_FLAG_INTENTS.values()}


@dataclass(frozen=True)
class Before:
    """The conversation just before a user message: what a yes answers."""

    active_loop: Optional[str] = None
    requested_slot: Optional[str] = None
    last_action: Optional[str] = None
    category: Optional[str] = None  # red_flag_category slot (what a safety question was about)
    open_tier: Optional[str] = None  # red_flag_open slot: a red-flag reply the conversation stays with
    asked: Optional[str] = None  # red_flag_asked slot: the tier of a red flag only asked about
    asked_category: Optional[str] = None  # red_flag_asked_category slot


SLOT_FIELDS = {"red_flag_category": "category", "red_flag_open": "open_tier", "red_flag_asked": "asked",
               "red_flag_asked_category": "asked_category"}


@dataclass(frozen=True)
class Detected:
    tier: str
    category: str
    matched_text: str


def detections(event: UserUttered, before: Before) -> List[Detected]:
    """The red flags one user message reports, given the conversation just before it."""
    parse_data = event.parse_data or {}
    found = [
        Detected(str(f.get("tier")), str(f.get("category")), str(f.get("text") or ""))
        for f in parse_data.get("red_flags") or []
        if f.get("tier") and f.get("category")
    ]
    if found:
        return found
    intent = (event.intent or {}).get("name")
    if intent in RED_FLAG_INTENTS:
        return [Detected(RED_FLAG_INTENTS[intent], CLASSIFIER_ONLY, event.text or "")]
    if intent in VAGUE_SIGN:
        return _vague_sign_as_answer(event, before, VAGUE_SIGN[intent])
    if intent == RECENT_SURGERY and before.asked == "urgent" and before.open_tier in (None, "cleared"):
        # as data/rules/red_flags.yml answers it: a same-day question, then the date of the operation
        category = before.asked_category or "safety_question"
        return [Detected("URGENT", category, f"asked about, then: {event.text or 'a recent operation'}")]
    if intent not in YES_ANSWERS:
        return []
    if before.active_loop in SYMPTOM_CHECK_FORMS and before.requested_slot in SYMPTOM_CHECK_QUESTIONS:
        tier, category, asked = SYMPTOM_CHECK_QUESTIONS[before.requested_slot]
        return [Detected(tier, category, f'symptom check, "{asked}?": {event.text or "yes"}')]
    if before.last_action in SAFETY_QUESTIONS:
        category = before.category or "safety_question"
        return [Detected(SAFETY_QUESTIONS[before.last_action], category, f"safety question: {event.text or 'yes'}")]
    if intent == ABOUT_ME and before.asked and before.open_tier in (None, "cleared"):
        # as data/rules/red_flags.yml answers it: a question about a red flag, then "it's me"
        category = before.asked_category or "asked_about"
        return [Detected(before.asked.upper(), category, f"asked about, then: {event.text or 'it is me'}")]
    return []


def _vague_sign_as_answer(event: UserUttered, before: Before, tier: str) -> List[Detected]:
    """A vague sign given as the answer to its tier's safety question, or inside the check whose rule ends
    it with that tier's reply; anywhere else it is only asked about (a question, no row)."""
    answers_question = before.last_action == f"{SAFETY_QUESTION_PREFIX}{tier.lower()}"
    ends_check = VAGUE_SIGN_ENDS_CHECK.get(before.active_loop or "") == tier
    if not (answers_question or ends_check):
        return []
    entities = {e.get("entity"): e.get("value") for e in (event.parse_data or {}).get("entities") or []}
    category = entities.get("red_flag_asked_category") or before.category or "safety_question"
    return [Detected(tier, str(category), f"vague sign as the answer: {event.text or ''}")]


def loop_states(tracker: DialogueStateTracker, wanted: Iterable[UserUttered]) -> Dict[int, Before]:
    """The conversation just before each wanted event, by replaying the tracker."""
    wanted_ids = {id(e) for e in wanted}
    states: Dict[int, Before] = {}
    state: Dict[str, Optional[str]] = {}
    for event in tracker.events:
        if id(event) in wanted_ids:
            states[id(event)] = Before(**state)
        if isinstance(event, ActiveLoop):
            state["active_loop"] = event.name
        elif isinstance(event, SlotSet) and event.key == "requested_slot":
            state["requested_slot"] = event.value
        elif isinstance(event, SlotSet) and event.key in SLOT_FIELDS:
            state[SLOT_FIELDS[event.key]] = event.value
        elif isinstance(event, ActionExecuted) and event.action_name != "action_listen":
            state["last_action"] = event.action_name
    return states


def record_red_flags(session: Any, tracker: DialogueStateTracker, new_user_events: List[UserUttered]) -> None:
    """Event hook: add one RedFlagEvent row per new message and category (see module docstring)."""
    states = loop_states(tracker, new_user_events)
    rows: Dict[Tuple[str, str], RedFlagEvent] = {}
    for event in new_user_events:
        message_id = str(event.message_id or event.timestamp)[:64]
        for found in detections(event, states.get(id(event), Before())):
            rows.setdefault(
                (message_id, found.category),
                RedFlagEvent(
                    sender_id=tracker.sender_id,
                    message_id=message_id,
                    created_at=_utc(event.timestamp),
                    tier=found.tier,
                    category=found.category,
                    matched_text=found.matched_text[:MAX_MATCHED_TEXT],
                    channel=event.input_channel or "unknown",
                    status="new",
                ),
            )
    if not rows:
        return
    stored = {
        (m, c)
        for m, c in session.query(RedFlagEvent.message_id, RedFlagEvent.category).filter(
            RedFlagEvent.sender_id == tracker.sender_id,
            RedFlagEvent.message_id.in_({m for m, _ in rows}),
        )
    }
    new_rows = [row for key, row in rows.items() if key not in stored]
    session.add_all(new_rows)
    for row in new_rows:
        logger.info("red flag recorded: %s %s (sender %s, channel %s)", row.tier, row.category, masked(row.sender_id), row.channel)


def _utc(timestamp: Optional[float]) -> datetime:
    if not timestamp:
        return datetime.now(timezone.utc).replace(tzinfo=None)
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).replace(tzinfo=None)


register_event_hook(record_red_flags)
