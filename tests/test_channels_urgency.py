"""Red-flag replies are marked with their tier on the REST channel (the widget's banner relies on it)
and come before anything else in the same turn."""
from __future__ import annotations

import asyncio

import pytest

from bot.channels.urgency import TierTaggingCollector, tier_of_message, tier_of_response, tiered_first


@pytest.mark.parametrize(
    "response, tier",
    [
        ("utter_red_flag_emergency", "emergency"),
        ("utter_red_flag_emergency_why", "emergency"),
        ("utter_red_flag_crisis_support", "crisis"),
        ("utter_red_flag_urgent", "urgent"),
        ("utter_red_flag_denied", None),
        ("utter_greet", None),
        ("utter_edu_warning_signs", None),
        (None, None),
    ],
)
def test_tier_comes_from_the_response_name(response, tier):
    assert tier_of_response(response) == tier


def test_collector_marks_every_part_of_a_red_flag_reply():
    collector = TierTaggingCollector()
    asyncio.run(collector.send_response("u1", {"text": "Hello.", "utter_action": "utter_greet"}))
    asyncio.run(collector.send_response("u1", {"text": "Go now.\n\nDon't drive.", "utter_action": "utter_red_flag_emergency"}))
    assert [m.get("metadata", {}).get("tier") for m in collector.messages] == [None, "emergency", "emergency"]
    assert tiered_first(collector.messages)[0]["text"] == "Go now."


def test_ordering_keeps_everything_else_in_place():
    turn = [{"text": "a"}, {"text": "b", "metadata": {"tier": "urgent"}}, {"text": "c"}, {"text": "d", "custom": {"tier": "crisis"}}]
    assert [m["text"] for m in tiered_first(turn)] == ["b", "d", "a", "c"]
    assert tier_of_message(turn[3]) == "crisis"


def tiers(messages):
    return [(m.get("metadata") or {}).get("tier") for m in messages]


def test_emergency_reply_over_rest_is_marked_and_first(chat):
    messages = chat.send(chat.new_sender("tier"), "I suddenly can't control my bladder")
    assert messages and tiers(messages)[0] == "emergency", messages
    assert "emergency room" in messages[0]["text"].lower()


def test_crisis_reply_over_rest_is_marked(chat):
    messages = chat.send(chat.new_sender("tier"), "i just want to end my life, i can't take this pain anymore")
    assert tiers(messages)[0] == "crisis", messages


def test_ordinary_answers_carry_no_tier(chat):
    for text in ["hi", "what is post-laminectomy syndrome?", "how do I contact the clinic"]:
        assert set(tiers(chat.send(chat.new_sender("tier"), text))) == {None}, text
