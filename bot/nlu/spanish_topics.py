"""Which clinic topic a Spanish question names (data/knowledge/spanish_topics.yml), so that it gets that
answer in Spanish. The classifier learnt English only; Spanish topic words are few and clear enough
to be read by name. Safety never depends on this: the red-flag screen reads the message first."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import List, Optional, Tuple

import yaml

from bot.nlu.patient_text import fold_accents
from bot.paths import ROOT

TOPICS_FILE = ROOT / "data" / "knowledge" / "spanish_topics.yml"


@lru_cache(maxsize=1)
def _topics() -> List[Tuple[str, "re.Pattern[str]"]]:
    raw = yaml.safe_load(TOPICS_FILE.read_text(encoding="utf-8")) or {}
    return [(intent, re.compile("|".join(f"(?:{p})" for p in patterns))) for intent, patterns in raw.items()]


def spanish_topic(text: str) -> Optional[str]:
    """The education intent a Spanish message asks about, or None."""
    folded = fold_accents((text or "").lower())
    return next((intent for intent, pattern in _topics() if pattern.search(folded)), None)
