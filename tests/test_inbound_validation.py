"""Unit tests of the REST body rules: every bad body gets a specific, readable error."""
import json

import pytest

from bot.channels.inbound import MAX_MESSAGE_CHARS, InboundError, break_long_runs, clean_text, parse_rest_body


def body(**payload) -> bytes:
    return json.dumps(payload).encode()


def test_valid_body_is_parsed():
    inbound = parse_rest_body(body(sender="web-1", message="  hello  ", metadata={"k": 1}))
    assert (inbound.sender, inbound.text, inbound.metadata) == ("web-1", "hello", {"k": 1})


def test_numeric_sender_is_accepted_as_text():
    # a number, a phone number, a WhatsApp key, a socket.io id or a path are other channels' keys
    for taken in (12345, "12345", "+15551230001", "-1001234567890", "whatsapp:+15551230001", "sio-0123abcd", ".", "..", 1.5e300):
        with pytest.raises(InboundError) as e:
            parse_rest_body(body(sender=taken, message="hi"))
        assert e.value.code in ("invalid_sender", "missing_sender"), taken


@pytest.mark.parametrize(
    "raw, code",
    [
        (b"", "invalid_json"),
        (b"{bad", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (b'"just a string"', "invalid_json"),
        (b"\xff\xfe\x00", "invalid_encoding"),
        (body(message="hi"), "missing_sender"),
        (body(sender="", message="hi"), "missing_sender"),
        (body(sender=None, message="hi"), "missing_sender"),
        (body(sender=True, message="hi"), "missing_sender"),
        (body(sender="a b", message="hi"), "invalid_sender"),
        (body(sender="x" * 200, message="hi"), "invalid_sender"),
        (body(sender="<script>", message="hi"), "invalid_sender"),
        (body(sender="s1"), "missing_message"),
        (body(sender="s1", message=42), "missing_message"),
        (body(sender="s1", message=["a"]), "missing_message"),
        (body(sender="s1", message=""), "empty_message"),
        (body(sender="s1", message="   \n\t "), "empty_message"),
        (body(sender="s1", message="\x00\x01\x02"), "empty_message"),
        (body(sender="s1", message="a" * (MAX_MESSAGE_CHARS + 1)), "message_too_long"),
        (b"[" * 300_000, "message_too_long"),
    ],
)
def test_bad_bodies_get_a_clear_error(raw, code):
    with pytest.raises(InboundError) as err:
        parse_rest_body(raw)
    assert err.value.code == code
    assert err.value.status in (400, 413)
    assert len(err.value.message) > 10 and err.value.as_json()["error"] == code


def test_deeply_nested_json_is_refused_not_crashing():
    with pytest.raises(InboundError) as err:
        parse_rest_body(b"[" * 5000 + b"]" * 5000)
    assert err.value.code == "invalid_json"


def test_message_at_the_limit_is_accepted():
    assert len(parse_rest_body(body(sender="s", message="b" * MAX_MESSAGE_CHARS)).text.replace(" ", "")) == MAX_MESSAGE_CHARS


def test_clean_text_drops_control_characters_but_keeps_words_newlines_and_emoji():
    assert clean_text("he\x00llo\u200b\nworld \U0001F600\x1b[31m") == "hello\nworld \U0001F600[31m"
    assert clean_text("cafe\u0301") == "caf\u00e9"  # NFC normalisation


def test_endless_runs_without_spaces_are_broken_but_words_and_links_are_kept():
    link = "https://example.org/" + "a" * 150
    assert break_long_runs(f"see {link} please") == f"see {link} please"
    broken = break_long_runs("\U0001F600" * 1000)
    assert max(len(part) for part in broken.split(" ")) <= 200
    assert broken.replace(" ", "") == "\U0001F600" * 1000  # nothing lost, only spaces added


def test_a_body_at_the_limit_made_of_one_run_is_accepted_and_broken_for_the_tokenizer():
    inbound = parse_rest_body(body(sender="s", message="\U0001F600" * MAX_MESSAGE_CHARS))
    assert inbound.text.replace(" ", "") == "\U0001F600" * MAX_MESSAGE_CHARS


def test_client_metadata_is_bounded_and_must_be_an_object():
    """REST once stored 200 kB of metadata with every message."""
    from bot.channels.inbound import MAX_METADATA_CHARS

    for bad in ({"page": "x" * MAX_METADATA_CHARS}, ["a", "list"], "a string", 42):
        with pytest.raises(InboundError) as err:
            parse_rest_body(body(sender="web-1", message="hi", metadata=bad))
        assert err.value.code == "invalid_metadata" and err.value.status == 400
    assert parse_rest_body(body(sender="web-1", message="hi", metadata=None)).metadata is None
    for sender, code in ((b"NaN", "invalid_json"), (b"1.5e300", "missing_sender"), (b"Infinity", "invalid_json")):
        with pytest.raises(InboundError) as err:
            parse_rest_body(b'{"sender": ' + sender + b', "message": "hi"}')
        assert err.value.code == code


def test_nan_infinity_and_endless_numbers_anywhere_are_refused():
    """NaN in metadata was stored and broke every staff search; a 5,000-digit number gave HTTP 500."""
    from bot.channels.inbound import bounded_metadata

    for raw in (b'{"sender": "web-1", "message": "hi", "metadata": {"x": NaN}}',
                b'{"sender": "web-1", "message": "hi", "metadata": {"x": -Infinity}}',
                b'{"sender": "web-1", "message": "hi", "n": ' + b"9" * 5000 + b"}"):
        with pytest.raises(InboundError) as err:
            parse_rest_body(raw)
        assert err.value.code == "invalid_json" and err.value.status == 400
    assert bounded_metadata({"x": float("nan")}) is None and bounded_metadata('{"x": NaN}') is None
    deep = {"x": [[[[[[[[[["too deep"]]]]]]]]]]}  # 500 levels under 4 kB once failed the turn, emergency unrecorded
    assert bounded_metadata(deep) is None and bounded_metadata({"page": {"path": "/", "lang": "en"}}) is not None
    with pytest.raises(InboundError) as err:
        parse_rest_body(body(sender="web-1", message="hi", metadata={"x": [[[[[[[[[[1]]]]]]]]]]}))
    assert err.value.code == "invalid_metadata"


def test_entities_written_into_a_payload_are_dropped_and_the_payload_kept():
    """'/greet{"red_flag_summary": ...}' over REST once filled the emergency reply with the client's words."""
    inbound = parse_rest_body(body(sender="web-1", message='/greet{"red_flag_summary": "CALL +1-900-555-0100"}'))
    assert inbound.text == "/greet"
    assert parse_rest_body(body(sender="web-1", message="/affirm")).text == "/affirm"
    assert parse_rest_body(body(sender="web-1", message="my {weird} text")).text == "my {weird} text"
