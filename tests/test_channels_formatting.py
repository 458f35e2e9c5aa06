"""How replies are shaped for text-message channels, and how replies to numbered options are read."""
from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from bot.channels.formatting import (
    Option, keyboard_messages, last_turn_messages, plain_text, resolve_choice, sms_bodies, split_text, turn_options,
)
from bot.channels.messaging import neutralise_commands, settings_from_env
from bot.channels.telegram_channel import callback_data

GREETING = {
    "text": "Hello! How can I help?",
    "buttons": [
        {"title": "What is it?", "payload": "What is post-laminectomy syndrome?"},
        {"title": "Warning signs", "payload": "/edu_warning_signs"},
    ],
}
EMERGENCY = {"text": "Go to the nearest emergency room now.", "utter_action": "utter_red_flag_emergency"}


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("**Call now** if it gets *worse*.", "Call now if it gets worse."),
        ("See [our page](https://example.org/pls) for more.", "See our page (https://example.org/pls) for more."),
        ("[https://example.org](https://example.org)", "https://example.org"),
        ("<p>Line one<br>and <b>two</b></p>", "Line oneand two"),
        ("Tom &amp; Jerry &lt;3", "Tom & Jerry <3"),
        ("## Treatments\n* injections\n+ therapy", "Treatments\n- injections\n- therapy"),
        ("“Smart” quotes – and dashes… don’t", "\"Smart\" quotes - and dashes... don't"),
        ("snake_case_name and 2*3*4 stay", "snake_case_name and 2*3*4 stay"),
        ("a\n\n\n\nb", "a\n\nb"),
        ("`code` words", "code words"),
    ],
)
def test_plain_text_has_no_markup_and_sms_friendly_typography(raw, expected):
    assert plain_text(raw) == expected


LONG_ANSWER = (
    "Spinal cord stimulation sends mild electrical pulses to the spinal cord. "
    "A small device is placed under the skin. It can change how pain signals reach the brain. "
    "People usually try it for a short time first! Does it help? Your doctor will talk it through with you. "
) * 12 + "\n\n" + "Physical therapy builds strength and movement. " * 20


def test_long_answers_split_at_sentence_ends_within_the_limit():
    parts = split_text(LONG_ANSWER, 1600)
    assert len(parts) > 1
    assert all(len(p) <= 1600 for p in parts)
    assert all(p.rstrip()[-1] in ".!?" for p in parts), "a part ends mid-sentence"
    assert " ".join(" ".join(parts).split()) == " ".join(LONG_ANSWER.split()), "words lost or reordered"


def test_a_sentence_longer_than_the_limit_is_cut_between_words():
    sentence = "word " * 500
    parts = split_text(sentence, 160)
    assert all(len(p) <= 160 for p in parts)
    assert all(not p.startswith(" ") and "word" == p.split()[-1] for p in parts)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abc .!?\n")), max_size=600), st.integers(min_value=5, max_value=200))
def test_splitting_never_exceeds_the_limit_or_loses_words(text, limit):
    parts = split_text(text, limit)
    assert all(0 < len(p) <= limit for p in parts)
    # Each word is kept (a word longer than the limit is cut into pieces, so compare the letters).
    assert "".join("".join(parts).split()) == "".join(text.split())


def test_sms_body_lists_options_with_numbers_and_emergency_comes_first():
    bodies = sms_bodies([GREETING, EMERGENCY])
    assert bodies[0] == EMERGENCY["text"]
    assert bodies[1] == "Hello! How can I help?\n\nReply 1 for What is it?\nReply 2 for Warning signs"


def test_options_are_numbered_across_the_whole_turn():
    second = {"text": "Or:", "buttons": [{"title": "Contact the clinic", "payload": "contact"}]}
    assert [o.number for o in turn_options([GREETING, second])] == [1, 2, 3]
    assert "Reply 3 for Contact the clinic" in sms_bodies([GREETING, second])[1]


@pytest.mark.parametrize(
    "reply, payload",
    [
        ("1", "What is post-laminectomy syndrome?"),
        (" 2 ", "/edu_warning_signs"),
        ("2.", "/edu_warning_signs"),
        ("#1", "What is post-laminectomy syndrome?"),
        ("Option 2", "/edu_warning_signs"),
        ("warning signs", "/edu_warning_signs"),
        ("What is it", "What is post-laminectomy syndrome?"),
        ("3", None),  # not on offer
        ("0", None),
        ("1 more thing about my back", None),
        ("I have 2 questions", None),
    ],
)
def test_replies_to_numbered_options(reply, payload):
    assert resolve_choice(reply, turn_options([GREETING])) == payload


def test_without_options_a_number_is_just_text():
    assert resolve_choice("1", []) is None


def test_the_options_offered_are_read_back_from_the_conversation():
    events = [
        UserUttered("hi"),
        ActionExecuted("utter_greet"),
        BotUttered(GREETING["text"], data={"buttons": GREETING["buttons"]}, metadata={"utter_action": "utter_greet"}),
        ActionExecuted("action_listen"),
    ]
    assert turn_options(last_turn_messages(events)) == turn_options([GREETING])
    # Once the person has answered, the old options are no longer on offer.
    assert turn_options(last_turn_messages(events + [UserUttered("thanks")])) == []


def test_telegram_messages_carry_their_options_on_the_last_part():
    long_text = {"text": "A sentence here. " * 400, "buttons": GREETING["buttons"]}
    messages = keyboard_messages([long_text], limit=4096)
    assert len(messages) == 2
    assert messages[0][1] == [] and [o.title for o in messages[1][1]] == ["What is it?", "Warning signs"]


def test_a_button_only_reply_still_has_words_above_the_buttons():
    (text, options), = keyboard_messages([{"text": "", "buttons": GREETING["buttons"]}])
    assert text.strip() and len(options) == 2


def test_telegram_callback_data_fits_telegram_limit():
    short = Option(1, "Yes", "/affirm")
    long = Option(2, "Tell me more", "Tell me more about spinal cord stimulation and how the trial works, please")
    assert callback_data(short) == "/affirm"
    assert callback_data(long) == "#2"
    assert resolve_choice(callback_data(long), [short, long]) == long.payload


@pytest.mark.parametrize("typed, sent", [("/greet", "greet"), ("//restart", "restart"), ("/", ""), ("a/b", "a/b")])
def test_typed_slash_commands_never_reach_rasa_as_intents(typed, sent):
    assert neutralise_commands(typed) == sent


def test_missing_settings_switch_the_channel_off_with_a_log_line(monkeypatch, caplog):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "x")
    with caplog.at_level(logging.INFO):
        assert settings_from_env("twilio", ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"]) is None
    assert "twilio channel off: set TWILIO_ACCOUNT_SID" in caplog.text


def test_present_settings_are_read_and_trimmed(monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", " 123:abc \n")
    monkeypatch.setenv("TELEGRAM_API_BASE", "")
    assert settings_from_env("telegram", ["TELEGRAM_BOT_TOKEN"], ["TELEGRAM_API_BASE"]) == {"TELEGRAM_BOT_TOKEN": "123:abc"}


def test_telegram_stays_off_without_a_webhook_secret(monkeypatch):
    """A token alone would let anyone who finds the webhook URL post updates as any chat (issue #14, item 11)."""
    from bot.channels.telegram_channel import ClinicTelegramInput

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    assert not ClinicTelegramInput.from_credentials(None).enabled
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "s3cret")
    assert ClinicTelegramInput.from_credentials(None).enabled
