"""Rasa's SQL tracker store, configured by one DATABASE_URL, that also writes product rows.

New user events are inspected in the same transaction that stores them, so that a red flag
is recorded exactly once and without depending on the action server. Between turns each
conversation's tracker stays in memory while the database agrees it is current
(bot/store/tracker_cache.py), so a turn does not rebuild it from every stored event. A save that
fails because the database is down is kept on local disk and stored when it is back
(bot/store/spool.py).
"""
from __future__ import annotations

import itertools
import json
import logging
import math
from pathlib import Path
from typing import Any, Callable, List, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.paths import default_database_url
from bot.store import db, migrate
from bot.store.forgotten import forgotten_at
from bot.store.spool import TurnSpool, default_spool_folder, events_not_stored
from bot.store.tracker_cache import DbState, TrackerCache, mark_saved, take_saved_mark

logger = logging.getLogger(__name__)

# Called with (session, tracker, new_user_events) inside the save transaction.
EventHook = Callable[[Any, DialogueStateTracker, List[UserUttered]], None]
EVENT_HOOKS: List[EventHook] = []


def register_event_hook(hook: EventHook) -> EventHook:
    if hook not in EVENT_HOOKS:
        EVENT_HOOKS.append(hook)
    return hook


def _url_kwargs(url: str) -> dict:
    parsed = sa.engine.make_url(url)
    if parsed.drivername.startswith("sqlite"):
        from pathlib import Path

        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return {"dialect": "sqlite", "db": parsed.database or "rasa.db"}
    return {
        "dialect": parsed.drivername,
        "host": parsed.host,
        "port": parsed.port,
        "db": parsed.database,
        "username": parsed.username,
        "password": parsed.password,
        "query": dict(parsed.query) or None,
    }


class ClinicTrackerStore(SQLTrackerStore):
    """endpoints.yml: `tracker_store: {type: bot.store.tracker_store.ClinicTrackerStore, url: ...}`."""

    engine: sa.engine.Engine  # made by SQLTrackerStore.__init__, replaced below

    def __init__(self, domain=None, host: Optional[Text] = None, event_broker=None, **kwargs: Any) -> None:
        self.database_url = host or default_database_url()
        migrate.upgrade(self.database_url)
        _load_default_hooks()
        for key in ("dialect", "db", "port", "username", "password", "login_db", "query"):
            kwargs.pop(key, None)
        cache_size = int(kwargs.pop("cache_size", 2000))
        spool_folder = kwargs.pop("spool_folder", None)
        super().__init__(domain=domain, event_broker=event_broker, **_url_kwargs(self.database_url), **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = make_tracker_engine(url)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self.cache = TrackerCache(max_entries=cache_size)
        self.spool = TurnSpool(Path(spool_folder) if spool_folder else default_spool_folder(self.database_url))
        # Every turn runs these two statements: built once, so SQLAlchemy compiles them once
        # (an ORM query or ORM flush rebuilt and re-keyed its statement on every turn).
        events = self.SQLEvent.__table__
        self._state_statement = sa.select(sa.func.count(events.c.id), sa.func.max(events.c.id)).where(
            events.c.sender_id == sa.bindparam("sender_id"))
        self._insert_statement = events.insert()

    def _db_state(self, session: Any, sender_id: Text) -> DbState:
        """(number of events, highest event id) of one conversation: one indexed aggregate query."""
        count, highest = session.execute(self._state_statement, {"sender_id": sender_id}).one()
        return int(count), highest

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The kept tracker if the database still matches it, else the tracker rebuilt from the database."""
        self._replay_kept_turns()  # turns kept during an outage first, so none is missed
        with self.session_scope() as session:
            db_state = self._db_state(session, sender_id)
        kept = self.cache.take(sender_id, db_state)
        if kept is not None or db_state[0] == 0:  # nothing stored: Rasa's retrieve would read no events
            return kept
        return await super().retrieve(sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        try:
            self._replay_kept_turns()
            self._save(tracker)
        except sa.exc.SQLAlchemyError:
            # Rasa logs the error and goes on from an in-memory tracker; keep this turn for the database.
            self.cache.forget(tracker.sender_id)
            self.spool.write(tracker.sender_id, [event.as_dict() for event in tracker.events])
            raise

    def _save(self, tracker: DialogueStateTracker) -> None:
        # How many of this tracker's events the database holds, known from its last save here (the
        # conversation lock keeps other servers out meanwhile); for a conversation with nothing stored,
        # all of it; otherwise Rasa's count (of the events since the latest session start) decides.
        # The database state left by the save is read back in the same transaction.
        stored = take_saved_mark(tracker)
        with self.session_scope() as session:
            if stored is not None and stored[0] <= len(tracker.events):
                new_events = list(itertools.islice(tracker.events, stored[0], None))
            elif self._db_state(session, tracker.sender_id)[0] == 0:  # a new conversation: all of it is new
                new_events = list(tracker.events)
            else:
                new_events = list(self._additional_events(session, tracker))
            self._insert_events(session, tracker.sender_id, new_events)
            _run_hooks(session, tracker, new_events)
            db_state = self._db_state(session, tracker.sender_id)
            session.commit()
        mark_saved(tracker, db_state)
        self.cache.keep(tracker)

    def _replay_kept_turns(self) -> None:
        self.spool.replay(self._store_kept_events, transient=(sa.exc.SQLAlchemyError,))

    def _store_kept_events(self, sender_id: Text, events: List[dict]) -> int:
        """Replay of one conversation kept during an outage: append what the database lacks, record its red flags."""
        with self.session_scope() as session:
            forgotten = forgotten_at(session, sender_id)
            if forgotten is not None:  # staff forgot it since: only what came after the forget is stored
                events = [e for e in events if (e.get("timestamp") or 0) > forgotten]
            first = min((e.get("timestamp") or 0 for e in events), default=0)
            already = [data for (data,) in session.query(self.SQLEvent.data).filter(
                self.SQLEvent.sender_id == sender_id, self.SQLEvent.timestamp >= first)]
            missing = events_not_stored(events, already)
            replayed = [Event.from_parameters(d) for d in missing]
            self._insert_events(session, sender_id, replayed, missing)
            # The hooks look at each message in its conversation (was a form asking?): give them the
            # rebuilt conversation's own event objects where they match.
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots if self.domain else [])
            in_tracker = {json.dumps(e.as_dict(), sort_keys=True): e for e in tracker.events}
            _run_hooks(session, tracker, [in_tracker.get(json.dumps(d, sort_keys=True), e) for e, d in zip(replayed, missing)])
            session.commit()
        self.cache.forget(sender_id)
        return len(missing)

    def _insert_events(self, session: Any, sender_id: Text, events: List[Any], datas: Optional[List[dict]] = None) -> None:
        """One multi-row INSERT of events, with the columns Rasa's SQLTrackerStore.save writes."""
        if not events:
            return
        datas = datas if datas is not None else [event.as_dict() for event in events]
        session.execute(self._insert_statement, [
            {
                "sender_id": sender_id,
                "type_name": event.type_name,
                "timestamp": data.get("timestamp"),
                "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
                "action_name": data.get("name"),
                "data": json.dumps(_storable(data)),
            }
            for event, data in zip(events, datas)
        ])


def _storable(value: Any) -> Any:
    """The event without NUL characters (PostgreSQL cannot turn a JSON "\\u0000" into text) and without
    NaN or Infinity (no JSON: SQLite's and PostgreSQL's JSON functions refuse them): one such message broke
    every staff search and export. Channels refuse both; this holds for any other writer."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def _run_hooks(session: Any, tracker: DialogueStateTracker, new_events: List[Any]) -> None:
    user_events = [e for e in new_events if isinstance(e, UserUttered)]
    if user_events:
        for hook in EVENT_HOOKS:
            hook(session, tracker, user_events)


def make_tracker_engine(url: Any) -> sa.engine.Engine:
    """Rasa's store uses SQLAlchemy's 1.x API, so not a `future` engine; PostgreSQL pool settings from Rasa's env.

    Its connections are tested before use: after a database restart Rasa would otherwise fail the next
    retrieve on a dead connection, start the conversation afresh and lose the turn (tests/test_failure_drills.py)."""
    return db.make_engine(url, future=False, **create_engine_kwargs(url))


def _load_default_hooks() -> None:
    """Import the modules that register hooks (kept lazy so the store has no import cycles)."""
    import importlib

    for module in ("bot.store.red_flag_recorder",):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise
