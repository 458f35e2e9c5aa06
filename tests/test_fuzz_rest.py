"""Fuzzing the REST channel: over 1,000 generated bad inputs against the running server.

Broken JSON, wrong types, huge nesting, 100 kB bodies, control characters, emoji, markup and
SQL-like text. Every answer must be a clear one (2xx with the bot's messages, or 4xx with an error
code and a sentence); never a 5xx, never the "technical problem" apology (that would mean the message
crashed inside), and the server must still be up and answering afterwards.
"""
from __future__ import annotations

import json
import string
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.inbound import MAX_MESSAGE_CHARS
from bot.channels.safety import failure_text

pytestmark = pytest.mark.timeout(1200)

SENT = {"count": 0}
FUZZ = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck), print_blob=True)

# --- building blocks -----------------------------------------------------------------------------

control_chars = st.characters(min_codepoint=0, max_codepoint=31) | st.sampled_from("\x7f\u200b\u200e\u202e\ufeff\ufffe")
emoji = st.sampled_from(["😀", "🔥", "🧑‍⚕️", "👍🏽", "🇺🇸", "\U0001f9e0", "❤️", "🩺"])
markup = st.sampled_from([
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "**bold** _it_", "[link](javascript:alert(1))",
    "</div><h1>", "{{7*7}}", "${jndi:ldap://x}", "%s%s%n", "{clinic_phone}", "/request_callback",
    '/restart', '/greet{"x": 1}', "\\u0000", "&lt;b&gt;",
])
sql = st.sampled_from([
    "'; DROP TABLE events; --", "1 OR 1=1", "\" OR \"\"=\"", "admin'--", "UNION SELECT * FROM staff_users",
    "'); DELETE FROM red_flag_events; --", "1; SELECT pg_sleep(5)",
])
words = st.sampled_from(["back", "pain", "surgery", "bladder", "legs", "what", "help", "clinic", "the", "a"])
fragments = st.one_of(st.text(max_size=40), control_chars, emoji, markup, sql, words)
nasty_text = st.lists(fragments, min_size=0, max_size=12).map(" ".join)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)
senders = st.one_of(st.just("fuzz-user"), st.text(max_size=200), st.integers(), st.none(), st.lists(st.integers(), max_size=3),
                    st.sampled_from(["", " ", "a" * 129, "../etc/passwd", "x\ny", "😀", "id;drop"]))


def nested(depth: int, kind: str) -> str:
    return ("[" * depth + "]" * depth) if kind == "list" else ('{"a":' * depth + "1" + "}" * depth)


raw_bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.sampled_from([b"", b"{", b"}", b"null", b"[]", b'"text"', b"{'sender': 'x'}", b'{"sender": "x", "message": }',
                     b"\xff\xfe\x00", b'{"sender":"x","message":"hi"', b"\x00" * 50, b"NaN", b"1e999999"]),
    st.tuples(st.integers(1, 60_000), st.sampled_from(["list", "dict"])).map(lambda t: nested(*t).encode()),
    st.integers(90_000, 110_000).map(lambda n: json.dumps({"sender": "fuzz-big", "message": "a" * n}).encode()),
    st.integers(100_000, 100_100).map(lambda n: b"x" * n),
    st.dictionaries(st.text(max_size=10), json_values, max_size=5).map(lambda d: json.dumps(d).encode()),
    st.fixed_dictionaries({"sender": senders, "message": json_values}).map(lambda d: json.dumps(d).encode()),
)


def post_raw(stack, body: bytes, content_type: str = "application/json") -> requests.Response:
    SENT["count"] += 1
    return requests.post(f"{stack.cfg.rasa_url}/webhooks/rest/webhook", data=body,
                         headers={"Content-Type": content_type}, timeout=120)


def assert_clear_answer(response: requests.Response) -> Any:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    payload = response.json()
    if response.status_code >= 400:
        assert payload.get("error") and payload.get("message"), payload
    else:
        assert isinstance(payload, list) and payload, payload
        assert all(isinstance(m.get("text"), str) or m.get("image") or m.get("buttons") or m.get("custom")
                   for m in payload), payload
        assert [m.get("text") for m in payload] != [failure_text()], "processing crashed inside (failure reply)"
    return payload


# --- the fuzz tests ------------------------------------------------------------------------------

@settings(FUZZ, max_examples=650)
@given(body=raw_bodies, content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]))
def test_malformed_bodies_get_a_clear_4xx_never_a_5xx(stack, body, content_type):
    response = post_raw(stack, body, content_type)
    payload = assert_clear_answer(response)
    if response.status_code == 200:  # a generated body that happens to be a valid request
        parsed = json.loads(body)
        assert isinstance(parsed, dict) and isinstance(parsed.get("message"), str), (body[:200], payload)


@settings(FUZZ, max_examples=400)
@given(text=nasty_text, conversation=st.integers(0, 19))
def test_odd_message_texts_are_answered_or_refused_clearly(stack, text, conversation):
    response = post_raw(stack, json.dumps({"sender": f"fuzz-text-{conversation}", "message": text}).encode())
    assert_clear_answer(response)
    if text.strip(string.whitespace) and any(ch.isalnum() for ch in text):
        assert response.status_code == 200, (text, response.text[:300])


@settings(FUZZ, max_examples=60)
@given(size=st.integers(MAX_MESSAGE_CHARS - 2_000, MAX_MESSAGE_CHARS + 2_000),
       unit=st.sampled_from(["word ", "😀", "<b>x</b>", "a", "é", "背痛"]), escaped=st.booleans())
def test_long_messages_near_the_limit(stack, size, unit, escaped):
    """The limit is in characters, whatever the encoding: browsers send UTF-8, many server-side
    JSON libraries send \\uXXXX escapes (6 bytes per character, 12 for an emoji)."""
    text = (unit * (size // len(unit) + 1))[:size]
    response = post_raw(stack, json.dumps({"sender": "fuzz-long", "message": text}, ensure_ascii=escaped).encode())
    assert_clear_answer(response)
    assert response.status_code == (200 if len(text.strip()) <= MAX_MESSAGE_CHARS else 413), (size, unit, escaped)


@settings(FUZZ, max_examples=60)
@given(metadata=json_values)
def test_odd_metadata_is_harmless(stack, metadata):
    body = json.dumps({"sender": "fuzz-meta", "message": "what is post laminectomy syndrome", "metadata": metadata})
    assert_clear_answer(post_raw(stack, body.encode()))


def test_the_server_still_answers_after_the_fuzzing(stack, chat):
    """Runs last in this file: the same process, still alive, still answering normally."""
    rasa = next(s for s in stack.services if s.name == "rasa server")
    assert rasa.process.poll() is None, "the Rasa server died"
    if SENT["count"]:  # when the whole file ran, it sent at least 1,000 generated inputs
        assert SENT["count"] >= 1000, SENT["count"]
    sender = chat.new_sender("after-fuzz")
    first = chat.texts(sender, "hi")
    assert first and first != [failure_text()]
    second = chat.texts(sender, "what is post laminectomy syndrome")
    assert second and second != [failure_text()] and second != first
