"""Handoff over the real REST channel: every question the bot must not answer gets a reason and the
clinic's contact details from clinic.yml; chit-chat gets the bot's scope."""
import re

import pytest

# Two messages per intent, phrased unlike the training data, as a patient might type them.
HANDOFF_MESSAGES = {
    "handoff_appointment": ["I need to move my appointment to another day", "can I book a first visit"],
    "handoff_human": ["can I please talk to a real person", "connect me to a nurse"],
    "handoff_location": ["where is your office", "is there parking at the clinic"],
    "handoff_phone": ["what's the clinic's phone number", "what number do I call"],
    "handoff_email": ["what's your email address", "can I email the clinic"],
    "handoff_hours": ["what are your office hours", "are you open on saturday"],
    "handoff_insurance": ["do you take medicare", "will my insurance cover a stimulator"],
    "handoff_cost": ["how much does an injection cost", "do you have payment plans"],
    "handoff_prescription": ["I need a refill of my gabapentin", "can I take ibuprofen with my meds"],
    "handoff_candidacy": ["am I a candidate for spinal cord stimulation", "would ablation work for me"],
    "handoff_test_results": ["what did my MRI show", "can you explain my x-ray results"],
    "handoff_personal_care": ["should I stop taking my meds", "my doctor said I need another surgery, should I"],
    "handoff_contact": ["how do I contact the clinic", "contact details please"],
}

# What each reply must add to the phone number and email, from clinic.yml.
EXTRA_DETAIL = {"handoff_location": "clinic_address", "handoff_hours": "clinic_hours"}


@pytest.mark.parametrize(
    "intent,text", [(i, t) for i, texts in HANDOFF_MESSAGES.items() for t in texts], ids=lambda v: str(v)[:40]
)
def test_every_handoff_question_gets_the_clinic_contact_details(chat, nlu, clinic_values, intent, text):
    assert nlu(text)["intent"]["name"] == intent, "the message must reach the intent under test"
    reply = chat.joined(chat.new_sender("handoff"), text)
    assert clinic_values["clinic_phone"] in reply
    assert clinic_values["clinic_email"] in reply
    if intent in EXTRA_DETAIL:
        assert clinic_values[EXTRA_DETAIL[intent]] in reply
    assert not re.search(r"\{[a-z_]+\}", reply), reply


@pytest.mark.parametrize(
    "text,reason",
    [
        ("I need to reschedule", "clinic team"),
        ("can you check if my insurance covers injections", "office team"),
        ("what would a nerve block cost me", "office team"),
        ("can I take tylenol with my muscle relaxer", "can't advise"),
        ("would a stimulator help me", "doctor who examines you"),
        ("what does my MRI say", "can't see or read test results"),
        ("should I stop my physical therapy", "can't give personal medical advice"),
        ("I want to talk to a human", "automated assistant"),
    ],
)
def test_the_reply_says_why_the_clinic_answers_instead_of_the_bot(chat, text, reason):
    assert reason in chat.joined(chat.new_sender("handoff"), text)


def test_contact_replies_offer_a_callback(chat):
    messages = chat.send(chat.new_sender("handoff"), "I want to book an appointment")
    payloads = [b["payload"] for m in messages for b in m.get("buttons", [])]
    assert "/request_callback" in payloads


@pytest.mark.parametrize("text", ["what's the weather going to be tomorrow", "order me a pizza", "who won the football game", "tell me a joke"])
def test_out_of_scope_gets_a_polite_scope_message_and_what_the_bot_can_do(chat, clinic_values, text):
    reply = chat.joined(chat.new_sender("oos"), text)
    assert "can't help with that" in reply
    assert "post-laminectomy syndrome" in reply and "emergency" in reply and "call you back" in reply
    assert clinic_values["clinic_name"] in reply


def test_medicine_questions_never_get_a_dose(chat):
    reply = chat.joined(chat.new_sender("handoff"), "how much gabapentin should I take")
    assert not re.search(r"\d+\s*(mg|milligram|pill|tablet)", reply, re.IGNORECASE)
    assert "can't advise" in reply
