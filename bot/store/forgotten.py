"""Which conversations staff forgot, without keeping who they were.

In the production profile each Rasa server keeps turns on its own disk while the database is down
(bot/store/spool.py) and stores them when it is back; a forget in between would be undone by that
replay on a server the forget cannot reach. So a forget leaves a tombstone here, and a replay drops
the kept events of a forgotten conversation that are older than its forget. The tombstone holds no
id: only a per-row salt and an scrypt hash (an SMS conversation's id is a phone number, and a plain
hash of ten digits is reversed in minutes), and it expires after KEEP_DAYS, well past any outage.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Optional

from sqlalchemy.orm import Session

from bot.store.models import ForgottenConversation

KEEP_DAYS = 90
_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1, "dklen": 32}  # about 30-60 ms and 16 MB per check


def _digest(sender_id: str, salt: str) -> str:
    return hashlib.scrypt(sender_id.encode("utf-8"), salt=salt.encode("ascii"), **_SCRYPT).hex()


def remember(session: Session, sender_id: str, at: Optional[float] = None) -> None:
    """Leave the tombstone of one forget (in the forget's own transaction)."""
    salt = secrets.token_hex(16)
    session.add(ForgottenConversation(salt=salt, digest=_digest(sender_id, salt), forgotten_at=at or time.time()))
    expire(session)


def forgotten_at(session: Session, sender_id: str) -> Optional[float]:
    """When this conversation was last forgotten (epoch seconds), or None."""
    latest = None
    for row in session.query(ForgottenConversation).all():  # a few rows: forgets are rare and expire
        if hmac.compare_digest(_digest(sender_id, row.salt), row.digest):
            latest = max(latest or 0.0, row.forgotten_at)
    return latest


def expire(session: Session, now: Optional[float] = None) -> int:
    cutoff = (now or time.time()) - KEEP_DAYS * 86400
    return session.query(ForgottenConversation).filter(ForgottenConversation.forgotten_at < cutoff).delete()
