"""Text that every reader of it can take: channels, the database, CSV and YAML exports.

One NUL byte once broke the CSV export for everyone ("need to escape") and made the annotations
YAML unreadable (YAML allows no control characters, not even in a block). Inbound messages are
cleaned at every channel's boundary (bot.channels.inbound.clean_text); exports clean again,
because a database may hold text from before that, or written by other tools.
"""
from __future__ import annotations

import unicodedata

KEPT_CONTROLS = "\n\t"
ZERO_WIDTH_JOINER = "\u200d"  # inside emoji sequences


def printable(text: str) -> str:
    """NFC-normalised, without control, surrogate, private-use or unassigned characters (category C),
    keeping newlines, tabs and the emoji joiner."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if ch in KEPT_CONTROLS or ch == ZERO_WIDTH_JOINER or unicodedata.category(ch)[0] != "C")
