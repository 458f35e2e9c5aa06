"""Which replies are red-flag replies, and putting them first on every channel.

A reply's tier is known from the response that produced it (response names are a convention:
utter_red_flag_emergency*, utter_red_flag_crisis*, utter_red_flag_urgent*), so the domain needs no
extra markup and the tier survives any channel. The widget shows tiered replies as banners; the
messaging channels send them first. This module is the only place that knows the mapping.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel

EMERGENCY, CRISIS, URGENT = "emergency", "crisis", "urgent"
TIERS = (EMERGENCY, CRISIS, URGENT)

# Longest prefixes first does not matter here: the prefixes do not overlap.
_TIER_BY_RESPONSE_PREFIX = (
    ("utter_red_flag_emergency", EMERGENCY),
    ("utter_red_flag_crisis", CRISIS),
    ("utter_red_flag_urgent", URGENT),
    # not utter_red_flag_accepted_*: "we are on our way in the car" is answered with where to go and what to
    # watch for, an ordinary reply to someone already going, not a new alarm (no banner, no tier)
)


def tier_of_response(response_name: Optional[Text]) -> Optional[str]:
    """The tier of a response by its name, or None for ordinary replies."""
    if not response_name:
        return None
    for prefix, tier in _TIER_BY_RESPONSE_PREFIX:
        if response_name.startswith(prefix):
            return tier
    return None


def tier_of_message(message: Dict[Text, Any]) -> Optional[str]:
    """The tier of an outgoing message dict (as Rasa hands it to an output channel, or as collected).

    Looks at the producing response's name, a tier already attached by tag(), and a
    `custom: {tier: ...}` payload a response may carry itself.
    """
    metadata = message.get("metadata")
    if isinstance(metadata, dict) and metadata.get("tier") in TIERS:
        return metadata["tier"]
    custom = message.get("custom")
    if isinstance(custom, dict) and custom.get("tier") in TIERS:
        return custom["tier"]
    return tier_of_response(message.get("utter_action"))


SAFETY_QUESTION_PREFIX = "utter_safety_question_"  # one direct yes/no question when a sign is vague


def is_safety_question(message: Dict[Text, Any]) -> bool:
    """A reply that asks the person a direct yes/no safety question (channels may show it as urgent)."""
    return str(message.get("utter_action") or "").startswith(SAFETY_QUESTION_PREFIX)


def tiered_first(messages: Iterable[Dict[Text, Any]]) -> List[Dict[Text, Any]]:
    """Red-flag replies before anything else in the same turn; order is otherwise kept.

    The dialogue already answers a red flag first; this guarantees it on every channel even
    when a red flag interrupts another flow that had something to say.
    """
    messages = list(messages)
    return [m for m in messages if tier_of_message(m)] + [m for m in messages if not tier_of_message(m)]


class TierTaggingCollector(CollectingOutputChannel):
    """Collects replies like Rasa's REST collector, marking each with metadata: the response's name,
    the tier of red-flag replies, and safety_question on a direct yes/no safety question."""

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        tier = tier_of_message(message)
        first_new = len(self.messages)
        await super().send_response(recipient_id, message)
        marks: Dict[Text, Any] = {"tier": tier} if tier else {}
        if is_safety_question(message):
            marks["safety_question"] = True
        if message.get("utter_action"):  # which response this is: staff review, tests of exact sequences
            marks["response"] = message["utter_action"]
        if marks:
            for collected in self.messages[first_new:]:
                collected["metadata"] = {**collected.get("metadata", {}), **marks}
