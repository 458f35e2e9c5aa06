"""Validation of inbound messages, shared by every channel.

Bad input gets a clear answer, never a crash: the rules here say what is accepted.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Dict, Optional

from bot.printable import printable

MAX_MESSAGE_CHARS = 20_000  # about four printed pages; longer bodies get a clear 413
# The limit is in characters. Before decoding, allow the largest JSON form of that many: an emoji
# sent as "\ud83d\ude00" escapes takes 12 bytes (Python's json and requests escape by default).
MAX_BODY_BYTES = MAX_MESSAGE_CHARS * 12 + 4096
MAX_SENDER_CHARS = 128
MAX_METADATA_CHARS = 4096  # what a widget sends (a page, a language); REST once kept 200 kB per message
_SENDER_RE = re.compile(r"^[A-Za-z0-9_.:@+\-]{1,128}$")


class InboundError(ValueError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def as_json(self) -> Dict[str, str]:
        return {"error": self.code, "message": self.message}


@dataclass
class Inbound:
    sender: str
    text: str
    metadata: Optional[Dict[str, Any]]


def is_valid_sender(sender: object) -> bool:
    """A conversation id every channel accepts (also what the tracker store can key on)."""
    return isinstance(sender, str) and bool(_SENDER_RE.match(sender))


# The keys of the messaging channels' conversations (a phone number, "whatsapp:+1...", a Telegram chat
# id) and of socket.io ("sio-..."): a web client may never name one, or it could read and change that
# conversation (issue #14, item 4); nor a path-like "." or "..".
# phone numbers, Telegram chat ids (a group's is negative: "-1001234567890"), "whatsapp:…", socket.io's "sio-…"
_MESSAGING_KEY = re.compile(r"^(?:[+-]?\d+|[^:]*:.*|sio-.*|\.+)$", re.IGNORECASE)


def is_web_sender(sender: object) -> bool:
    """A conversation id a web (REST) client may use: valid, and in no other channel's namespace."""
    return is_valid_sender(sender) and not _MESSAGING_KEY.match(str(sender))


MAX_RUN_CHARS = 200  # longer than any word or ordinary link
_LONG_RUN = re.compile(r"\S{%d,}" % (MAX_RUN_CHARS + 1))


def break_long_runs(text: str) -> str:
    """Put a space every MAX_RUN_CHARS characters in a run without spaces: spaCy's tokenizer peels
    affixes (emoji, punctuation) off such a run one at a time, which is quadratic (19,000 emoji took
    over a minute and timed the request out)."""
    return _LONG_RUN.sub(lambda m: " ".join(m.group(0)[i:i + MAX_RUN_CHARS] for i in range(0, len(m.group(0)), MAX_RUN_CHARS)), text)


def clean_text(text: str) -> str:
    """Normalise Unicode and drop control characters (keeping newlines and tabs)."""
    return printable(text).strip()


def parse_rest_body(body: bytes) -> Inbound:
    """Parse a REST webhook body: {"sender": str, "message": str, "metadata": {...}?}."""
    if len(body) > MAX_BODY_BYTES:
        raise InboundError(413, "message_too_long", f"Messages can be at most {MAX_MESSAGE_CHARS:,} characters. Please send a shorter message.")
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InboundError(400, "invalid_encoding", "The request body must be UTF-8 encoded JSON.") from None
    try:
        # NaN and Infinity are no JSON: stored, one of them broke every staff search; a 5,000-digit
        # number raises ValueError (Python's limit on int digits), not JSONDecodeError
        payload = json.loads(decoded, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise InboundError(400, "invalid_json", "The request body must be JSON like {\"sender\": \"id\", \"message\": \"text\"}.") from None
    if not isinstance(payload, dict):
        raise InboundError(400, "invalid_json", "The request body must be a JSON object with 'sender' and 'message'.")
    sender = payload.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        raise InboundError(400, "missing_sender", "Field 'sender' (a conversation id) is required.")
    sender = sender.strip()
    if not is_web_sender(sender):
        raise InboundError(400, "invalid_sender", f"Field 'sender' must be 1-{MAX_SENDER_CHARS} letters, digits or . _ - @, not only digits, and without ':' (an id like the widget's own).")
    metadata = bounded_metadata(payload.get("metadata"))
    if payload.get("metadata") is not None and metadata is None:
        raise InboundError(400, "invalid_metadata", f"Field 'metadata' must be a JSON object of at most {MAX_METADATA_CHARS:,} characters.")
    return Inbound(sender=sender, text=checked_text(payload.get("message")), metadata=metadata)


MAX_METADATA_DEPTH = 8  # 500 nested lists under 4 kB once made the turn fail and its emergency go unrecorded


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_METADATA_DEPTH:
        return level
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return max((_depth(child, level + 1) for child in children), default=level)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def bounded_metadata(metadata: Any) -> Optional[Dict]:
    """Client metadata as a dict of bounded size (socket.io clients may send it as a JSON string), else None."""
    if isinstance(metadata, str) and len(metadata) <= MAX_METADATA_CHARS:
        try:
            metadata = json.loads(metadata, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            return None
    if not isinstance(metadata, dict) or _depth(metadata) > MAX_METADATA_DEPTH:
        return None
    try:
        size = len(json.dumps(metadata, default=str, allow_nan=False))  # socket.io's own decoder reads NaN
    except (ValueError, RecursionError):
        return None
    return metadata if size <= MAX_METADATA_CHARS else None


def checked_text(message: Any) -> str:
    """The text of a message as every channel accepts it: a string, cleaned, not empty, not too long,
    long runs broken (InboundError otherwise, with the words to show the person)."""
    if not isinstance(message, str):
        raise InboundError(400, "missing_message", "Field 'message' (the text) is required and must be a string.")
    if len(message) > MAX_MESSAGE_CHARS * 2:  # cleaning a megabyte is work too: refuse it before
        raise InboundError(413, "message_too_long", f"Messages can be at most {MAX_MESSAGE_CHARS:,} characters. Please send a shorter message.")
    text = clean_text(message)
    if not text:
        raise InboundError(400, "empty_message", "The message is empty. Please type a question.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InboundError(413, "message_too_long", f"Messages can be at most {MAX_MESSAGE_CHARS:,} characters. Please send a shorter message.")
    return break_long_runs(without_payload_entities(text))


def without_payload_entities(text: str) -> str:
    """A button payload ("/affirm") stays; entities written into one ('/greet{"red_flag_summary": "CALL
    +1-900…"}') are dropped: Rasa sets slots from them, and that once put words of a client's choosing into
    the emergency reply. The product's own buttons carry none."""
    if text.startswith("/") and "{" in text:
        head = text[:text.index("{")].rstrip()
        return head if head != "/" else text[1:]  # '/{...}' names no intent: read it as words
    return text
