"""Red-flag conversations over REST, as the widget has them, and the rows staff will see.

The running stack is real (Rasa, action server, SQLite tracker store); these tests assert what a
person reads: the first message of an emergency reply sends them to the emergency room, crisis
gives the 988 line, urgent gives the clinic's number from clinic.yml, a red flag interrupts the
symptom check or another form, and the conversation goes on afterwards.
"""
from __future__ import annotations

from typing import List

import pytest
import sqlalchemy as sa

from bot.store.db import engine_for
from bot.store.models import RedFlagEvent

pytestmark = pytest.mark.timeout(600)

Q1, Q2, Q3, Q4, Q5, Q6, Q7, Q8 = (f"{n} of 8" for n in range(1, 9))


def says(messages: List[str], *needles: str) -> bool:
    joined = "\n".join(messages).lower()
    return all(n.lower() in joined for n in needles)


def rows(database_url: str, sender: str) -> List[RedFlagEvent]:
    with engine_for(database_url).connect() as conn:
        result = conn.execute(sa.select(RedFlagEvent.__table__).where(RedFlagEvent.sender_id == sender).order_by(RedFlagEvent.id))
        return list(result)


def is_emergency_first(messages: List[str], clinic_values) -> bool:
    return says(messages[:1], "emergency room", clinic_values["emergency_number"])


# ---------------------------------------------------------------- the three replies
def test_emergency_reply_comes_first_then_what_and_why_then_the_clinic(chat, clinic_values):
    sender = chat.new_sender("rf-emergency")
    texts = chat.texts(sender, "since this morning i keep peeing myself and i cant feel it")
    assert len(texts) == 3, texts
    assert is_emergency_first(texts, clinic_values)
    assert says(texts[1:2], "bladder control") and "{" not in texts[1]
    assert says(texts[2:], clinic_values["clinic_phone"])
    assert not says(texts, clinic_values["crisis_line"])


def test_emergency_with_suicidal_thoughts_also_gives_the_crisis_line(chat, clinic_values):
    sender = chat.new_sender("rf-both")
    texts = chat.texts(sender, "I lost control of my bowels and honestly I want to die")
    assert is_emergency_first(texts, clinic_values)
    assert says(texts[1:], clinic_values["crisis_line"], "call or text")


def test_crisis_reply_gives_988_and_911_and_a_kind_word(chat, clinic_values):
    sender = chat.new_sender("rf-crisis")
    texts = chat.texts(sender, "i dont want to be here anymore, everyone would be better off without me")
    assert says(texts[:1], clinic_values["crisis_line"], "call or text", clinic_values["emergency_number"])
    assert says(texts, "sorry") and says(texts, clinic_values["clinic_phone"])
    assert not says(texts, "emergency room now")


def test_urgent_reply_gives_the_clinic_phone_and_when_to_go_to_the_er(chat, clinic_values):
    sender = chat.new_sender("rf-urgent")
    texts = chat.texts(sender, "my incision is red and there's yellow stuff coming out")
    assert says(texts[:1], clinic_values["clinic_phone"], "today", "emergency room", clinic_values["emergency_number"])
    assert says(texts[1:], "wound")


def test_negated_symptoms_and_treatment_questions_get_no_red_flag_reply(chat, database_url):
    sender = chat.new_sender("rf-negated")
    for text in ["no bladder problems", "I don't have numbness", "will a stimulator affect my bladder?", "can RFA cause numbness?"]:
        texts = chat.texts(sender, text)
        assert texts and not says(texts, "nearest emergency room now"), (text, texts)
    assert rows(database_url, sender) == []


def test_after_a_red_flag_the_next_question_gets_its_usual_answer(chat, clinic_values):
    sender = chat.new_sender("rf-continue")
    chat.texts(sender, "my legs keep giving out")
    texts = chat.texts(sender, "thank you")
    assert texts and not says(texts, "emergency room now")
    greeting = chat.texts(sender, "hello")
    assert greeting and not says(greeting, "emergency room now")


def test_a_red_flag_after_a_misunderstood_message_is_still_answered(chat, clinic_values):
    sender = chat.new_sender("rf-fallback")
    chat.texts(sender, "blorp zzkq wibble")
    texts = chat.texts(sender, "i cant move my legs")
    assert is_emergency_first(texts, clinic_values)


# ---------------------------------------------------------------- the symptom check
def test_symptom_check_all_no_ends_with_no_red_flags_found(chat, clinic_values):
    sender = chat.new_sender("rf-check-clear")
    texts = chat.texts(sender, "can you check my symptoms")
    assert says(texts, Q1)
    buttons = [m.get("buttons") for m in chat.send(sender, "no") if m.get("buttons")]
    assert [b["payload"] for b in buttons[0]] == ["/affirm", "/deny", "/unsure"]  # the question asked is 2 of 8
    for answer, next_question in [("/deny", Q3), ("nope", Q4), ("no", Q5), ("no", Q6), ("no", Q7), ("no", Q8)]:
        assert says(chat.texts(sender, answer), next_question)
    end = chat.texts(sender, "no")
    assert says(end, "answered no to each warning sign", "not a diagnosis", clinic_values["clinic_phone"], clinic_values["emergency_number"])
    assert not says(end, "nearest emergency room now")


def test_yes_to_an_emergency_question_gives_the_emergency_reply_and_ends_the_check(chat, clinic_values, database_url):
    sender = chat.new_sender("rf-check-yes")
    chat.texts(sender, "check my symptoms")
    assert says(chat.texts(sender, "no"), Q2)
    texts = chat.texts(sender, "yes")
    assert is_emergency_first(texts, clinic_values)
    assert says(texts, "saddle area") and not says(texts, Q3)
    after = chat.texts(sender, "thanks")
    assert after and not says(after, Q3)
    stored = rows(database_url, sender)
    assert [(r.tier, r.category, r.channel) for r in stored] == [("EMERGENCY", "saddle_numbness", "rest")]


def test_yes_to_a_same_day_question_gives_the_urgent_reply(chat, clinic_values):
    sender = chat.new_sender("rf-check-urgent")
    chat.texts(sender, "symptom check")
    for _ in range(4):
        chat.texts(sender, "no")
    texts = chat.texts(sender, "yes")
    assert says(texts[:1], clinic_values["clinic_phone"], "today")
    assert not says(texts, "nearest emergency room now")


def test_a_red_flag_typed_during_the_check_interrupts_it_at_once(chat, clinic_values, database_url):
    sender = chat.new_sender("rf-check-interrupt")
    chat.texts(sender, "can you check my symptoms")
    assert says(chat.texts(sender, "no"), Q2)
    texts = chat.texts(sender, "well actually this morning i wet myself and didnt notice")
    assert is_emergency_first(texts, clinic_values)
    assert not says(texts, Q2) and not says(texts, Q3)  # no more questions: go now
    after = chat.texts(sender, "what is post laminectomy syndrome")
    assert after and not says(after, "emergency room now") and not says(after, "of 8")
    stored = rows(database_url, sender)
    assert [(r.tier, r.category) for r in stored] == [("EMERGENCY", "bladder_control")]


def test_an_urgent_sign_during_the_emergency_questions_is_answered_and_the_check_goes_on(chat, clinic_values):
    sender = chat.new_sender("rf-check-urgent-typed")
    chat.texts(sender, "check my symptoms")
    texts = chat.texts(sender, "no but I have had a fever since last night")
    assert says(texts[:1], clinic_values["clinic_phone"], "today")
    assert says(texts[-1:], Q1)  # the same question again
    assert says(chat.texts(sender, "no"), Q2)


def test_stop_leaves_the_check_and_the_bot_answers_normally_after(chat):
    sender = chat.new_sender("rf-check-stop")
    chat.texts(sender, "can you check my symptoms")
    stopped = chat.texts(sender, "stop")
    assert says(stopped, "stopped") and not says(stopped, Q2)
    assert not says(chat.texts(sender, "no"), Q2)  # a later "no" is not taken as an answer


def test_a_second_check_asks_every_question_again(chat):
    sender = chat.new_sender("rf-check-twice")
    chat.texts(sender, "check my symptoms")
    for _ in range(8):
        chat.texts(sender, "no")
    again = chat.texts(sender, "can you check my symptoms again")
    assert says(again, Q1)


# ---------------------------------------------------------------- other forms and recording
def test_a_red_flag_interrupts_the_callback_form_which_is_paused_and_can_go_on(chat, clinic_values):
    sender = chat.new_sender("rf-callback")
    first = chat.texts(sender, "can someone call me back")
    texts = chat.texts(sender, "i cant feel my legs")
    assert is_emergency_first(texts, clinic_values)
    assert says(texts[-1:], "paused")  # the request waits; it does not ask its question as if nothing happened
    assert chat.texts(sender, "/callback_resume") == first[-1:]  # going on asks the same question again


def test_each_red_flag_is_recorded_once_per_message_and_category(chat, database_url):
    sender = chat.new_sender("rf-rows")
    chat.texts(sender, "I have a fever and my calf is swollen and hot")
    chat.texts(sender, "ok thanks")
    stored = rows(database_url, sender)
    assert sorted((r.tier, r.category) for r in stored) == [("URGENT", "calf_clot"), ("URGENT", "fever_or_chills")]
    assert len({r.message_id for r in stored}) == 1
    assert all(r.channel == "rest" and r.status == "new" and r.matched_text for r in stored)
    chat.texts(sender, "my calf is swollen and hot")  # a new message is a new row
    assert len(rows(database_url, sender)) == 3
