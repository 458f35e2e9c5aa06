"""Export, retention purge and "forget this person": the only code that copies or deletes conversations.

Used by both the CLI (`bot logs ...`) and the console, so both do exactly the same thing and
both write the same audit rows. The audit log itself is never deleted here.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, Iterator, List, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.printable import printable
from bot.store import audit, forgotten
from bot.store.conversations import EVENTS, MESSAGE_TYPES, ConversationFilter, matching_senders, message_fields
from bot.store.models import Annotation, CallbackRequest, RedFlagEvent, utcnow

EXPORT_FIELDS = ("sender_id", "event_id", "time_utc", "channel", "speaker", "text", "intent", "confidence",
                 "red_flags", "response")
FORMATS = ("csv", "jsonl")
_BATCH = 500


logger = logging.getLogger(__name__)


class RetentionError(ValueError):
    """A purge/forget request that cannot be done (message shown to the person)."""


# --- export --------------------------------------------------------------------------------------

def export_messages(session: Session, flt: Optional[ConversationFilter] = None,
                    since: Optional[datetime] = None) -> Iterator[Dict[str, Any]]:
    """Every user and bot message (oldest first per conversation) of the conversations `flt` selects,
    optionally only messages at or after `since` (an aware datetime)."""
    query = sa.select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.data).where(
        EVENTS.c.type_name.in_(MESSAGE_TYPES)
    )
    flags = sa.select(RedFlagEvent.sender_id, RedFlagEvent.message_id, RedFlagEvent.tier, RedFlagEvent.category)
    if flt is not None:
        senders = matching_senders(session, flt)
        query = query.where(EVENTS.c.sender_id.in_(sa.select(senders.c.sender_id)))
        flags = flags.where(RedFlagEvent.sender_id.in_(sa.select(senders.c.sender_id)))
    if since is not None:
        query = query.where(EVENTS.c.timestamp >= since.timestamp())
    labels: Dict[tuple, List[str]] = {}
    for sender, message_id, tier, category in session.execute(flags):
        labels.setdefault((sender, message_id), []).append(f"{tier}:{category}")
    channel_of: Dict[str, str] = {}
    last_id = 0
    while True:  # keyset pagination: memory stays flat however big the table is
        rows = session.execute(
            query.where(EVENTS.c.id > last_id).order_by(EVENTS.c.id).limit(_BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            last_id = row.id
            yield _export_row(row, channel_of, labels)


def _export_row(row, channel_of: Dict[str, str], labels: Dict[tuple, List[str]]) -> Dict[str, Any]:
    message = message_fields(row.data)
    is_user = row.type_name == "user"
    if is_user and message.channel:
        channel_of[row.sender_id] = message.channel  # bot turns go out on the channel of the last user turn
    return {
        "sender_id": row.sender_id,
        "event_id": row.id,
        "time_utc": datetime.fromtimestamp(row.timestamp or 0, tz=timezone.utc).isoformat(timespec="seconds"),
        "channel": channel_of.get(row.sender_id, "unknown"),
        "speaker": row.type_name,
        "text": message.text,
        "intent": message.intent if is_user else None,
        "confidence": message.confidence if is_user else None,
        "red_flags": ";".join(labels.get((row.sender_id, message.message_id), [])) if is_user else "",
        "response": None if is_user else message.response,
    }


def _csv_cell(value: Any) -> Any:
    """Spreadsheets run cells that start with = + - @ as formulas; a leading quote keeps them text.
    Any stored text is exported: control characters (a NUL stops the csv writer) are left out."""
    if isinstance(value, str):
        value = printable(value)
        if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            return "'" + value
    return "" if value is None else value


def csv_chunks(rows: Iterable[Dict[str, Any]]) -> Iterator[str]:
    """CSV text (header first), in chunks suitable for streaming."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for count, row in enumerate(rows, 1):
        writer.writerow({k: _csv_cell(row.get(k)) for k in EXPORT_FIELDS})
        if count % _BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def jsonl_chunks(rows: Iterable[Dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps({k: row.get(k) for k in EXPORT_FIELDS}, ensure_ascii=False) + "\n"


def chunks(fmt: str, rows: Iterable[Dict[str, Any]]) -> Iterator[str]:
    if fmt == "csv":
        return csv_chunks(rows)
    if fmt == "jsonl":
        return jsonl_chunks(rows)
    raise RetentionError(f"Format must be one of: {', '.join(FORMATS)}.")


@dataclass
class CountingRows:
    """Wraps the row iterator to count what was exported (for the summary line)."""

    rows: Iterable[Dict[str, Any]]
    count: int = 0

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        for row in self.rows:
            self.count += 1
            yield row


# --- purge and forget ----------------------------------------------------------------------------

def _delete(session: Session, model_or_table, condition) -> int:
    session.flush()  # Core statements do not autoflush pending ORM rows
    table = getattr(model_or_table, "__table__", model_or_table)
    return session.execute(sa.delete(table).where(condition).execution_options(synchronize_session=False)).rowcount


def _count(session: Session, model_or_table, condition) -> int:
    session.flush()
    table = getattr(model_or_table, "__table__", model_or_table)
    return session.execute(sa.select(sa.func.count()).select_from(table).where(condition)).scalar_one()


MAX_DAYS = 36_500  # more would overflow the date arithmetic (it once answered HTTP 500)


def purge_older_than(session: Session, days: int, actor: str, ip: Optional[str] = None,
                     now: Optional[datetime] = None, dry_run: bool = False,
                     include_open: bool = False) -> Dict[str, int]:
    """Delete conversation events and product rows older than `days` days (the audit log stays).

    A conversation with a red flag or callback that staff have not closed is held back whole (a
    retention job must never discard an emergency nobody has followed up), unless include_open.
    Returns how many rows of each kind were (or, with dry_run, would be) deleted, how many
    conversations were held back, and how many deleted red flags and callbacks were never closed."""
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise RetentionError(f"--older-than must be a whole number of days, from 1 to {MAX_DAYS:,} (100 years).")
    cutoff = (now or utcnow()) - timedelta(days=days)  # naive UTC, like the product tables
    cutoff_epoch = cutoff.replace(tzinfo=timezone.utc).timestamp()
    held = sa.union(
        sa.select(RedFlagEvent.sender_id).where(RedFlagEvent.status != "closed"),
        sa.select(CallbackRequest.sender_id).where(CallbackRequest.status != "closed"),
    ).subquery()
    held_count = 0 if include_open else _count(session, held, sa.true())

    def not_held(column):
        return sa.true() if include_open else column.not_in(sa.select(held.c.sender_id))

    conditions = {
        "events": (EVENTS, sa.and_(EVENTS.c.timestamp < cutoff_epoch, not_held(EVENTS.c.sender_id))),
        "red_flags": (RedFlagEvent, sa.and_(RedFlagEvent.created_at < cutoff, not_held(RedFlagEvent.sender_id))),
        "callbacks": (CallbackRequest, sa.and_(CallbackRequest.created_at < cutoff, not_held(CallbackRequest.sender_id))),
    }
    unresolved = {
        "unclosed_red_flags": _count(session, RedFlagEvent, sa.and_(conditions["red_flags"][1], RedFlagEvent.status != "closed")),
        "unclosed_callbacks": _count(session, CallbackRequest, sa.and_(conditions["callbacks"][1], CallbackRequest.status != "closed")),
    }
    # Annotations copy message text: they go with their message, or when old themselves.
    orphaned_or_old = sa.and_(
        sa.or_(
            Annotation.created_at < cutoff,
            Annotation.event_id.in_(sa.select(EVENTS.c.id).where(EVENTS.c.timestamp < cutoff_epoch)),
        ),
        not_held(Annotation.sender_id),
    )
    conditions["annotations"] = (Annotation, orphaned_or_old)
    if dry_run:
        counts = {name: _count(session, table, cond) for name, (table, cond) in conditions.items()}
    else:
        # annotations first: their condition looks at the events about to be deleted
        order = ("annotations", "events", "red_flags", "callbacks")
        counts = {name: _delete(session, *conditions[name]) for name in order}
        counts = {name: counts[name] for name in ("events", "red_flags", "callbacks", "annotations")}
        scrub_after_commit(session)
        audit.record(session, actor, "logs.purge", target=f"older than {days} days",
                     detail={"cutoff_utc": cutoff.isoformat(timespec="seconds"), **counts, **unresolved,
                             "held_open_conversations": held_count, "include_open": include_open}, ip=ip)
    counts.update(unresolved)
    counts["held_open_conversations"] = held_count
    return counts


def forget_sender(session: Session, sender_id: str, actor: str, ip: Optional[str] = None) -> Dict[str, int]:
    """Delete one person's conversation and everything derived from it (the audit log stays)."""
    sender_id = (sender_id or "").strip()
    if not sender_id:
        raise RetentionError("Give the conversation (sender) id to forget.")
    counts = {
        "events": _delete(session, EVENTS, EVENTS.c.sender_id == sender_id),
        "red_flags": _delete(session, RedFlagEvent, RedFlagEvent.sender_id == sender_id),
        "callbacks": _delete(session, CallbackRequest, CallbackRequest.sender_id == sender_id),
        "annotations": _delete(session, Annotation, Annotation.sender_id == sender_id),
        "kept_during_outage": _forget_kept_turns(session, sender_id),
    }
    label = f"forgotten-{secrets.token_hex(4)}"
    audit.pseudonymise(session, sender_id, label)
    forgotten.remember(session, sender_id)
    audit.record(session, actor, "logs.forget", target=label, detail=counts, ip=ip)
    scrub_after_commit(session)
    return counts


def _forget_kept_turns(session: Session, sender_id: str) -> int:
    """Turns this server kept on disk during a database outage and has not stored yet (bot/store/spool.py)."""
    from bot.store.spool import TurnSpool, default_spool_folder

    return TurnSpool(default_spool_folder(session.get_bind().url)).forget(sender_id)


def scrub_after_commit(session: Session) -> None:
    """Once the deletion is committed, leave no copy in SQLite's write-ahead log: the rows are already
    overwritten in place (PRAGMA secure_delete, bot/store/db.py), and a TRUNCATE checkpoint empties the
    log that still holds the pages as they were. PostgreSQL reuses dead rows' space under autovacuum."""
    engine = session.get_bind()
    if engine.dialect.name != "sqlite":
        return

    def checkpoint(_session: Session) -> None:
        with engine.connect() as conn:
            busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        if busy:
            logger.warning("the write-ahead log could not be emptied after a deletion (a reader was busy); "
                           "it will be at the next checkpoint")

    sa.event.listen(session, "after_commit", checkpoint, once=True)


def describe_counts(counts: Dict[str, int]) -> str:
    """"12 events, 1 red flag, ..." for CLI output and console messages."""
    names = {"events": ("event", "events"), "red_flags": ("red flag", "red flags"),
             "callbacks": ("callback request", "callback requests"), "annotations": ("annotation", "annotations"),
             "kept_during_outage": ("conversation file kept during a database outage",
                                    "conversation files kept during a database outage"),
             "unclosed_red_flags": ("red flag not yet closed", "red flags not yet closed"),
             "unclosed_callbacks": ("callback not yet closed", "callbacks not yet closed"),
             "held_open_conversations": ("conversation held back because a red flag or callback is still open",
                                         "conversations held back because a red flag or callback is still open")}
    parts = []
    for key, value in counts.items():
        singular, plural = names.get(key, (key, key))
        if (key.startswith("unclosed") or key.startswith("held") or key == "kept_during_outage") and not value:
            continue
        parts.append(f"{value} {singular if value == 1 else plural}")
    return ", ".join(parts)
