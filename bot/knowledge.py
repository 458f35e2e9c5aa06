"""The education knowledge map (data/knowledge/sources.yml): source sections, topics and their answers.

Kept in one YAML file so clinicians can review which source section each answer comes from;
the fallback action reads the readable topic titles from here and the tests check the map.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from bot.paths import ROOT

KNOWLEDGE_DIR = ROOT / "data" / "knowledge"
KNOWLEDGE_FILE = KNOWLEDGE_DIR / "sources.yml"


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    path: Path
    sections: Dict[str, str]  # section id -> heading exactly as in the stored text


@dataclass(frozen=True)
class Topic:
    intent: str
    title: str
    answer: str
    more: Optional[str]
    name: Optional[str] = None  # how a follow-up reply names it ("how long {topic_name} lasts")
    words: tuple = ()  # what people call it ("rfa", "the stimulator"): set aside to read a follow-up


@dataclass(frozen=True)
class Knowledge:
    documents: Dict[str, Document]
    topics: Dict[str, Topic]
    answers: Dict[str, List[Dict[str, str]]]
    safety_policy: List[str]
    guidance: List[str]
    other_titles: Dict[str, str]
    followups: Optional[Dict[str, Dict[str, List[Dict[str, str]]]]] = None  # response -> topic -> sections

    def title_for(self, intent: str) -> Optional[str]:
        """Readable name of an intent for "Did you mean …?"; None if we have no good name for it."""
        if intent in self.topics:
            return self.topics[intent].title
        if intent in self.other_titles:
            return self.other_titles[intent]
        for prefix, title in self.other_titles.items():
            if prefix.endswith("_") and intent.startswith(prefix):
                return title
        return None


def load(path: Path = KNOWLEDGE_FILE) -> Knowledge:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    documents = {
        str(doc_id): Document(str(doc_id), doc["title"], path.parent / doc["file"], dict(doc["sections"]))
        for doc_id, doc in raw["documents"].items()
    }
    topics = {
        intent: Topic(intent, t["title"], t["answer"], t.get("more"), t.get("name"), tuple(t.get("words") or ()))
        for intent, t in raw["topics"].items()
    }
    return Knowledge(
        documents=documents,
        topics=topics,
        answers={name: [dict(ref) for ref in refs] for name, refs in raw["answers"].items()},
        safety_policy=list(raw.get("safety_policy") or []),
        guidance=list(raw.get("guidance") or []),
        other_titles=dict(raw.get("other_titles") or {}),
        followups={
            response: {topic: [dict(ref) for ref in refs] for topic, refs in (cells or {}).items()}
            for response, cells in (raw.get("followups") or {}).items()
        },
    )


@lru_cache(maxsize=1)
def cached() -> Knowledge:
    return load()
