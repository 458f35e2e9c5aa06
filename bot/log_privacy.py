"""Logs hold no message text (issue #14, item 5).

Rasa 3.6 warns with the whole line of a "/"-message it cannot parse ("Failed to parse arguments in line
'/…'"), and a person can type anything after a slash. Rasa re-installs its own warning filters at start-up
(`warnings.filterwarnings("once", UserWarning)`), so a filter cannot stop it; the display hook can. Every
process that imports `bot` (the Rasa servers load the tracker store and NLG from it) gets the hook.
"""
from __future__ import annotations

import warnings

WITHHELD = "Rasa could not parse a message that starts with '/' (its text is withheld from the log)"
_CARRIES_MESSAGE_TEXT = ("Failed to parse arguments in line",)


def carries_message_text(message) -> bool:
    return str(message).startswith(_CARRIES_MESSAGE_TEXT)


def install() -> None:
    """Wrap warnings.showwarning once: a warning that quotes a message is shown as WITHHELD instead."""
    shown = warnings.showwarning
    if getattr(shown, "withholds_message_text", False):
        return

    def showwarning(message, category, filename, lineno, file=None, line=None):
        if carries_message_text(message):
            message, line = WITHHELD, ""
        shown(message, category, filename, lineno, file, line)

    showwarning.withholds_message_text = True  # type: ignore[attr-defined]  # a marker on the function itself
    warnings.showwarning = showwarning


def masked(sender: str) -> str:
    """A conversation id safe for logs: ids are phone numbers and chat ids too, and a forget cannot reach
    into log files, so logs keep only the last four characters (enough to match a row staff can see)."""
    return "…" + sender[-4:] if len(sender) > 4 else "…"
