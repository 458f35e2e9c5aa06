"""Education conversations over the real REST channel: answers, "tell me more", risks, and the
two-stage fallback ("Did you mean …?", then the clinic's contact on a second miss).
"""
from __future__ import annotations

from typing import Dict, List

import pytest

from bot import knowledge

KB = knowledge.load()

# A near miss the model does not understand well enough, whose best guess is spinal cord stimulation.
NEAR_MISS = "stimmy"
GIBBERISH = "qwzx blorf"


def all_text(messages: List[Dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def buttons(messages: List[Dict]) -> List[Dict]:
    return [b for m in messages for b in m.get("buttons", [])]


# The key idea a patient must get from each answer, in the sources' own terms.
KEY_IDEAS = {
    "what does a spinal cord stimulator feel like": ["mild electrical pulses", "buzzing"],
    "what's a lamenectomy": ["lamina", "pressure"],
    "why no opioids for my back": ["usually not used", "side effects"],
    "epidural steroid injection?": ["steroid", "swelling"],
    "how do they break up scar tissue": ["scar tissue", "racz"],
    "is PLS a real diagnosis": ["failed back surgery syndrome", "not one exact diagnosis"],
    "what does the pain of failed back syndrome feel like": ["stabbing", "aching"],
    "what's a pain pump": ["pump", "spinal cord"],
    "RFA?": ["heat", "months"],
    "what is arachnoiditis": ["protect the spinal cord"],
    "why would I take antidepressants for pain": ["mental health", "never been depressed"],
    "does losing weight help my back": ["weight", "yoga"],
}


@pytest.mark.parametrize("question", sorted(KEY_IDEAS))
def test_answer_carries_the_key_idea(chat, question):
    text = all_text(chat.send(chat.new_sender("edu"), question)).lower()
    for idea in KEY_IDEAS[question]:
        assert idea in text, f"{question!r} -> {text!r} lacks {idea!r}"
    assert "{" not in text, text


def test_warning_signs_give_the_emergency_instruction_and_numbers(chat, clinic_values):
    text = all_text(chat.send(chat.new_sender("edu"), "which symptoms mean I need the ER?"))
    assert clinic_values["emergency_number"] in text and "emergency room" in text.lower(), text
    assert "bladder" in text.lower()


def test_tell_me_more_goes_deeper_then_hands_to_the_clinic(chat, clinic_values):
    sender = chat.new_sender("edu-more")
    first = all_text(chat.send(sender, "how does a spinal cord stimulator work?"))
    more = all_text(chat.send(sender, "tell me more"))
    assert more and more != first
    assert "neuropathic" in more.lower(), more  # the extra detail the sources give about SCS
    last = all_text(chat.send(sender, "more please"))
    assert clinic_values["clinic_phone"] in last and last not in (first, more), last


def test_tell_me_more_on_a_topic_without_more_detail_says_so_kindly(chat, clinic_values):
    sender = chat.new_sender("edu-more")
    first = all_text(chat.send(sender, "what is a nerve block"))
    reply = chat.send(sender, "can you tell me more about that?")
    assert clinic_values["clinic_phone"] in all_text(reply) and all_text(reply) != first
    assert any("clinic" in b["title"].lower() for b in buttons(reply)), reply


def test_tell_me_more_with_no_topic_asks_which_topic(chat):
    reply = chat.send(chat.new_sender("edu-more"), "tell me more")
    titles = [b["title"].lower() for b in buttons(reply)]
    assert "?" in all_text(reply) and any("treat" in t for t in titles), reply


def test_risks_after_a_treatment_answer_go_to_the_clinic(chat, clinic_values):
    sender = chat.new_sender("edu-risks")
    chat.send(sender, "what is radiofrequency ablation")
    text = all_text(chat.send(sender, "what about the risks?"))
    assert clinic_values["clinic_phone"] in text and "risk" in text.lower(), text
    text = all_text(chat.send(sender, "side effects?"))
    assert clinic_values["clinic_phone"] in text, text


# --- two-stage fallback -------------------------------------------------------------------------------

def test_near_miss_is_low_confidence_with_scs_as_best_guess(nlu):
    """Precondition for the fallback tests below (if the model changes, pick another near miss)."""
    parsed = nlu(NEAR_MISS)
    assert parsed["intent"]["name"] == "nlu_fallback", parsed["intent"]
    assert any(r["name"] == "edu_treatment_scs" for r in parsed["intent_ranking"][1:4]), parsed["intent_ranking"]


def test_did_you_mean_offers_readable_topics_and_a_click_answers(chat):
    sender = chat.new_sender("edu-fallback")
    reply = chat.send(sender, NEAR_MISS)
    assert "did you mean" in all_text(reply).lower(), reply
    offered = buttons(reply)
    assert offered and offered[-1]["payload"] == "/out_of_scope", reply
    titles = {b["title"]: b["payload"] for b in offered}
    assert titles.get(KB.topics["edu_treatment_scs"].title) == "/edu_treatment_scs", titles
    assert all("_" not in title for title in titles), titles
    assert any("clinic" in title.lower() for title in titles), titles  # a person is always one click away

    answer = all_text(chat.send(sender, "/edu_treatment_scs"))
    direct = all_text(chat.send(chat.new_sender("edu-direct"), "what is spinal cord stimulation"))
    assert answer == direct
    # the conversation goes on normally afterwards
    assert "neuropathic" in all_text(chat.send(sender, "tell me more")).lower()


def test_none_of_these_asks_to_rephrase_and_the_rephrase_is_answered(chat):
    sender = chat.new_sender("edu-fallback")
    chat.send(sender, NEAR_MISS)
    rephrase = all_text(chat.send(sender, "/out_of_scope"))
    assert "another way" in rephrase.lower() or "rephrase" in rephrase.lower(), rephrase
    answer = all_text(chat.send(sender, "the spinal cord stimulator implant"))
    assert "buzzing" in answer.lower(), answer


def test_second_miss_gives_the_clinic_contact(chat, clinic_values):
    sender = chat.new_sender("edu-fallback")
    chat.send(sender, NEAR_MISS)
    give_up = all_text(chat.send(sender, GIBBERISH))
    assert clinic_values["clinic_phone"] in give_up, give_up
    assert "lamina" in all_text(chat.send(sender, "what is a laminectomy")).lower()  # and it goes on


def test_rejecting_twice_gives_the_clinic_contact(chat, clinic_values):
    sender = chat.new_sender("edu-fallback")
    chat.send(sender, NEAR_MISS)
    chat.send(sender, "/out_of_scope")            # none of these -> please rephrase
    second = chat.send(sender, NEAR_MISS)         # still unclear -> asks once more
    assert buttons(second)[-1]["payload"] == "/out_of_scope", second
    give_up = all_text(chat.send(sender, "/out_of_scope"))
    assert clinic_values["clinic_phone"] in give_up, give_up


def test_talk_to_the_clinic_from_did_you_mean_gives_the_contact(chat, clinic_values):
    sender = chat.new_sender("edu-fallback")
    offered = buttons(chat.send(sender, NEAR_MISS))
    clinic_button = next(b for b in offered if "clinic" in b["title"].lower())
    assert clinic_values["clinic_phone"] in all_text(chat.send(sender, clinic_button["payload"]))
