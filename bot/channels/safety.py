"""What we say when something inside fails: never silence, always the way to urgent help."""
from __future__ import annotations

from functools import lru_cache
from typing import Dict, List

from bot import clinic


@lru_cache(maxsize=1)
def _values() -> Dict[str, str]:
    try:
        return clinic.load().template_values()
    except clinic.ClinicConfigError:
        return {"clinic_phone": "the clinic", "emergency_number": "911", "crisis_line": "988"}


def failure_text() -> str:
    v = _values()
    return (
        "Sorry, I'm having a technical problem and can't answer right now. "
        f"If this is an emergency, go to the nearest emergency room or call {v['emergency_number']} now. "
        f"Otherwise please call the clinic at {v['clinic_phone']}, or try again in a few minutes."
    )


def failure_reply(sender_id: str) -> List[Dict[str, str]]:
    return [{"recipient_id": sender_id, "text": failure_text()}]


def incomplete_turn_text() -> str:
    """For a turn that ended without a bot message: a custom action could not run (action server
    down) or a typed "/restart". Never silence: the clinic's phone and the emergency number."""
    v = _values()
    return (
        "I couldn't finish that just now. You can ask me another question, or call the clinic at "
        f"{v['clinic_phone']}. If this is an emergency, call {v['emergency_number']} now."
    )
