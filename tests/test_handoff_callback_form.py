"""The callback request over the real REST channel, checked against the rows staff will see."""
import pytest
import sqlalchemy as sa

# A fictional number (555-01xx is reserved for fiction) typed the way people type it.
PHONE_TYPED = "(419) 555-0142"
PHONE_E164 = "+14195550142"


def rows_for(database_url, sender):
    with sa.create_engine(database_url).connect() as c:
        return c.execute(
            sa.text(
                "SELECT name, phone_e164, best_time, consent, channel, status FROM callback_requests WHERE sender_id = :s"
            ),
            {"s": sender},
        ).fetchall()


def start(chat, sender, text="can someone call me back?"):
    """Every start shows the first question and nothing else (it once opened with four error messages)."""
    assert chat.responses(sender, text) == ["utter_ask_callback_name"], text


@pytest.mark.parametrize("opening", ["can someone call me back?", "/request_callback", "I'd like a nurse to phone me"])
def test_every_way_of_asking_opens_with_the_first_question_alone(chat, opening):
    start(chat, chat.new_sender("callback-start"), opening)


def test_happy_path_stores_one_new_request_and_says_when_the_clinic_will_call(chat, database_url, clinic_values):
    sender = chat.new_sender("callback")
    start(chat, sender)
    assert "phone number" in chat.joined(sender, "my name is Mary Smith").lower()
    assert "good time" in chat.joined(sender, PHONE_TYPED).lower()
    confirm = chat.send(sender, "weekday mornings")
    text = " ".join(m.get("text", "") for m in confirm)
    assert "Mary Smith" in text and PHONE_TYPED in text and "weekday mornings" in text  # read back before consent
    assert {"Yes", "No"} <= {b["title"] for m in confirm for b in m.get("buttons", [])}
    done = chat.joined(sender, "yes")
    assert "Mary Smith" in done and clinic_values["clinic_name"] in done
    # When to expect the call, from clinic.yml's hours: open now, or when it opens next.
    assert "open now" in done or "opens again" in done
    assert clinic_values["clinic_phone"] in done and clinic_values["emergency_number"] in done
    assert rows_for(database_url, sender) == [("Mary Smith", PHONE_E164, "weekday mornings", 1, "rest", "new")]


def test_the_form_starts_again_from_the_first_question_after_a_request(chat, database_url):
    sender = chat.new_sender("callback")
    start(chat, sender)
    for answer in ["Ann", "419.555.0142", "any time", "yes"]:
        chat.send(sender, answer)
    start(chat, sender, "please have the nurse call me")  # asks the name again: nothing carried over
    for answer in ["Ann", "4195550199", "after 2pm", "yes"]:
        chat.send(sender, answer)
    assert [r[1] for r in rows_for(database_url, sender)] == ["+14195550142", "+14195550199"]


@pytest.mark.parametrize(
    "bad,what_is_wrong",
    [("419-555-01", "too short"), ("419-555-CALL", "letters"), ("+44 20 7946 0958", "US"), ("no idea", "couldn't find")],
)
def test_an_invalid_phone_number_is_explained_and_asked_again(chat, database_url, bad, what_is_wrong):
    sender = chat.new_sender("callback")
    start(chat, sender)
    chat.send(sender, "Pat")
    reply = chat.joined(sender, bad)
    assert what_is_wrong in reply
    assert "phone number" in reply.lower()  # the question again
    assert "good time" in chat.joined(sender, "1-419-555-0142").lower()  # a good number moves on
    chat.send(sender, "evenings")
    chat.send(sender, "yes")
    assert [r[1] for r in rows_for(database_url, sender)] == [PHONE_E164]


@pytest.mark.parametrize("answers_before_cancel", [[], ["Lee"], ["Lee", PHONE_TYPED], ["Lee", PHONE_TYPED, "mornings"]])
@pytest.mark.parametrize("cancel", ["cancel", "stop", "never mind"])
def test_cancel_leaves_the_form_at_any_question_and_stores_nothing(chat, database_url, clinic_values, answers_before_cancel, cancel):
    sender = chat.new_sender("callback")
    start(chat, sender)
    for answer in answers_before_cancel:
        chat.send(sender, answer)
    reply = chat.joined(sender, cancel)
    assert "cancelled" in reply and clinic_values["clinic_phone"] in reply
    assert rows_for(database_url, sender) == []
    # The conversation goes on normally: the next message is not taken as a form answer.
    assert clinic_values["clinic_email"] in chat.joined(sender, "what's your email address")


def answer_up_to_consent(chat):
    sender = chat.new_sender("callback")
    start(chat, sender)
    for answer in ["Kim", PHONE_TYPED, "any time"]:
        chat.send(sender, answer)
    return sender


def test_saying_no_to_consent_stores_nothing_and_gives_the_way_to_reach_the_clinic(chat, database_url, clinic_values):
    sender = answer_up_to_consent(chat)
    reply = chat.joined(sender, "no")
    assert "won't pass on your number" in reply
    assert clinic_values["clinic_phone"] in reply and clinic_values["clinic_email"] in reply
    assert rows_for(database_url, sender) == []


def test_an_unclear_consent_is_asked_again_and_nothing_is_stored_until_yes(chat, database_url):
    sender = answer_up_to_consent(chat)
    reply = chat.joined(sender, "hmm what for")
    assert "yes or no" in reply
    assert rows_for(database_url, sender) == []
    chat.send(sender, "yes")
    assert len(rows_for(database_url, sender)) == 1


def test_a_question_in_the_middle_is_answered_and_the_form_goes_on(chat, database_url, clinic_values):
    sender = chat.new_sender("callback")
    start(chat, sender)
    chat.send(sender, "Robin")
    reply = chat.joined(sender, "what are your office hours?")
    assert clinic_values["clinic_hours"] in reply  # the question is answered...
    assert "phone number" in reply.lower()  # ...and the form asks its question again
    for answer in [PHONE_TYPED, "mornings", "yes"]:
        chat.send(sender, answer)
    assert [r[0] for r in rows_for(database_url, sender)] == ["Robin"]


def test_a_number_given_with_the_request_is_not_asked_for_again(chat, database_url):
    sender = chat.new_sender("callback")
    start(chat, sender, "please call me back at 419.555.0142")
    assert "good time" in chat.joined(sender, "Jo").lower()
    chat.send(sender, "after lunch")
    chat.send(sender, "yes")
    assert rows_for(database_url, sender) == [("Jo", PHONE_E164, "after lunch", 1, "rest", "new")]


def test_an_emergency_during_the_form_gets_the_emergency_reply_first(chat, database_url, clinic_values):
    sender = chat.new_sender("callback")
    start(chat, sender)
    chat.send(sender, "Sam")
    messages = [m.get("text", "") for m in chat.send(sender, "I suddenly can't control my bladder")]
    assert clinic_values["emergency_number"] in messages[0] and "emergency" in messages[0].lower()
    assert rows_for(database_url, sender) == []  # the emergency message was not taken as a phone number


def test_the_call_me_button_under_contact_details_starts_the_request(chat, database_url):
    sender = chat.new_sender("callback")
    buttons = [b for m in chat.send(sender, "do you take medicaid") for b in m.get("buttons", [])]
    payload = next(b["payload"] for b in buttons if "call" in b["title"].lower())
    start(chat, sender, payload)
    for answer in ["Chris", PHONE_TYPED, "today", "/affirm"]:
        chat.send(sender, answer)
    assert [r[0] for r in rows_for(database_url, sender)] == ["Chris"]


def test_an_emergency_mid_request_pauses_it_and_going_on_keeps_what_was_given(chat, database_url):
    sender = chat.new_sender("callback-pause")
    start(chat, sender)
    assert chat.conversation(sender, ["Robin", "hang on, I suddenly can't feel my legs at all, both of them"]) == [
        ["utter_ask_callback_phone"],
        ["utter_red_flag_emergency", "utter_red_flag_emergency_why", "utter_red_flag_emergency_after", "utter_callback_paused"],
    ]
    assert chat.conversation(sender, ["/callback_resume", PHONE_TYPED, "after lunch", "/affirm"])[:3] == [
        ["utter_ask_callback_phone"], ["utter_ask_callback_best_time"], ["utter_ask_callback_consent"],
    ]
    assert [r[0] for r in rows_for(database_url, sender)] == ["Robin"]


def test_no_to_going_on_cancels_the_paused_request(chat, database_url):
    sender = chat.new_sender("callback-pause-no")
    start(chat, sender)
    chat.send(sender, "Kim")
    chat.send(sender, "my wound has opened up and it's leaking pus")
    assert chat.responses(sender, "/deny") == ["utter_callback_cancelled"]
    assert rows_for(database_url, sender) == []


def test_not_wanting_to_give_a_number_leaves_the_request_with_the_clinics_contacts(chat, database_url, clinic_values):
    sender = chat.new_sender("callback-decline")
    start(chat, sender)
    chat.send(sender, "Alex")
    replies = chat.send(sender, "hmm I'd prefer not to hand out my phone number")
    assert [r["metadata"]["response"] for r in replies] == ["utter_callback_declined"]
    assert clinic_values["clinic_phone"] in replies[0]["text"] and clinic_values["clinic_email"] in replies[0]["text"]
    assert rows_for(database_url, sender) == []


def test_a_time_that_sounds_like_putting_it_off_is_the_answer_to_when_to_call(chat, database_url):
    sender = chat.new_sender("callback-time")
    start(chat, sender)
    assert chat.conversation(sender, ["Jo", PHONE_TYPED, "maybe tomorrow, mornings are better"]) == [
        ["utter_ask_callback_phone"], ["utter_ask_callback_best_time"], ["utter_ask_callback_consent"],
    ]


def test_a_name_and_number_given_up_front_are_kept_and_only_the_time_is_asked(chat, database_url):
    sender = chat.new_sender("callback-upfront")
    assert chat.responses(sender, f"hi, this is Rosa Diaz, could someone call me back on {PHONE_TYPED}?") == ["utter_ask_callback_best_time"]
    assert chat.responses(sender, "after lunch") == ["utter_ask_callback_consent"]
    chat.send(sender, "yes")
    assert rows_for(database_url, sender) == [("Rosa Diaz", PHONE_E164, "after lunch", True, "rest", "new")]


def test_a_number_corrected_at_the_confirmation_is_the_one_stored(chat, database_url):
    sender = chat.new_sender("callback-correct")
    start(chat, sender)
    chat.send(sender, "Sam Lee")
    chat.send(sender, PHONE_TYPED)
    assert chat.responses(sender, "mornings") == ["utter_ask_callback_consent"]
    again = chat.send(sender, "sorry, it's actually 419 555 0199")
    assert [m["metadata"]["response"] for m in again] == ["utter_ask_callback_consent"]
    assert "(419) 555-0199" in again[0]["text"]  # read back with the new number before the yes
    chat.send(sender, "yes")
    assert rows_for(database_url, sender) == [("Sam Lee", "+14195550199", "mornings", True, "rest", "new")]


@pytest.mark.parametrize("when", ["tomorrow after 2", "after 3pm", "any time after 2"])
def test_a_time_the_classifier_reads_as_something_else_is_still_the_time(chat, database_url, when):
    sender = chat.new_sender("callback-time")
    start(chat, sender)
    chat.send(sender, "Pat Jones")
    chat.send(sender, PHONE_TYPED)
    assert chat.responses(sender, when) == ["utter_ask_callback_consent"]


def test_a_name_that_opens_the_message_is_kept_and_a_time_at_another_question_is_the_time(chat, database_url):
    sender = chat.new_sender("callback-opens")
    assert chat.conversation(sender, [
        "Priya Shah here, could somebody from the clinic ring me?",
        "weekday evenings are best",   # a time at the phone question: kept, the number is asked again
        PHONE_TYPED,
    ]) == [["utter_ask_callback_phone"], ["utter_ask_callback_phone"], ["utter_ask_callback_consent"]]
    chat.send(sender, "yes")
    assert rows_for(database_url, sender) == [("Priya Shah", PHONE_E164, "weekday evenings are best", True, "rest", "new")]


def test_name_number_and_time_in_one_message_the_classifier_misreads_still_start_the_request(chat, database_url):
    sender = chat.new_sender("callback-one-line")
    assert chat.responses(sender, f"ok please call: Omar Haddad, {PHONE_TYPED}, late afternoon") == ["utter_ask_callback_consent"]
    chat.send(sender, "yes")
    assert rows_for(database_url, sender) == [("Omar Haddad", PHONE_E164, "late afternoon", True, "rest", "new")]


def test_a_time_changed_at_the_confirmation_is_read_back_and_stored(chat, database_url):
    sender = chat.new_sender("callback-new-time")
    start(chat, sender)
    chat.conversation(sender, ["Lena Fox", PHONE_TYPED, "mornings"])
    again = chat.send(sender, "actually could you change that to after 3pm")
    assert [m["metadata"]["response"] for m in again] == ["utter_ask_callback_consent"] and "(after 3pm)" in again[0]["text"]
    chat.send(sender, "yes")
    assert rows_for(database_url, sender) == [("Lena Fox", PHONE_E164, "after 3pm", True, "rest", "new")]


@pytest.mark.parametrize("backing_out, reply", [
    ("never mind, I'll ring them myself tomorrow", "utter_callback_no_consent"),   # a no to the confirmation
    ("forget it", "utter_callback_cancelled"),   # read as cancel, as at any question
])
def test_backing_out_at_the_confirmation_stores_nothing(chat, database_url, backing_out, reply):
    sender = chat.new_sender("callback-back-out")
    start(chat, sender)
    chat.conversation(sender, ["Lena Fox", PHONE_TYPED, "mornings"])
    assert chat.responses(sender, backing_out) == [reply]
    assert rows_for(database_url, sender) == []


def test_declining_the_number_in_words_that_sound_like_a_refusal_stops_the_request(chat, database_url):
    sender = chat.new_sender("callback-decline-email")
    start(chat, sender)
    chat.send(sender, "Alex")
    assert chat.responses(sender, "rather not share my mobile, I'll write to them instead") == ["utter_callback_declined"]
    assert rows_for(database_url, sender) == []


@pytest.mark.parametrize("answers, backing_out", [
    # at the phone question, with a question of its own
    (["Lena Fox"], "oh never mind, I'll ring the office myself - what's the number?"),
    # at the confirmation, beside a question the classifier reads first
    (["Lena Fox", PHONE_TYPED, "mornings"], "actually cancel that, I'll drop in instead. what days are you open?"),
])
def test_backing_out_at_any_question_ends_the_request_unsent_with_the_clinics_contacts(chat, database_url, clinic_values, answers, backing_out):
    sender = chat.new_sender("callback-back-out-any")
    start(chat, sender)
    chat.conversation(sender, answers)
    replies = chat.send(sender, backing_out)
    assert [r["metadata"]["response"] for r in replies] == ["utter_callback_no_consent"]
    assert clinic_values["clinic_phone"] in replies[0]["text"]
    assert chat.responses(sender, "ok") != ["utter_callback_saved_open"]
    assert rows_for(database_url, sender) == []
