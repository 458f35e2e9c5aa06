"""The audit log: who looked at or changed health information, when, from where.

Rows are written in the same transaction as the action they describe, so an action that
happened always has its row (and a rolled-back action has none). Purges never delete them.
"""
from __future__ import annotations

import getpass
import json
from typing import Any, List, Optional

from sqlalchemy.orm import Session

from bot.store.models import AuditEntry

# Every action name the product writes, so the console can offer them as a filter.
ACTIONS = (
    "login.success", "login.failure", "login.locked", "login.throttled", "logout",
    "conversations.search", "transcript.view", "red_flags.view", "callbacks.view", "annotations.view",
    "red_flag.status", "callback.status", "annotation.save",
    "export.conversations", "export.annotations", "export.logs",
    "logs.purge", "logs.forget",
    "user.create", "user.update", "user.password",
)


def record(session: Session, actor: str, action: str, target: Optional[str] = None,
           detail: Any = None, ip: Optional[str] = None) -> AuditEntry:
    """Add one audit row; `detail` may be a dict (stored as sorted JSON) or text."""
    if detail is not None and not isinstance(detail, str):
        detail = json.dumps(detail, sort_keys=True, default=str)
    entry = AuditEntry(actor=actor[:128], action=action, target=(target or None) and target[:255], detail=detail,
                       ip=(ip or None) and ip[:64])
    session.add(entry)
    return entry


# Actions whose target is a conversation (sender) id: for SMS and WhatsApp that id is a phone number.
CONVERSATION_ACTIONS = ("transcript.view", "red_flag.status", "callback.status", "annotation.save", "logs.forget")


def pseudonymise(session: Session, sender_id: str, label: str) -> int:
    """After a forget, the audit rows that named the conversation name `label` instead: the record of who
    looked and what was done stays, the id (perhaps a phone number) goes."""
    return (session.query(AuditEntry)
            .filter(AuditEntry.target == sender_id[:255], AuditEntry.action.in_(CONVERSATION_ACTIONS))
            .update({AuditEntry.target: label}, synchronize_session=False))


def cli_actor() -> str:
    """The actor name for command-line operations: the operating-system account that ran them."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in a bare container
        return "cli:unknown"


def recent(session: Session, limit: int = 200, offset: int = 0, action: Optional[str] = None,
           actor: Optional[str] = None) -> List[AuditEntry]:
    query = session.query(AuditEntry)
    if action:
        query = query.filter(AuditEntry.action == action)
    if actor:
        query = query.filter(AuditEntry.actor == actor)
    return query.order_by(AuditEntry.id.desc()).offset(offset).limit(limit).all()
