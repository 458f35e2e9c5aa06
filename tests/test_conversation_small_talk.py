"""Small talk, repair and the everyday messages around the education answers, over REST, compared as the
whole sequence of responses a person reads (issue #13, items 5 and 6). Phrasings written for these tests."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(600)


def test_yes_and_no_after_anything_else_are_understood(chat):
    sender = chat.new_sender("smalltalk-yes-no")
    assert chat.conversation(sender, ["thanks a bunch", "yes", "thank you", "no"]) == [
        ["utter_you_are_welcome"], ["utter_ask_what_else"], ["utter_you_are_welcome"], ["utter_goodbye"],
    ]


def test_a_thumbs_up_is_a_yes(chat):
    sender = chat.new_sender("smalltalk-emoji")
    assert chat.responses(sender, "👍") == ["utter_ask_what_else"]


@pytest.mark.parametrize("text", ["I've had 3 operations on my lower back since 2015", "my pain is about 8 out of 10 most days"])
def test_a_story_with_numbers_is_acknowledged_not_answered_with_surgery(chat, text):
    assert chat.responses(chat.new_sender("smalltalk-story"), text) == ["utter_share_history"]


def test_unhappy_with_the_answers_gets_an_apology_and_a_person(chat, clinic_values):
    sender = chat.new_sender("smalltalk-frustrated")
    replies = chat.send(sender, "this is not helping at all")
    assert [r["metadata"]["response"] for r in replies] == ["utter_frustration"]
    assert clinic_values["clinic_phone"] in replies[0]["text"]
    assert "/request_callback" in [b["payload"] for b in replies[0]["buttons"]]


def test_a_new_fall_gets_the_clinic_today_with_the_emergency_signs_and_no_alert(chat, database_url, clinic_values):
    sender = chat.new_sender("smalltalk-injury")
    replies = chat.send(sender, "I tripped over the dog this morning and my back is way worse now")
    assert [r["metadata"]["response"] for r in replies] == ["utter_new_injury"]
    assert clinic_values["clinic_phone"] in replies[0]["text"] and clinic_values["emergency_number"] in replies[0]["text"]
    assert "tier" not in replies[0]["metadata"]


@pytest.mark.parametrize("text, response", [
    ("stuck on the highway, I'll be about 20 minutes late", "utter_running_late"),
    ("how can I get my x-ray images sent to another doctor", "utter_records_request"),
])
def test_late_arrivals_and_records_go_to_the_front_desk(chat, text, response):
    assert chat.responses(chat.new_sender("smalltalk-desk"), text) == [response]


def test_open_right_now_is_answered_at_the_moment_of_asking(chat):
    # the test stack's clock (CLINIC_CLOCK in conftest) is a Monday at 10 am at the clinic
    replies = chat.send(chat.new_sender("smalltalk-open"), "are you guys open right now?")
    assert [r["metadata"]["response"] for r in replies] == ["utter_handoff_hours"]
    assert replies[0]["text"].startswith("The office is open now, until 4:30 pm today.")


def test_two_misses_in_a_row_offer_a_person_with_the_phone_and_a_call_back(chat, clinic_values):
    sender = chat.new_sender("smalltalk-misses")
    assert chat.responses(sender, "blorp zzq") == ["utter_ask_rephrase"]
    replies = chat.send(sender, "mmm flibber wonk")
    assert [r["metadata"]["response"] for r in replies] == ["utter_default"]
    assert clinic_values["clinic_phone"] in replies[0]["text"]
    assert "/request_callback" in [b["payload"] for b in replies[0]["buttons"]]


def test_a_no_after_an_answer_closes_kindly_instead_of_a_fallback(chat):
    sender = chat.new_sender("no-after-answer")
    assert chat.conversation(sender, ["tell me about nerve blocks please", "nah i'm good"]) == [
        ["utter_edu_treatment_nerve_block"], ["utter_deny_nothing_asked"],
    ]
