"""The callback form's actions in-process: what each answer fills, what is refused and why, what is stored.

The conversation-level tests (tests/test_handoff_callback_form.py) run the same code through the real
servers; these cover the cases that are slow or impossible to reach over REST (database down, clock).
"""
import asyncio
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import callback
from bot.paths import ROOT
from bot.store import migrate

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
NY = ZoneInfo("America/New_York")


def message(text, intent="nlu_fallback", confidence=0.9, entities=()):
    return {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": list(entities)}


def form_tracker(latest, requested_slot=None, slots=None, channel="rest"):
    """A tracker as the form sees it: the user's message, then the form running."""
    all_slots = {name: None for name in DOMAIN["slots"]}
    all_slots.update(slots or {})
    all_slots["requested_slot"] = requested_slot
    events = [
        {"event": "user", "text": latest["text"], "parse_data": latest, "input_channel": channel},
        {"event": "slot", "name": "requested_slot", "value": requested_slot},
        {"event": "action", "name": "callback_form"},
    ]
    return Tracker("tester", all_slots, latest, events, False, None, {"name": "callback_form"}, "callback_form")


def run_form(latest, requested_slot, slots=None):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(callback.ValidateCallbackForm().run(dispatcher, form_tracker(latest, requested_slot, slots), DOMAIN))
    filled = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    responses = [m.get("response") for m in dispatcher.messages]
    return filled, responses


# --- what an answer fills -------------------------------------------------------------------------

def test_a_name_is_cleaned_and_kept():
    filled, responses = run_form(message("my name is mary o'neil"), "callback_name")
    assert filled == {"callback_name": "Mary O'Neil"} and responses == []


@pytest.mark.parametrize(
    "text", ["yes", "no", "?", "x" * 100, "one two three four five six seven", "I want to know why"]
)
def test_something_that_is_not_a_name_is_refused_with_a_reason(text):
    filled, responses = run_form(message(text), "callback_name")
    assert filled == {"callback_name": None}
    assert responses == ["utter_callback_name_invalid"]


def test_a_number_at_the_name_question_is_kept_as_the_phone_and_no_error_shown():
    filled, responses = run_form(message("Her cell is 419-555-0184, but only after 5pm please."), "callback_name")
    assert filled == {"callback_phone": "+14195550184", "callback_phone_display": "(419) 555-0184",
                      "callback_best_time": "only after 5pm please"}
    assert responses == []


@pytest.mark.parametrize("text", ["thanks", "ok", "hi"])
def test_small_talk_at_the_name_question_fills_nothing_and_shows_no_error(text):
    filled, responses = run_form(message(text), "callback_name")
    assert filled == {} and responses == []


@pytest.mark.parametrize("text, name", [
    ("Her name is Angela Moore.", "Angela Moore"),
    ("his name's Bob Lee", "Bob Lee"),
    ("She's Dorothy Finch", "Dorothy Finch"),
])
def test_a_name_introduced_for_someone_else_is_the_name(text, name):
    filled, responses = run_form(message(text), "callback_name")
    assert filled == {"callback_name": name} and responses == []


@pytest.mark.parametrize("text, name", [("Noor, 419-555-0150", "Noor"), ("419-555-0150, Marguerite", "Marguerite")])
def test_a_one_word_name_beside_the_number_is_kept_with_it(text, name):
    filled, responses = run_form(message(text), "callback_name")
    assert filled == {"callback_name": name, "callback_phone": "+14195550150", "callback_phone_display": "(419) 555-0150"}
    assert responses == []


def test_name_phone_and_time_given_together_up_front_are_all_kept():
    filled, responses = run_form(message("Please have someone call me: Tom Reyes, 419-555-0163, mornings are best.",
                                         intent="request_callback", confidence=0.9), None)
    assert filled == {"callback_name": "Tom Reyes", "callback_phone": "+14195550163",
                      "callback_phone_display": "(419) 555-0163", "callback_best_time": "mornings are best"}
    assert responses == []


def test_a_new_number_at_the_time_question_replaces_the_old_one():
    filled, responses = run_form(message("sorry wrong number, it's 419-555-0129"), "callback_best_time",
                                 {"callback_name": "Linda Park", "callback_phone": "+14195550128"})
    assert filled == {"callback_phone": "+14195550129", "callback_phone_display": "(419) 555-0129"}
    assert responses == []


@pytest.mark.parametrize("text", ["(419) 555-0142", "419.555.0142", "+1 419 555 0142", "it's 1-419-555-0142"])
def test_a_phone_number_is_stored_as_e164_and_read_back_formatted(text):
    filled, responses = run_form(message(text, intent="handoff_phone", confidence=0.95), "callback_phone")
    assert filled == {"callback_phone": "+14195550142", "callback_phone_display": "(419) 555-0142"}
    assert responses == []


@pytest.mark.parametrize(
    "text,response",
    [
        ("419-555-01", "utter_callback_phone_too_short"),
        ("41955501423", "utter_callback_phone_too_long"),
        ("419-555-CALL", "utter_callback_phone_letters"),
        ("+44 20 7946 0958", "utter_callback_phone_not_us"),
        ("(019) 555-0142", "utter_callback_phone_invalid"),
        ("I'd rather not say", "utter_callback_phone_missing"),
    ],
)
def test_an_unusable_phone_number_is_refused_with_what_is_wrong(text, response):
    filled, responses = run_form(message(text), "callback_phone")
    assert filled["callback_phone"] is None
    assert responses == [response]
    assert response in DOMAIN["responses"]


def test_a_number_given_when_asking_for_a_callback_is_kept():
    filled, _ = run_form(message("please call me back on 419 555 0142", intent="request_callback"), None)
    assert filled.get("callback_phone") == "+14195550142"


@pytest.mark.parametrize("text", ["weekday mornings", "after 3pm", "any time", "tomorrow between 1 and 2"])
def test_a_best_time_is_kept(text):
    filled, responses = run_form(message(text), "callback_best_time")
    assert filled == {"callback_best_time": text} and responses == []


def test_a_number_at_the_time_question_is_the_phone_and_the_time_is_asked_again():
    filled, responses = run_form(message("419 555 0142"), "callback_best_time")
    assert filled == {"callback_phone": "+14195550142", "callback_phone_display": "(419) 555-0142"} and responses == []


@pytest.mark.parametrize("text", ["yes", "no", "maybe", "..."])
def test_an_answer_that_is_not_a_time_is_refused(text):
    filled, responses = run_form(message(text), "callback_best_time")
    assert filled == {"callback_best_time": None}
    assert responses == ["utter_callback_best_time_invalid"]


@pytest.mark.parametrize(
    "latest,expected",
    [
        (message("/affirm", intent="affirm"), True),
        (message("yes please", intent="affirm"), True),
        (message("sure go ahead"), True),
        (message("ok that's fine"), True),
        (message("no", intent="deny"), False),
        (message("no thanks"), False),
        (message("don't call me"), False),
    ],
)
def test_consent_needs_an_explicit_yes_or_no(latest, expected):
    filled, responses = run_form(latest, "callback_consent")
    # a no ends the form at once (required_slots): nothing more is asked
    assert filled == ({"callback_consent": True} if expected else {"callback_consent": False, "requested_slot": None})
    assert responses == []


@pytest.mark.parametrize("slot", ["callback_name", "callback_phone", "callback_best_time"])
def test_backing_out_at_another_question_is_a_no_that_ends_the_form_without_an_error(slot):
    filled, responses = run_form(message("oh never mind, I'll phone them myself", intent="red_flag_pushback"), slot)
    assert filled == {"callback_consent": False, "requested_slot": None} and responses == []


@pytest.mark.parametrize("text", ["maybe", "what will you do with it", "hmm"])
def test_an_unclear_consent_is_asked_again(text):
    filled, responses = run_form(message(text), "callback_consent")
    assert filled == {"callback_consent": None}
    assert responses == ["utter_callback_consent_unclear"]


# --- messages that are not answers: nothing is filled, so the form steps aside ---------------------

@pytest.mark.parametrize("slot", ["callback_name", "callback_phone", "callback_best_time", "callback_consent"])
@pytest.mark.parametrize(
    "latest",
    [
        message("I can't control my bladder", intent="red_flag_emergency", confidence=1.0),
        message("my wound is oozing 4195550142", intent="nlu_fallback", entities=[{"entity": "red_flag", "value": "x"}]),
        message("cancel", intent="stop", confidence=0.8),
        message("what are your hours", intent="handoff_hours", confidence=0.9),
        message("what is spinal cord stimulation", intent="edu_treatment_scs", confidence=0.8),
        message("tell me a joke", intent="out_of_scope", confidence=0.85),
    ],
    ids=["red-flag-intent", "red-flag-entity", "stop", "handoff-question", "education-question", "out-of-scope"],
)
def test_red_flags_cancel_and_questions_fill_nothing(slot, latest):
    filled, responses = run_form(latest, slot)
    assert filled == {} and responses == []


def test_a_denied_red_flag_is_an_ordinary_answer_not_an_interruption():
    filled, responses = run_form(message("no bladder problems", intent="red_flag_denied", confidence=0.9), "callback_name")
    assert filled == {"callback_name": None}  # taken as the answer, and refused as a name
    assert responses == ["utter_callback_name_invalid"]


@pytest.mark.parametrize("text", ["Maria de la Cruz", "jean-luc picard", "call me Bob"])
def test_real_names_are_accepted(text):
    filled, _ = run_form(message(text), "callback_name")
    assert filled["callback_name"] and filled["callback_name"].lower().endswith(text.split()[-1].lower())


def test_an_unsure_classification_does_not_stop_a_short_answer_being_taken():
    filled, _ = run_form(message("Pat", intent="handoff_human", confidence=0.35), "callback_name")
    assert filled == {"callback_name": "Pat"}


# --- storing ---------------------------------------------------------------------------------------

@pytest.fixture
def callback_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'callbacks.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def _rows(url):
    with sa.create_engine(url).connect() as c:
        return c.execute(sa.text("SELECT sender_id, name, phone_e164, best_time, consent, channel, status FROM callback_requests")).fetchall()


def submit(slots, now, monkeypatch, channel="rest"):
    monkeypatch.setattr(callback, "_now", lambda: now)
    dispatcher = CollectingDispatcher()
    tracker = form_tracker(message("yes", intent="affirm"), None, slots, channel=channel)
    events = asyncio.run(callback.ActionSubmitCallback().run(dispatcher, tracker, DOMAIN))
    return events, dispatcher.messages


FILLED = {
    "callback_name": "Mary",
    "callback_phone": "+14195550142",
    "callback_phone_display": "(419) 555-0142",
    "callback_best_time": "mornings",
    "callback_consent": True,
}


def test_a_consented_request_is_stored_as_new_with_its_channel(callback_db, monkeypatch):
    events, messages = submit(FILLED, datetime(2024, 6, 12, 10, 0, tzinfo=NY), monkeypatch, channel="twilio")
    assert _rows(callback_db) == [("tester", "Mary", "+14195550142", "mornings", 1, "twilio", "new")]
    assert [m["response"] for m in messages] == ["utter_callback_saved_open"]
    assert {e["name"]: e["value"] for e in events} == {slot: None for slot in callback.SLOTS}  # ready for the next one


def test_outside_office_hours_the_reply_says_when_the_office_opens(callback_db, monkeypatch):
    _, messages = submit(FILLED, datetime(2024, 6, 15, 11, 0, tzinfo=NY), monkeypatch)  # a Saturday
    assert [m["response"] for m in messages] == ["utter_callback_saved_closed"]
    expected = callback._clinic().next_opening_text(datetime(2024, 6, 15, 11, 0, tzinfo=NY))
    assert messages[0]["callback_reply_when"] == expected and expected.startswith("on ")
    assert len(_rows(callback_db)) == 1


def test_without_consent_nothing_is_stored(callback_db, monkeypatch):
    _, messages = submit({**FILLED, "callback_consent": False}, datetime(2024, 6, 12, 10, 0, tzinfo=NY), monkeypatch)
    assert _rows(callback_db) == []
    assert [m["response"] for m in messages] == ["utter_callback_no_consent"]


def test_when_the_database_is_down_the_person_is_told_to_call_and_the_error_is_logged(monkeypatch, caplog):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:x@127.0.0.1:1/none?connect_timeout=2")
    with caplog.at_level(logging.ERROR, logger="actions.callback"):
        events, messages = submit(FILLED, datetime(2024, 6, 12, 10, 0, tzinfo=NY), monkeypatch)
    assert [m["response"] for m in messages] == ["utter_callback_save_failed"]
    assert "{clinic_phone}" in DOMAIN["responses"]["utter_callback_save_failed"][0]["text"]
    assert any("NOT stored" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    assert "+14195550142" not in caplog.text  # the log says what failed, not the person's number


@pytest.mark.parametrize("text, name", [
    ("Marta Gil here, can the clinic phone me?", "Marta Gil"),
    ("Hello, it's Ken Ito, I'd like a call back", "Ken Ito"),
    ("Bea speaking - please ring me", "Bea"),
    ("Sure, call me", None),
    ("Thanks, that helps", None),
    ("Monday, please call", None),
])
def test_a_name_that_opens_the_message_is_found_and_an_opening_word_is_not(text, name):
    assert callback.name_in(text) == name


@pytest.mark.parametrize("text, is_time", [
    ("weekdays after lunch", True), ("could you make it tomorrow morning instead", True),
    ("Tom", False), ("yes", False), ("(419) 555-0142", False), ("what time do you open?", False),
])
def test_a_message_that_only_says_when_to_call_is_told_apart(text, is_time):
    assert callback.is_a_time(text) is is_time


@pytest.mark.parametrize("text, name", [("Ana Ruiz here", "Ana Ruiz"), ("Bea speaking", "Bea"), ("Sean Shere", "Sean Shere")])
def test_here_or_speaking_after_a_name_is_not_part_of_it(text, name):
    assert callback.clean_name(text) == name
