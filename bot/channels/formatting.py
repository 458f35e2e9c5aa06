"""Turns a turn of bot replies into text-message form (SMS, WhatsApp, Telegram).

Text channels have no buttons and show markup literally, so: replies become plain text,
buttons become numbered options ("Reply 1 for ..."), a numeric reply maps back to the option's
payload, and long replies are split at sentence boundaries into message-sized parts.
Both the sending side and the reply-reading side number options with `numbered()`, so the
numbers a person sees are the numbers that are understood.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from bot.channels.urgency import tiered_first

SMS_LIMIT = 1600  # Twilio's maximum body; carriers join the segments into one message
TELEGRAM_LIMIT = 4096  # Telegram's maximum message length
CHANNEL_TEXT_FILE = Path(__file__).with_name("channel_text.yml")

Message = Dict[str, Any]


@dataclass(frozen=True)
class Option:
    number: int
    title: str
    payload: str


@lru_cache(maxsize=1)
def channel_text() -> Dict[str, str]:
    """The words the channels add themselves (content lives in channel_text.yml)."""
    from bot import clinic

    class KeepOthers(dict):  # {number} and {title} are filled per option later
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    raw = yaml.safe_load(CHANNEL_TEXT_FILE.read_text(encoding="utf-8"))
    values = KeepOthers(clinic.load().template_values())
    return {key: str(value).format_map(values) for key, value in raw.items()}


# --- plain text -------------------------------------------------------------------------------

_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_MD_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.S)
_MD_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=\S)([^*_\n]+?)(?<=\S)\1(?![\w*])")
_MD_CODE = re.compile(r"`([^`\n]+)`")
_MD_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.M)
_MD_BULLET = re.compile(r"^([ \t]*)[*+•][ \t]+", re.M)
# Typography outside the GSM 7-bit alphabet turns a whole SMS into UCS-2 (70 instead of 160 chars a segment).
_GSM_FRIENDLY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2022": "-", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    "\u2026": "...",
})


def _link_text(match: re.Match) -> str:
    label, url = match.group(1).strip(), match.group(2).strip()
    return url if label == url else f"{label} ({url})"


def plain_text(text: str) -> str:
    """Markdown and HTML removed, typography made SMS-friendly, blank lines tidied."""
    text = _TAG.sub("", text or "")
    text = html.unescape(text)
    text = _MD_LINK.sub(_link_text, text)
    text = _MD_CODE.sub(r"\1", text)
    text = _MD_STRONG.sub(r"\2", text)
    text = _MD_EMPHASIS.sub(r"\2", text)
    text = _MD_HEADING.sub("", text)
    text = _MD_BULLET.sub(r"\1- ", text)
    text = text.translate(_GSM_FRIENDLY)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


# --- splitting --------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")


def _pieces(paragraph: str, limit: int) -> List[str]:
    """Sentences of a paragraph; a sentence longer than the limit is cut between words."""
    result: List[str] = []
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit + 1)
            cut = cut if cut > 0 else limit
            result.append(sentence[:cut].rstrip())
            sentence = sentence[cut:].lstrip()
        if sentence:
            result.append(sentence)
    return result


def split_text(text: str, limit: int) -> List[str]:
    """Parts of at most `limit` characters, broken between paragraphs or sentences where possible."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    parts: List[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", text):
        for i, piece in enumerate(_pieces(paragraph.strip(), limit)):
            glue = ("\n\n" if i == 0 else " ") if current else ""
            if len(current) + len(glue) + len(piece) <= limit:
                current += glue + piece
            else:
                parts.append(current)
                current = piece
    if current:
        parts.append(current)
    return parts


# --- options ----------------------------------------------------------------------------------


def _buttons(message: Message) -> List[Dict[str, Any]]:
    return [b for b in (message.get("buttons") or message.get("quick_replies") or []) if isinstance(b, dict)]


def numbered(messages: Iterable[Message]) -> List[Tuple[Message, List[Option]]]:
    """The turn's messages in sending order, each with its options numbered across the turn."""
    result: List[Tuple[Message, List[Option]]] = []
    number = 1
    for message in tiered_first(messages):
        options = []
        for button in _buttons(message):
            title = plain_text(str(button.get("title") or button.get("payload") or ""))
            options.append(Option(number, title, str(button.get("payload") or title)))
            number += 1
        result.append((message, options))
    return result


def turn_options(messages: Iterable[Message]) -> List[Option]:
    return [option for _, options in numbered(messages) for option in options]


_CHOICE = re.compile(r"^\s*(?:#|no\.?|number|option|reply)?\s*(\d{1,2})\s*[.)!]*\s*$", re.I)


def _key(text: str) -> str:
    return re.sub(r"[\s.!?]+$", "", text.casefold()).strip()


def resolve_choice(text: str, options: Sequence[Option]) -> Optional[str]:
    """The payload a reply picks ("2", "#2", "option 2", or the option's title), else None."""
    if not options:
        return None
    match = _CHOICE.match(text)
    if match:
        number = int(match.group(1))
        return next((o.payload for o in options if o.number == number), None)
    key = _key(text)
    return next((o.payload for o in options if key and _key(o.title) == key), None)


def options_text(options: Sequence[Option]) -> str:
    line = channel_text()["option_line"]
    return "\n".join(line.format(number=o.number, title=o.title) for o in options)


def last_turn_messages(events: Iterable[Any]) -> List[Message]:
    """The bot messages after the person's latest message, from tracker events (oldest first)."""
    from rasa.shared.core.events import BotUttered, UserUttered

    turn: List[Message] = []
    for event in reversed(list(events)):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            turn.append({"text": event.text, **(event.data or {}), **(event.metadata or {})})
    return list(reversed(turn))


# --- whole turns per channel ------------------------------------------------------------------


def _body(message: Message) -> str:
    text = plain_text(message.get("text") or "")
    link = message.get("image") or message.get("attachment")
    if isinstance(link, str) and link:
        text = f"{text}\n{link}".strip()
    return text


def sms_bodies(messages: Iterable[Message], limit: int = SMS_LIMIT) -> List[str]:
    """SMS/WhatsApp bodies for a turn: plain text, options as numbered lines, each ≤ limit."""
    bodies: List[str] = []
    for message, options in numbered(messages):
        text = _body(message)
        if options:
            text = f"{text}\n\n{options_text(options)}".strip()
        bodies.extend(split_text(text, limit))
    return bodies


def keyboard_messages(messages: Iterable[Message], limit: int = TELEGRAM_LIMIT) -> List[Tuple[str, List[Option]]]:
    """Messages for a chat app with tap-able buttons: (plain text, options for its last part)."""
    result: List[Tuple[str, List[Option]]] = []
    for message, options in numbered(messages):
        parts = split_text(_body(message), limit) or ([channel_text()["choose_option"]] if options else [])
        for i, part in enumerate(parts):
            result.append((part, options if i == len(parts) - 1 else []))
    return result
