"""US phone numbers as people type them, normalised to E.164 (+1XXXXXXXXXX).

Pure functions, no Rasa: the callback form and the clinic.yml check both use them, so a
number is judged the same way everywhere. A number the clinic cannot dial must be caught
while the person is still in the conversation, with a reason they can act on.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Optional

# A run that looks like a phone number: optional +, then digits with spaces, dots, dashes, slashes, brackets.
_CANDIDATE = re.compile(r"\+?\s*\(?\d[\d\s().\-/]*\d")
# Letters glued to digits ("555-CALL", "41955501OO"): a number spelled with letters cannot be dialled as typed.
_LETTER_NEXT_TO_DIGIT = re.compile(r"\d[.\-]?[a-z]|[a-z][.\-]?\d", re.IGNORECASE)
# Shorter digit runs are times, counts or dates ("after 5", "3rd"), not attempts at a phone number.
MIN_DIGITS = 7


class Problem:
    """Why a text is not a usable US phone number. Stable codes; the wording lives in domain.yml."""

    MISSING = "missing"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    LETTERS = "letters"
    NOT_US = "not_us"
    INVALID = "invalid"


@dataclass(frozen=True)
class PhoneResult:
    e164: Optional[str] = None
    problem: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.e164 is not None


def looks_like_a_number(text: str) -> bool:
    """As many digits as a phone number has, written any way ("419 555 01 29", "it's 4195550129")."""
    return sum(ch.isdigit() for ch in text or "") >= MIN_DIGITS


def ascii_digits(text: str) -> str:
    """Digits of any script as 0-9 ("٤١٩…" is 419…): the stored number must be the E.164 the clinic dials
    (Arabic-Indic digits once passed the form and failed the database check, losing the request)."""
    return "".join(ch if ch.isascii() or unicodedata.digit(ch, None) is None else str(unicodedata.digit(ch)) for ch in text)


def parse_us_phone(text: str) -> PhoneResult:
    """Find the phone number in a message ("call me on NNN.NNN.NNNN please") and check it.

    Accepts 10 digits, or 11 starting with the country code 1, with the usual separators.
    The first usable number wins; otherwise the problem with the first attempt is reported.
    """
    text = ascii_digits(text or "")
    has_glued_letters = bool(_LETTER_NEXT_TO_DIGIT.search(text))
    attempts = []
    for match in _CANDIDATE.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if len(digits) >= MIN_DIGITS:
            attempts.append((match, digits))
    if not attempts:
        if has_glued_letters and sum(ch.isdigit() for ch in text) >= 3:
            return PhoneResult(problem=Problem.LETTERS)
        if any(ch.isdigit() for ch in text):
            return PhoneResult(problem=Problem.TOO_SHORT)
        return PhoneResult(problem=Problem.MISSING)
    problems = []
    for match, digits in attempts:
        found = match.group(0)
        start = match.start() + len(found) - len(found.lstrip())
        result = _check(found.lstrip().startswith("+"), digits)
        if result.ok and not _letters_glued(text, start, match.end()):
            return result
        problems.append(Problem.LETTERS if result.ok else result.problem)
    if problems[0] == Problem.TOO_SHORT and has_glued_letters:
        return PhoneResult(problem=Problem.LETTERS)
    return PhoneResult(problem=problems[0])


def _check(international: bool, digits: str) -> PhoneResult:
    if international and not digits.startswith("1"):
        return PhoneResult(problem=Problem.NOT_US)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) > 10:
        return PhoneResult(problem=Problem.NOT_US if international else Problem.TOO_LONG)
    if len(digits) < 10:
        return PhoneResult(problem=Problem.TOO_SHORT)
    area, exchange = digits[:3], digits[3:6]
    # North American Numbering Plan: area code and exchange start with 2-9; N11 area codes are services (911...).
    if area[0] in "01" or exchange[0] in "01" or area[1:] == "11":
        return PhoneResult(problem=Problem.INVALID)
    return PhoneResult(e164="+1" + digits)


def _letters_glued(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 2):start]
    after = text[end:end + 2]
    return bool(re.search(r"[a-z][.\-]?$", before, re.IGNORECASE) or re.match(r"[.\-]?[a-z]", after, re.IGNORECASE))


def format_us(e164: str) -> str:
    """+1NNNNNNNNNN → (NNN) NNN-NNNN, the way people read a US number back."""
    digits = re.sub(r"\D", "", e164 or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10:
        return e164
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
