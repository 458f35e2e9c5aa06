"""Staff corrections of a user message's intent, and their export as Rasa NLU training data."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional

import yaml
from sqlalchemy.orm import Session

from bot.paths import ROOT
from bot.printable import printable
from bot.store import audit
from bot.store.conversations import user_message
from bot.store.models import Annotation, utcnow

NOT_TRAINABLE = {"nlu_fallback"}  # predicted by the FallbackClassifier, never trained
_INTENT_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class AnnotationError(ValueError):
    """An annotation that cannot be saved (message shown to the person)."""


def known_intents(domain_file: Path = ROOT / "domain.yml") -> List[str]:
    """The intents of the trained assistant, which are the only useful corrections."""
    try:
        domain = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    names = []
    for item in domain.get("intents") or []:
        name = item if isinstance(item, str) else next(iter(item), None) if isinstance(item, dict) else None
        if isinstance(name, str) and name not in NOT_TRAINABLE:
            names.append(name)
    return sorted(set(names))


def save(session: Session, sender_id: str, event_id: int, correct_intent: str, actor: str,
         ip: Optional[str] = None, intents: Optional[List[str]] = None) -> Annotation:
    """Record (or replace) the correct intent of one user message."""
    correct_intent = (correct_intent or "").strip()
    allowed = known_intents() if intents is None else intents
    if not _INTENT_RE.match(correct_intent) or (allowed and correct_intent not in allowed):
        raise AnnotationError("Choose one of the assistant's intents.")
    message = user_message(session, sender_id, event_id)
    if message is None:
        raise AnnotationError("That message no longer exists (it may have been purged).")
    annotation = session.query(Annotation).filter(Annotation.event_id == event_id).one_or_none()
    if annotation is None:
        annotation = Annotation(sender_id=sender_id, event_id=event_id)
        session.add(annotation)
    annotation.message_text = printable(message["text"])  # PostgreSQL text holds no NUL
    annotation.predicted_intent = message["intent"]
    annotation.correct_intent = correct_intent
    annotation.annotated_by = actor
    annotation.created_at = utcnow()
    audit.record(session, actor, "annotation.save", target=sender_id,
                 detail={"event_id": event_id, "predicted": message["intent"], "correct": correct_intent}, ip=ip)
    return annotation


def list_all(session: Session, limit: int = 500) -> List[Annotation]:
    return session.query(Annotation).order_by(Annotation.id.desc()).limit(limit).all()


def _example(text: str) -> str:
    """One training example on one line (Rasa's `examples` block is one example per line), without the
    control characters YAML refuses."""
    return " ".join(printable(text).split())


def nlu_yaml(session: Session) -> str:
    """All annotations as a Rasa 3.x NLU file, grouped by intent, duplicates removed."""
    by_intent: Dict[str, List[str]] = {}
    for annotation in session.query(Annotation).order_by(Annotation.correct_intent, Annotation.id):
        example = _example(annotation.message_text)
        examples = by_intent.setdefault(annotation.correct_intent, [])
        if example and example not in examples:
            examples.append(example)
    lines = ['version: "3.1"', "# Exported from the staff console: review before adding to data/nlu/.", "nlu:"]
    for intent, examples in by_intent.items():
        if not examples:
            continue
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {example}" for example in examples)
    if len(lines) == 3:
        lines[-1] = "nlu: []"
    return "\n".join(lines) + "\n"
