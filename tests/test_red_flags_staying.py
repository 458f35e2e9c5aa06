"""Red-flag dialogues over REST, compared as the whole sequence of responses a person reads.

After an emergency the conversation stays with it (a refusal gets the instruction again, with the
reason); a caregiver is spoken to as a caregiver; a vague sign gets one direct question where "not sure"
counts as yes; Spanish gets the tier replies in Spanish; a question about a word gets the answer and no
alert; a correction is acknowledged. Rows staff will see are checked beside the replies.
"""
from __future__ import annotations

from typing import List

import pytest
import sqlalchemy as sa

from bot.store.db import engine_for
from bot.store.models import RedFlagEvent
from bot.store.red_flag_recorder import CLASSIFIER_ONLY

pytestmark = pytest.mark.timeout(600)

EMERGENCY = ["utter_red_flag_emergency", "utter_red_flag_emergency_why", "utter_red_flag_emergency_after"]
EMERGENCY_AGAIN = ["utter_red_flag_emergency_again", "utter_red_flag_emergency_why"]
CRISIS = ["utter_red_flag_crisis", "utter_red_flag_crisis_support", "utter_red_flag_crisis_after"]
URGENT = ["utter_red_flag_urgent", "utter_red_flag_urgent_why"]


def tiers(database_url: str, sender: str) -> List[tuple]:
    with engine_for(database_url).connect() as conn:
        result = conn.execute(
            sa.select(RedFlagEvent.tier, RedFlagEvent.category).where(RedFlagEvent.sender_id == sender).order_by(RedFlagEvent.id)
        )
        return [tuple(r) for r in result]


@pytest.mark.parametrize("report, category, answer, reply", [
    # a refusal: the instruction again, with the reason
    ("I haven't been able to pee since last night", "urinary_retention",
     "I really don't want to sit in the ER all night, can it wait until my appointment on Monday?", EMERGENCY_AGAIN),
    # going: go now, and what to watch; not the instruction again
    ("my wife can't feel her legs since lunch, both of them", "leg_weakness_both",
     "ok, fine, my brother is driving us to the hospital now", ["utter_red_flag_accepted_emergency"]),
])
def test_what_follows_the_emergency_reply_is_answered_as_such_then_the_conversation_goes_on(chat, database_url, report, category, answer, reply):
    sender = chat.new_sender("stay-after")
    assert chat.conversation(sender, [report, answer, "what is radiofrequency ablation?"]) == [
        EMERGENCY, reply, ["utter_edu_treatment_rfa"],
    ]
    assert tiers(database_url, sender) == [("EMERGENCY", category)]


def test_a_refusal_after_the_urgent_reply_gets_call_today_again(chat):
    sender = chat.new_sender("stay-urgent")
    assert chat.conversation(sender, [
        "my incision has gone red and there is pus coming out",
        "I'll just wait it out until Thursday",
    ]) == [URGENT, ["utter_red_flag_urgent_again", "utter_red_flag_urgent_why"]]


def test_a_caregiver_gets_the_crisis_line_worded_for_them_and_it_stays_when_he_says_he_is_fine(chat, database_url, clinic_values):
    sender = chat.new_sender("stay-caregiver")
    replies = chat.send(sender, "my father said tonight he is going to shoot himself, there are guns in the house")
    assert [m["metadata"]["response"] for m in replies] == CRISIS
    assert clinic_values["crisis_line"] in replies[0]["text"] and "family" in replies[0]["text"]
    assert "stay with them" in replies[1]["text"].lower() and "lock away" in replies[1]["text"].lower()
    assert chat.responses(sender, "he says he was only venting, forget it") == ["utter_red_flag_crisis_again"]
    assert tiers(database_url, sender) == [("CRISIS", "suicidal_thoughts")]


def test_an_emergency_for_somebody_else_tells_the_caregiver_what_to_do(chat):
    sender = chat.new_sender("stay-other")
    replies = chat.send(sender, "my husband can't feel his legs and can't stand up")
    assert [m["metadata"]["response"] for m in replies] == EMERGENCY
    assert replies[0]["text"].startswith("Please get them to the nearest emergency room now")


def test_a_vague_sign_gets_one_question_and_not_sure_counts_as_yes(chat, database_url):
    sender = chat.new_sender("stay-unsure")
    replies = chat.send(sender, "my bladder has felt odd since the operation")
    assert [m["metadata"]["response"] for m in replies] == ["utter_safety_question_emergency"]
    assert replies[0]["metadata"]["safety_question"] is True
    assert [b["payload"] for b in replies[0]["buttons"]] == ["/affirm", "/deny", "/unsure"]
    assert chat.responses(sender, "hmm, I'm not really sure") == EMERGENCY
    assert tiers(database_url, sender) == [("EMERGENCY", "bladder_control")]


def test_no_to_the_safety_question_goes_on_with_the_safety_net_and_files_nothing(chat, database_url):
    sender = chat.new_sender("stay-no")
    assert chat.conversation(sender, ["my bladder has felt odd since the operation", "/deny"]) == [
        ["utter_safety_question_emergency"], ["utter_safety_answer_no"]]
    assert tiers(database_url, sender) == []


def test_a_vague_crisis_sign_asks_directly(chat, database_url):
    sender = chat.new_sender("stay-crisis-q")
    assert chat.conversation(sender, ["honestly what is the point of all this", "yes"]) == [
        ["utter_safety_question_crisis"], CRISIS]
    assert [t for t, _ in tiers(database_url, sender)] == ["CRISIS"]


def test_spanish_gets_the_emergency_reply_in_spanish_and_the_clinic_in_spanish(chat, clinic_values):
    sender = chat.new_sender("stay-es")
    replies = chat.send(sender, "desde anoche no puedo orinar y me duele mucho")
    assert [m["metadata"]["response"] for m in replies] == EMERGENCY
    assert replies[0]["text"].startswith("Por favor, vaya a la sala de emergencias") and clinic_values["emergency_number"] in replies[0]["text"]
    assert replies[1]["text"].startswith("Usted me habló de no poder orinar")
    other = chat.send(chat.new_sender("stay-es2"), "hola, cuánto cuesta una inyección epidural?")
    assert [m["metadata"]["response"] for m in other] == ["utter_spanish_contact"]
    assert clinic_values["clinic_phone"] in other[0]["text"] and "costos" in other[0]["text"]


def test_a_question_about_a_word_gets_the_answer_and_no_alert(chat, database_url):
    sender = chat.new_sender("stay-term")
    assert chat.responses(sender, "what is cauda equina syndrome?") == ["utter_edu_warning_signs"]
    assert tiers(database_url, sender) == []


def test_a_correction_is_acknowledged_with_the_safety_net(chat):
    sender = chat.new_sender("stay-retract")
    assert chat.conversation(sender, ["he can't walk, his legs just collapsed", "sorry, I meant my dog, wrong chat"]) == [
        EMERGENCY, ["utter_red_flag_retracted"]]


def test_the_symptom_check_asks_eight_questions_and_ends_with_the_safety_net(chat):
    sender = chat.new_sender("stay-check")
    turns = chat.conversation(sender, ["can you check my symptoms"] + ["/deny"] * 8)
    assert turns == [
        ["utter_symptom_check_intro", "utter_ask_symptom_bladder_bowel"],
        ["utter_ask_symptom_saddle"], ["utter_ask_symptom_legs_both"], ["utter_ask_symptom_chest_breath"],
        ["utter_ask_symptom_leg_one"], ["utter_ask_symptom_fever_wound"], ["utter_ask_symptom_calf"],
        ["utter_ask_symptom_headache"], ["utter_symptom_check_clear", "utter_symptom_check_help"],
    ]


def test_not_sure_in_the_symptom_check_gives_the_tier_reply(chat, database_url):
    sender = chat.new_sender("stay-check-unsure")
    turns = chat.conversation(sender, ["can you check my symptoms", "/deny", "/deny", "/deny", "I don't know"])
    assert turns[-1] == ["utter_red_flag_emergency", "utter_red_flag_emergency_check_why", "utter_red_flag_emergency_after"]
    assert tiers(database_url, sender) == [("EMERGENCY", "chest_or_breathing")]


def test_thoughts_of_dying_right_after_the_emergency_reply_get_the_instruction_again_and_the_crisis_line(chat, database_url):
    sender = chat.new_sender("stay-crisis-after-emergency")
    assert chat.conversation(sender, [
        "both my legs have gone numb since this morning and it is spreading",
        "no, I'm not going anywhere, I'd honestly rather be dead",
    ]) == [EMERGENCY, ["utter_red_flag_emergency_again", *CRISIS]]
    assert tiers(database_url, sender) == [("EMERGENCY", "leg_weakness_both"), ("CRISIS", "suicidal_thoughts")]


def test_a_refusal_in_words_no_pattern_knows_still_gets_the_instruction_again(chat, database_url):
    sender = chat.new_sender("stay-net-refusal")
    assert chat.conversation(sender, [
        "my husband can't pee at all since yesterday",
        "she won't go, says it's the tablets",
    ]) == [EMERGENCY, EMERGENCY_AGAIN]
    assert tiers(database_url, sender) == [("EMERGENCY", "urinary_retention")]


def test_a_crisis_in_words_no_pattern_knows_gets_the_crisis_line_and_one_row(chat, database_url):
    sender = chat.new_sender("net-crisis")
    assert chat.responses(sender, "some nights I think it would be easier to just stop") == CRISIS
    assert tiers(database_url, sender) == [("CRISIS", CLASSIFIER_ONLY)]


def test_how_to_get_there_after_an_emergency_reply_is_answered_not_refused(chat):
    sender = chat.new_sender("getting-there")
    assert chat.responses(sender, "both my legs went numb an hour ago and it's getting worse")[:1] == EMERGENCY[:1]
    replies = chat.send(sender, "can my brother drive me or should I get an ambulance?")
    assert [r["metadata"]["response"] for r in replies] == ["utter_red_flag_accepted_emergency"]
    assert "Someone can drive you" in replies[0]["text"] and "call 911" in replies[0]["text"]


def test_a_refusal_after_an_overdose_with_thoughts_of_dying_keeps_the_crisis_line(chat):
    sender = chat.new_sender("overdose-refusal")
    first = chat.responses(sender, "I swallowed a whole bottle of my oxycodone, I want to die")
    assert first[0] == "utter_red_flag_emergency"
    replies = chat.send(sender, "no, I don't want an ambulance")
    assert [r["metadata"]["response"] for r in replies] == EMERGENCY_AGAIN
    assert "988" in replies[0]["text"]


def test_a_callback_request_while_a_crisis_is_open_keeps_the_crisis_line_first(chat):
    sender = chat.new_sender("crisis-callback")
    assert chat.responses(sender, "honestly I don't want to be alive anymore")[:1] == CRISIS[:1]
    assert chat.responses(sender, "can someone from the clinic phone me tomorrow about my meds?") == [
        "utter_red_flag_crisis_again", "utter_ask_callback_name",
    ]


def test_an_emergency_after_a_crisis_keeps_the_crisis_line_in_its_reply(chat, database_url, clinic_values):
    sender = chat.new_sender("stay-emergency-after-crisis")
    assert chat.responses(sender, "honestly I don't want to be alive anymore") == CRISIS
    replies = chat.send(sender, "and now I've wet myself without feeling it")
    assert [m["metadata"]["response"] for m in replies] == EMERGENCY
    assert replies[-1]["text"].startswith("You told me earlier that you may be thinking about ending your life.")
    assert clinic_values["crisis_line"] in replies[-1]["text"]
    assert tiers(database_url, sender) == [("CRISIS", "suicidal_thoughts"), ("EMERGENCY", "bladder_control")]


def test_an_emergency_without_a_crisis_before_it_has_no_crisis_line(chat, clinic_values):
    replies = chat.send(chat.new_sender("stay-emergency-alone"), "I've wet myself without feeling it twice today")
    assert [m["metadata"]["response"] for m in replies] == EMERGENCY
    assert clinic_values["crisis_line"] not in replies[-1]["text"]


@pytest.mark.parametrize("report, answer", [
    # minimising by how often, keeping it for a routine visit
    ("I haven't been able to pee since last night", "it's probably a fluke, I'll raise it at my next appointment"),
    # doing it themselves instead
    ("my bladder is full and nothing comes out since this morning", "I can self cath at home, I've done it before"),
    # a question about the word in the reply, with "do I really have to go?"
    ("my bum and groin have gone numb since lunch", "what is cauda equina? do I really need to go in tonight?"),
])
def test_minimising_after_the_emergency_reply_gets_the_instruction_again(chat, report, answer):
    sender = chat.new_sender("stay-minimise")
    assert chat.conversation(sender, [report, answer]) == [EMERGENCY, EMERGENCY_AGAIN]


def test_a_vague_urgent_sign_gets_the_question_that_names_every_urgent_sign(chat):
    texts = chat.texts(chat.new_sender("stay-urgent-question"), "something is going on at my scar, not sure what")
    assert len(texts) == 1 and "fever" in texts[0] and "one leg" in texts[0] and "calf" in texts[0] and "headache" in texts[0]


WARNING_SIGNS = ["utter_edu_warning_signs"]


@pytest.mark.parametrize("question, claim, spanish, row", [
    # a question about the words, then the writer's own: its reply, and the row staff follow up
    ("what does saddle anaesthesia mean?", "i'm the one this is happening to", False, ("EMERGENCY", "saddle_numbness")),
    ("what does cauda equina mean?", "I think that is me", False, ("EMERGENCY", "cauda_equina")),
    ("¿qué significa cauda equina?", "pues soy yo, la verdad", True, ("EMERGENCY", "cauda_equina")),
])
def test_a_question_about_a_red_flag_then_its_me_gets_the_tier_reply_and_a_row(chat, database_url, question, claim, spanish, row):
    sender = chat.new_sender("asked-then-me")
    assert chat.responses(sender, question) == WARNING_SIGNS
    assert tiers(database_url, sender) == []
    replies = chat.send(sender, claim)
    assert [m["metadata"]["response"] for m in replies] == EMERGENCY
    assert replies[0]["text"].startswith("Por favor" if spanish else "Please go to the nearest emergency room now")
    assert tiers(database_url, sender) == [row]


def test_its_me_after_the_caregiver_reply_repeats_the_instruction_to_the_writer_and_with_nothing_asked_asks(chat, database_url):
    sender = chat.new_sender("me-after-reply")
    assert chat.responses(sender, "my brother can't pass urine since this morning") == EMERGENCY
    replies = chat.send(sender, "it's me actually, not him")
    assert [m["metadata"]["response"] for m in replies] == EMERGENCY
    assert replies[0]["text"].startswith("Please go to the nearest emergency room now")
    assert tiers(database_url, sender) == [("EMERGENCY", "urinary_retention")]
    other = chat.new_sender("me-nothing-asked")
    assert chat.responses(other, "that's me") == ["utter_red_flag_pushback_none"]
    assert tiers(database_url, other) == []


@pytest.mark.parametrize("vague, answer", [
    # "it's me" counts as yes
    ("my waterworks have been a bit strange since the op", "yes that's me"),
    # a vague sign again counts as not sure
    ("my bladder has felt odd since the operation", "hard to say, maybe a bit of leaking"),
])
def test_a_yes_in_other_words_to_the_safety_question_gives_the_tier_reply_and_a_row(chat, database_url, vague, answer):
    sender = chat.new_sender("safety-answer")
    assert chat.conversation(sender, [vague, answer]) == [["utter_safety_question_emergency"], EMERGENCY]
    assert [t for t, _ in tiers(database_url, sender)] == ["EMERGENCY"]


@pytest.mark.parametrize("message, response, opening", [
    # a Spanish question naming a topic gets that answer in Spanish; a request the clinic handles, the contact
    ("¿para qué sirve la ablación por radiofrecuencia?", "utter_edu_treatment_rfa", "La ablación por radiofrecuencia"),
    ("¿cuáles son los síntomas del síndrome de espalda fallida?", "utter_edu_symptoms", "El síntoma principal"),
    ("necesito una cita para mi esposo", "utter_spanish_contact", "Hola."),
])
def test_spanish_questions_about_the_topics_are_answered_in_spanish(chat, database_url, message, response, opening):
    sender = chat.new_sender("es-topic")
    replies = chat.send(sender, message)
    assert [m["metadata"]["response"] for m in replies] == [response]
    assert replies[0]["text"].startswith(opening)
    assert tiers(database_url, sender) == []


def test_where_is_the_nearest_one_after_the_emergency_reply_is_an_emergency_room_not_the_clinic(chat, clinic_values):
    sender = chat.new_sender("nearest")
    assert chat.responses(sender, "both my legs went numb an hour ago and I can barely stand") == EMERGENCY
    replies = chat.send(sender, "alright. which is the closest hospital?")
    assert [m["metadata"]["response"] for m in replies] == ["utter_red_flag_emergency_where"]
    assert clinic_values["clinic_address"] not in replies[0]["text"] and clinic_values["emergency_number"] in replies[0]["text"]


@pytest.mark.parametrize("answer, spanish", [
    ("could we just manage it at home instead?", False),
    ("olvídelo, seguro estoy exagerando", True),
    # a home remedy first, in Spanish
    ("¿y si mejor le hago un té y vemos si mejora?", True),
])
def test_home_instead_or_spanish_minimising_after_the_reply_gets_the_instruction_again(chat, answer, spanish):
    sender = chat.new_sender("home-instead")
    first = "mi esposo no puede orinar desde anoche" if spanish else "my husband hasn't been able to pee since last night"
    assert chat.conversation(sender, [first, answer]) == [EMERGENCY, EMERGENCY_AGAIN]


def test_a_vague_sign_as_the_answer_to_a_check_question_ends_the_check_with_the_tier_reply(chat, database_url):
    sender = chat.new_sender("check-vague")
    assert chat.conversation(sender, ["can you check my symptoms", "my waterworks are a bit iffy I suppose"]) == [
        ["utter_symptom_check_intro", "utter_ask_symptom_bladder_bowel"],
        ["utter_red_flag_emergency", "utter_red_flag_emergency_check_why", "utter_red_flag_emergency_after"],
    ]
    assert [t for t, _ in tiers(database_url, sender)] == ["EMERGENCY"]


@pytest.mark.parametrize("first, first_reply, then, rows", [
    # after the same-day question: the operation's date makes it same-day, and staff see it
    ("something is going on at my scar, not sure what", ["utter_safety_question_urgent"], URGENT, ["URGENT"]),
    # after an emergency reply: the instruction stands (one row: the report)
    ("my husband hasn't been able to pee since last night", EMERGENCY, EMERGENCY_AGAIN, ["EMERGENCY"]),
    # with nothing asked: the person's history, thanked for
    ("hello", ["utter_greet"], ["utter_share_history"], []),
    ("explain what a laminectomy is", ["utter_edu_laminectomy"], ["utter_share_history"], []),
])
def test_the_date_of_the_operation_told_next_is_read_with_what_came_before(chat, database_url, first, first_reply, then, rows):
    sender = chat.new_sender("op-date")
    assert chat.conversation(sender, [first, "oh, and the operation was eight days ago"]) == [first_reply, then]
    assert [t for t, _ in tiers(database_url, sender)] == rows


def test_a_correction_naming_an_animal_clears_the_emergency(chat):
    sender = chat.new_sender("retract-animal")
    assert chat.conversation(sender, ["she can't stand up at all since this morning", "sorry, I was asking about our horse"]) == [
        EMERGENCY, ["utter_red_flag_retracted"]]


def test_a_general_question_about_a_sign_gets_the_warning_signs_and_its_my_mum_the_caregiver_reply(chat, database_url):
    sender = chat.new_sender("asked-then-other")
    assert chat.responses(sender, "hypothetically if someone lost feeling in their groin what should they do") == ["utter_edu_warning_signs"]
    replies = chat.send(sender, "oh it's my mum actually")
    assert [m["metadata"]["response"] for m in replies] == EMERGENCY
    assert replies[0]["text"].startswith("Please get them to the nearest emergency room now")
    assert tiers(database_url, sender) == [("EMERGENCY", "saddle_numbness")]


@pytest.mark.parametrize("answer, reply", [
    # going, in a few words the classifier reads as a refusal: where to go, not the instruction again
    ("ringing 911 now, thanks", ["utter_red_flag_accepted_emergency"]),
    # going, but tomorrow: a delay, answered as a refusal
    ("my son can drive me tomorrow instead", EMERGENCY_AGAIN),
])
def test_going_now_is_accepted_and_going_later_is_a_refusal(chat, answer, reply):
    sender = chat.new_sender("going-or-later")
    assert chat.conversation(sender, ["I haven't been able to pee since last night", answer]) == [EMERGENCY, reply]


@pytest.mark.parametrize("report, opening", [
    ("I took like 15 of my tramadol about an hour ago", "If you took them on purpose"),
    ("she took about 20 of her gabapentin after lunch", "If they may have taken them on purpose"),
    ("mi papá se tomó como 12 pastillas de tramadol", "Si las pastillas se tomaron a propósito"),
])
def test_an_overdose_with_no_word_of_intent_gets_the_crisis_line_beside_the_emergency(chat, clinic_values, report, opening):
    replies = chat.send(chat.new_sender("overdose-intent"), report)
    assert [m["metadata"]["response"] for m in replies] == EMERGENCY
    assert replies[2]["text"].startswith(opening) and clinic_values["crisis_line"] in replies[2]["text"]
