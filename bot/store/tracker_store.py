"""Rasa's SQL tracker store, configured by one DATABASE_URL, that also writes product rows.

New user events are inspected in the same transaction that stores them, so that a red flag
is recorded exactly once and without depending on the action server.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, List, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.paths import default_database_url
from bot.store import migrate

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

    def __init__(self, domain=None, host: Optional[Text] = None, event_broker=None, **kwargs: Any) -> None:
        self.database_url = host or default_database_url()
        migrate.upgrade(self.database_url)
        _load_default_hooks()
        for key in ("dialect", "db", "port", "username", "password", "login_db", "query"):
            kwargs.pop(key, None)
        super().__init__(domain=domain, event_broker=event_broker, **_url_kwargs(self.database_url), **kwargs)
        # Test each pooled connection before use: after a database restart or failover, Rasa's engine
        # would fail the next retrieve on a dead connection, start the conversation afresh and then
        # save that fresh tracker misaligned, so the turn was lost (tests/test_failure_drills.py).
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
            for event in new_events:
                data = event.as_dict()
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=data.get("parse_data", {}).get("intent", {}).get("name"),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            user_events = [e for e in new_events if isinstance(e, UserUttered)]
            if user_events:
                for hook in EVENT_HOOKS:
                    hook(session, tracker, user_events)
            session.commit()


def _load_default_hooks() -> None:
    """Import the modules that register hooks (kept lazy so the store has no import cycles)."""
    import importlib

    for module in ("bot.store.red_flag_recorder",):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise
