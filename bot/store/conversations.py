"""Reads conversations out of Rasa's tracker `events` table (SQLTrackerStore), for staff review.

Rasa owns that table; this module only reads it (and `retention` deletes from it), through a
SQLAlchemy Core definition of the columns Rasa 3.6 writes. Badges come from two places:
the product's own tables (red-flag tiers, callback requests) and the events themselves
(handoff and fallback intents/actions).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.store.models import Annotation, CallbackRequest, RedFlagEvent

EVENTS = sa.Table(
    "events",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
    sa.Index("ix_events_sender_id", "sender_id"),
)

TIERS = ("EMERGENCY", "CRISIS", "URGENT")
BADGES = TIERS + ("handoff", "fallback", "callback")
MESSAGE_TYPES = ("user", "bot")
REWIND = "rewind"  # Rasa's UserUtteranceReverted
FALLBACK_INTENTS = ("nlu_fallback",)
FALLBACK_ACTIONS = ("action_default_fallback", "action_two_stage_fallback")
PER_PAGE = 25


def ensure_events_table(engine: sa.engine.Engine) -> None:
    """Create Rasa's `events` table (same columns and index as Rasa 3.6) if Rasa has not run yet,
    so the console and CLI work on a fresh database. Rasa's own create_all then finds it."""
    EVENTS.metadata.create_all(engine, checkfirst=True)


def prepare_database(database_url: str, attempts: int = 3) -> None:
    """Migrations plus Rasa's events table: what the console and the CLI need before they read.

    The console starts beside the Rasa server, which migrates the same database; on SQLite (no
    advisory lock) the loser of that race sees "table already exists" and simply tries again."""
    import time as _time

    from bot.store import migrate
    from bot.store.db import engine_for

    for attempt in range(1, attempts + 1):
        try:
            migrate.upgrade(database_url)
            ensure_events_table(engine_for(database_url))
            return
        except sa.exc.DBAPIError:
            if attempt == attempts:
                raise
            _time.sleep(1.0 * attempt)


# --- filters -------------------------------------------------------------------------------------

@dataclass
class ConversationFilter:
    """What the staff asked to see. `badges` means "has any of these"; dates are the clinic's days."""

    badges: Tuple[str, ...] = ()
    date_from: Optional[date] = None
    date_to: Optional[date] = None
    text: str = ""
    timezone: str = "UTC"

    def epoch_bounds(self) -> Tuple[Optional[float], Optional[float]]:
        """[start of date_from, start of the day after date_to) in the clinic's time zone, as epoch seconds."""
        tz = ZoneInfo(self.timezone)
        start = datetime.combine(self.date_from, time(0), tz).timestamp() if self.date_from else None
        end = datetime.combine(self.date_to + timedelta(days=1), time(0), tz).timestamp() if self.date_to else None
        return start, end

    def describe(self) -> Dict[str, Any]:
        """The filter as plain values (for the audit log and export file names)."""
        return {
            "badges": list(self.badges),
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "text": self.text or None,
        }

    def describe_for_audit(self) -> Dict[str, Any]:
        """As describe(), but a text search is recorded as made, not what was typed (names, numbers)."""
        return {**self.describe(), "text": "(withheld)" if self.text else None}


def _like_pattern(text: str) -> str:
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


def message_text_expr(dialect: str, events=EVENTS):
    """SQL for the `text` field of a user/bot event's JSON (exact on SQLite and PostgreSQL)."""
    if dialect == "sqlite":
        return sa.func.json_extract(events.c.data, "$.text")
    if dialect == "postgresql":
        return sa.cast(events.c.data, sa.JSON)["text"].as_string()
    return events.c.data  # other databases: search the raw JSON (may also match metadata)


def _handoff_condition(events=EVENTS):
    return sa.or_(
        sa.and_(events.c.type_name == "user", events.c.intent_name.like("handoff!_%", escape="!")),
        sa.and_(events.c.type_name == "action", events.c.action_name.like("utter!_handoff!_%", escape="!")),
    )


def _fallback_condition(events=EVENTS):
    return sa.or_(
        sa.and_(events.c.type_name == "user", events.c.intent_name.in_(FALLBACK_INTENTS)),
        sa.and_(events.c.type_name == "action", events.c.action_name.in_(FALLBACK_ACTIONS)),
    )


def _badge_condition(badge: str):
    """A condition on EVENTS.c.sender_id that is true when the conversation has `badge`."""
    if badge in TIERS:
        return EVENTS.c.sender_id.in_(sa.select(RedFlagEvent.sender_id).where(RedFlagEvent.tier == badge))
    if badge == "callback":
        return EVENTS.c.sender_id.in_(sa.select(CallbackRequest.sender_id))
    inner = EVENTS.alias("badge_events")
    condition = _handoff_condition(inner) if badge == "handoff" else _fallback_condition(inner)
    return EVENTS.c.sender_id.in_(sa.select(inner.c.sender_id).where(condition))


def _search_condition(text: str, dialect: str):
    inner = EVENTS.alias("search_events")
    expr = message_text_expr(dialect, inner)
    matches = sa.select(inner.c.sender_id).where(
        inner.c.type_name.in_(MESSAGE_TYPES), expr.ilike(_like_pattern(text), escape="!")
    )
    return sa.or_(EVENTS.c.sender_id == text, EVENTS.c.sender_id.in_(matches))


def _summary_query(flt: ConversationFilter, dialect: str):
    """One row per conversation that has at least one user message and matches the filter."""
    is_user = EVENTS.c.type_name == "user"
    turns = sa.func.sum(sa.case((is_user, 1), else_=0)).label("turns")
    query = (
        sa.select(
            EVENTS.c.sender_id,
            sa.func.min(EVENTS.c.timestamp).label("started"),
            sa.func.max(EVENTS.c.timestamp).label("last"),
            turns,
            sa.func.min(sa.case((is_user, EVENTS.c.id), else_=None)).label("first_user_event"),
        )
        .where(EVENTS.c.type_name.in_(MESSAGE_TYPES))
        .group_by(EVENTS.c.sender_id)
        .having(turns > 0)
    )
    unknown = [b for b in flt.badges if b not in BADGES]
    if unknown:
        raise ValueError(f"unknown badge {unknown[0]!r}; expected one of {', '.join(BADGES)}")
    if flt.badges:
        query = query.where(sa.or_(*[_badge_condition(b) for b in flt.badges]))
    if flt.text.strip():
        query = query.where(_search_condition(flt.text.strip(), dialect))
    start, end = flt.epoch_bounds()
    if start is not None:
        query = query.having(sa.func.max(EVENTS.c.timestamp) >= start)
    if end is not None:
        query = query.having(sa.func.min(EVENTS.c.timestamp) < end)
    return query


def matching_senders(session: Session, flt: ConversationFilter):
    """A subquery of the sender ids the filter selects (for exports of "the current filter")."""
    return _summary_query(flt, session.bind.dialect.name).with_only_columns(EVENTS.c.sender_id).subquery()


# --- list ----------------------------------------------------------------------------------------

@dataclass
class ConversationSummary:
    sender_id: str
    started: datetime
    last_message: datetime
    turns: int
    channel: str
    badges: List[str]
    open_red_flags: int = 0


@dataclass
class Page:
    items: List[ConversationSummary]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def utc_from_epoch(ts: Optional[float]) -> Optional[datetime]:
    return datetime.fromtimestamp(ts, tz=timezone.utc) if ts is not None else None


def list_conversations(session: Session, flt: ConversationFilter, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """Conversations newest-activity first, with their badges."""
    query = _summary_query(flt, session.bind.dialect.name)
    total = session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    page = max(1, page)
    rows = session.execute(
        query.order_by(sa.desc("last"), EVENTS.c.sender_id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    senders = [r.sender_id for r in rows]
    badges = conversation_badges(session, senders)
    open_flags = _open_red_flags(session, senders)
    channels = _channels(session, [r.first_user_event for r in rows])
    items = [
        ConversationSummary(
            sender_id=r.sender_id,
            started=datetime.fromtimestamp(r.started, tz=timezone.utc),  # a listed conversation has messages
            last_message=datetime.fromtimestamp(r.last, tz=timezone.utc),
            turns=int(r.turns),
            channel=channels.get(r.first_user_event, "unknown"),
            badges=badges.get(r.sender_id, []),
            open_red_flags=open_flags.get(r.sender_id, 0),
        )
        for r in rows
    ]
    return Page(items=items, total=int(total), page=page, per_page=per_page)


def conversation_badges(session: Session, senders: Sequence[str]) -> Dict[str, List[str]]:
    """Badges of each conversation, in the fixed order of BADGES."""
    if not senders:
        return {}
    found: Dict[str, set] = {s: set() for s in senders}
    for sender, tier in session.execute(
        sa.select(RedFlagEvent.sender_id, RedFlagEvent.tier).where(RedFlagEvent.sender_id.in_(senders)).distinct()
    ):
        found[sender].add(tier)
    for (sender,) in session.execute(
        sa.select(CallbackRequest.sender_id).where(CallbackRequest.sender_id.in_(senders)).distinct()
    ):
        found[sender].add("callback")
    for badge, condition in (("handoff", _handoff_condition()), ("fallback", _fallback_condition())):
        for (sender,) in session.execute(
            sa.select(EVENTS.c.sender_id).where(EVENTS.c.sender_id.in_(senders), condition).distinct()
        ):
            found[sender].add(badge)
    return {s: [b for b in BADGES if b in found[s]] for s in senders}


def _open_red_flags(session: Session, senders: Sequence[str]) -> Dict[str, int]:
    if not senders:
        return {}
    rows = session.execute(
        sa.select(RedFlagEvent.sender_id, sa.func.count())
        .where(RedFlagEvent.sender_id.in_(senders), RedFlagEvent.status == "new")
        .group_by(RedFlagEvent.sender_id)
    )
    return {sender: int(n) for sender, n in rows}


def _channels(session: Session, event_ids: Iterable[Optional[int]]) -> Dict[int, str]:
    ids = [i for i in event_ids if i is not None]
    if not ids:
        return {}
    rows = session.execute(sa.select(EVENTS.c.id, EVENTS.c.data).where(EVENTS.c.id.in_(ids)))
    return {event_id: (message_fields(data).channel or "unknown") for event_id, data in rows}


def _load(data: Optional[str]) -> Dict[str, Any]:
    try:
        value = json.loads(data or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass
class Message:
    """The fields of a stored user/bot event that people read (tolerant of malformed rows)."""

    text: str
    parse_data: Dict[str, Any]
    intent: Optional[str]
    confidence: Optional[float]
    channel: Optional[str]
    message_id: Optional[str]
    response: Optional[str]
    buttons: List[str]


def message_fields(raw: Optional[str]) -> Message:
    data = _load(raw)
    parse_data = _dict(data.get("parse_data"))
    intent = _dict(parse_data.get("intent"))
    confidence = intent.get("confidence")
    buttons = [str(b.get("title", "")) for b in (_dict(data.get("data")).get("buttons") or []) if isinstance(b, dict)]
    message_id = data.get("message_id") or parse_data.get("message_id")
    text = data.get("text")
    return Message(
        text=text if isinstance(text, str) else "",
        parse_data=parse_data,
        intent=intent.get("name") if isinstance(intent.get("name"), str) else None,
        confidence=float(confidence) if isinstance(confidence, (int, float)) else None,
        channel=data.get("input_channel") if isinstance(data.get("input_channel"), str) else None,
        message_id=str(message_id) if message_id else None,
        response=_dict(data.get("metadata")).get("utter_action"),
        buttons=buttons,
    )


# --- transcript ----------------------------------------------------------------------------------

@dataclass
class Segment:
    """A piece of message text; `marked` pieces are red-flag matches (the template adds <mark>)."""

    text: str
    marked: bool = False


@dataclass
class Turn:
    kind: str  # user / bot / session
    event_id: int
    at: Optional[datetime]
    text: str = ""
    segments: List[Segment] = field(default_factory=list)
    intent: Optional[str] = None
    confidence: Optional[float] = None
    channel: Optional[str] = None
    message_id: Optional[str] = None
    red_flags: List[Dict[str, str]] = field(default_factory=list)
    response: Optional[str] = None  # the bot response name (utter_...)
    buttons: List[str] = field(default_factory=list)
    annotation: Optional[Annotation] = None


@dataclass
class Transcript:
    sender_id: str
    turns: List[Turn]
    badges: List[str]
    red_flags: List[RedFlagEvent]
    callbacks: List[CallbackRequest]

    @property
    def channel(self) -> str:
        return next((t.channel for t in self.turns if t.kind == "user" and t.channel), "unknown")


def _span_list(parse_data: Dict[str, Any], text: str, matched_texts: Iterable[str]) -> List[Tuple[int, int]]:
    """Character spans of red-flag matches: the detector's own spans (parse_data `red_flags`), plus the
    stored matched words found in the text. A stored match that is the whole message (the classifier
    alone recognised it) adds no highlight: no words in particular matched."""
    spans: List[Tuple[int, int]] = []
    words = list(matched_texts)
    for item in parse_data.get("red_flags") or []:
        if not isinstance(item, dict):
            continue
        start, end = item.get("start"), item.get("end")
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
            spans.append((start, end))
        elif isinstance(item.get("text"), str):
            words.append(item["text"])
    lowered, whole = text.lower(), text.strip().lower()
    for word in words:
        word = (word or "").strip().lower()
        if not word or word == whole:
            continue
        position = lowered.find(word)
        while position != -1:
            spans.append((position, position + len(word)))
            position = lowered.find(word, position + len(word))
    return spans


def segments(text: str, spans: Iterable[Tuple[int, int]]) -> List[Segment]:
    """Split text into plain and marked pieces (overlapping spans are merged)."""
    merged: List[List[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    result: List[Segment] = []
    position = 0
    for start, end in merged:
        if start > position:
            result.append(Segment(text[position:start]))
        result.append(Segment(text[start:end], marked=True))
        position = end
    if position < len(text) or not result:
        result.append(Segment(text[position:]))
    return result


def _red_flag_labels(parse_data: Dict[str, Any], rows: List[RedFlagEvent]) -> List[Dict[str, str]]:
    labels: Dict[Tuple[str, str], Dict[str, str]] = {}
    for row in rows:
        labels[(row.tier, row.category)] = {"tier": row.tier, "category": row.category}
    for item in parse_data.get("red_flags") or []:
        if isinstance(item, dict) and (item.get("tier") or item.get("category")):
            tier, category = str(item.get("tier") or ""), str(item.get("category") or "")
            labels.setdefault((tier, category), {"tier": tier, "category": category})
    return list(labels.values())


def transcript(session: Session, sender_id: str) -> Optional[Transcript]:
    """Every user and bot turn of one conversation, oldest first; None if there is no such conversation."""
    rows = session.execute(
        sa.select(EVENTS.c.id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.data)
        .where(EVENTS.c.sender_id == sender_id, EVENTS.c.type_name.in_(MESSAGE_TYPES + ("session_started", REWIND)))
        .order_by(EVENTS.c.id)
    ).all()
    if not any(r.type_name == "user" for r in rows):
        return None
    red_flags = (
        session.query(RedFlagEvent).filter(RedFlagEvent.sender_id == sender_id).order_by(RedFlagEvent.id).all()
    )
    callbacks = (
        session.query(CallbackRequest).filter(CallbackRequest.sender_id == sender_id).order_by(CallbackRequest.id).all()
    )
    annotations = {
        a.event_id: a
        for a in session.query(Annotation).filter(Annotation.sender_id == sender_id).order_by(Annotation.id)
    }
    flags_by_message: Dict[str, List[RedFlagEvent]] = {}
    for row in red_flags:
        flags_by_message.setdefault(row.message_id, []).append(row)

    turns: List[Turn] = []
    for row in rows:
        at = utc_from_epoch(row.timestamp)
        if row.type_name == "session_started":
            if turns:  # the first session start is the conversation start, not news
                turns.append(Turn(kind="session", event_id=row.id, at=at))
            continue
        if row.type_name == REWIND:
            # the message was put back to be read again (actions/read_again.py): it shows once, as re-read
            last_user = max((i for i, t in enumerate(turns) if t.kind == "user"), default=None)
            if last_user is not None:
                del turns[last_user:]
            continue
        message = message_fields(row.data)
        if row.type_name == "user":
            matched = flags_by_message.get(message.message_id or "", [])
            spans = _span_list(message.parse_data, message.text, [m.matched_text for m in matched])
            turns.append(
                Turn(
                    kind="user",
                    event_id=row.id,
                    at=at,
                    text=message.text,
                    segments=segments(message.text, spans),
                    intent=message.intent,
                    confidence=message.confidence,
                    channel=message.channel,
                    message_id=message.message_id,
                    red_flags=_red_flag_labels(message.parse_data, matched),
                    annotation=annotations.get(row.id),
                )
            )
        elif message.text or message.buttons:  # custom payloads without text are not shown
            turns.append(
                Turn(kind="bot", event_id=row.id, at=at, text=message.text, segments=[Segment(message.text)],
                     response=message.response, buttons=message.buttons)
            )
    return Transcript(
        sender_id=sender_id,
        turns=turns,
        badges=conversation_badges(session, [sender_id]).get(sender_id, []),
        red_flags=red_flags,
        callbacks=callbacks,
    )


def user_message(session: Session, sender_id: str, event_id: int) -> Optional[Dict[str, Any]]:
    """The text and predicted intent of one user message of one conversation (for annotation)."""
    row = session.execute(
        sa.select(EVENTS.c.data).where(
            EVENTS.c.id == event_id, EVENTS.c.sender_id == sender_id, EVENTS.c.type_name == "user"
        )
    ).first()
    if row is None:
        return None
    message = message_fields(row.data)
    return {"text": message.text, "intent": message.intent}
