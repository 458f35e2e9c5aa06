"""Fixtures and helpers for the staff-console tests (imported by tests/test_console_*.py).

`db_url` runs each test twice: on a fresh SQLite file and on a fresh PostgreSQL database
(CREATE DATABASE on the local server, dropped afterwards). Conversations are written with the
product's real Rasa tracker store (ClinicTrackerStore); product rows with the real models.
"""
from __future__ import annotations

import asyncio
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

import pytest
import requests
import sqlalchemy as sa

from bot.stack import Stack, StackConfig, free_port
from bot.store.conversations import prepare_database
from bot.store.db import engine_for, session_scope

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
STRONG_PASSWORD = "correct horse battery staple"


def _create_pg_database() -> str:
    name = f"test_console_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name


def _drop_pg_database(name: str) -> None:
    engine_for.cache_clear()
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                           {"n": name})
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request, tmp_path_factory) -> Iterable[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('console-db') / 'console.db'}"
        prepare_database(url)
        yield url
        return
    name = _create_pg_database()
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        prepare_database(url)
        yield url
    finally:
        _stop_servers_on(url)
        engine_for(url).dispose()
        _drop_pg_database(name)


_SERVERS: Dict[str, Stack] = {}


def _stop_servers_on(url: str) -> None:
    stack = _SERVERS.pop(url, None)
    if stack:
        stack.stop()


def start_console(db_url: str, tmp_path_factory, **env: str) -> Stack:
    """The real console process (`python -m bot.web.console`, as `make run` starts it) on db_url."""
    cfg = StackConfig(model=Path("unused"), database_url=db_url, console_port=free_port(),
                      log_dir=tmp_path_factory.mktemp("console-logs"),
                      extra_env={"BOT_VAR_DIR": str(tmp_path_factory.mktemp("console-var")), **env})
    stack = Stack(cfg)
    stack.services = [s for s in stack.services if s.name == "staff console"]
    assert stack.services, "bot/web/console.py is not started by the stack"
    stack.start(timeout=90)
    return stack


@pytest.fixture(scope="session")
def console_url(db_url, tmp_path_factory) -> str:
    """The console every console test shares. All of them sign in from 127.0.0.1, so its limit of failed
    sign-ins per address is raised (tests/test_console_login_throttle.py tests the default)."""
    stack = start_console(db_url, tmp_path_factory, CONSOLE_LOGIN_LIMIT_PER_ADDRESS="100000")
    _SERVERS[db_url] = stack
    yield stack.cfg.console_url
    _stop_servers_on(db_url)


# --- writing conversations -----------------------------------------------------------------------

_STORES: Dict[str, object] = {}


def tracker_store(url: str):
    from rasa.shared.core.domain import Domain

    from bot.store.tracker_store import ClinicTrackerStore

    if url not in _STORES:
        _STORES[url] = ClinicTrackerStore(Domain.empty(), host=url)
    return _STORES[url]


@dataclass
class Said:
    """One turn to store: a user message (with its NLU result) or a bot reply."""

    text: str
    intent: Optional[str] = None  # None: a bot message
    confidence: float = 0.9
    response: Optional[str] = None  # bot: utter_... ; also stored as an action event
    red_flags: Sequence[dict] = ()
    at: Optional[float] = None  # epoch seconds
    metadata: Optional[dict] = None  # what the client sent beside the message


def user(text: str, intent: str = "greet", confidence: float = 0.9, at: Optional[float] = None,
         red_flags: Sequence[dict] = (), metadata: Optional[dict] = None) -> Said:
    return Said(text, intent, confidence, red_flags=red_flags, at=at, metadata=metadata)


def bot(text: str, response: str = "utter_greet", at: Optional[float] = None) -> Said:
    return Said(text, None, response=response, at=at)


def store_conversation(url: str, sender: str, turns: Sequence[Said], channel: str = "rest") -> List[str]:
    """Save the turns through the real Rasa tracker store; returns the user messages' message ids."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    start = next((t.at for t in turns if t.at), None) or time.time()
    events = [ActionExecuted("action_session_start", timestamp=start), SessionStarted(timestamp=start),
              ActionExecuted("action_listen", timestamp=start)]
    message_ids = []
    for index, turn in enumerate(turns):
        at = turn.at or (start + index * 0.01)
        if turn.intent is not None:
            message_id = uuid.uuid4().hex
            message_ids.append(message_id)
            parse = {"intent": {"name": turn.intent, "confidence": turn.confidence}, "entities": [],
                     "text": turn.text, "message_id": message_id}
            if turn.red_flags:
                parse["red_flags"] = list(turn.red_flags)
            events.append(UserUttered(turn.text, intent=parse["intent"], parse_data=parse, input_channel=channel,
                                      message_id=message_id, timestamp=at, metadata=turn.metadata))
        else:
            events.append(ActionExecuted(turn.response or "utter_greet", timestamp=at))
            events.append(BotUttered(turn.text, metadata={"utter_action": turn.response}, timestamp=at))
            events.append(ActionExecuted("action_listen", timestamp=at))
    tracker = DialogueStateTracker.from_events(sender, events)
    asyncio.run(tracker_store(url).save(tracker))
    return message_ids


def add_red_flag(url: str, sender: str, message_id: str, tier: str = "EMERGENCY", category: str = "bladder_bowel",
                 matched_text: str = "can't control my bladder", created_at: Optional[datetime] = None,
                 channel: str = "rest") -> int:
    from bot.store.models import RedFlagEvent

    with session_scope(url) as session:
        row = RedFlagEvent(sender_id=sender, message_id=message_id, tier=tier, category=category,
                           matched_text=matched_text, channel=channel, status="new")
        if created_at:
            row.created_at = created_at
        session.add(row)
        session.flush()
        return row.id


def add_callback(url: str, sender: str, created_at: Optional[datetime] = None) -> int:
    from bot.store.models import CallbackRequest

    with session_scope(url) as session:
        row = CallbackRequest(sender_id=sender, name="Pat Example", phone_e164="+14195550100",
                              best_time="mornings", consent=True, channel="rest", status="new")
        if created_at:
            row.created_at = created_at
        session.add(row)
        session.flush()
        return row.id


def add_user(url: str, role: str = "staff", password: str = STRONG_PASSWORD) -> str:
    from bot.store import staff

    username = f"{role}-{uuid.uuid4().hex[:8]}"
    with session_scope(url) as session:
        staff.create_user(session, username, password, role)
    return username


def new_sender(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def token() -> str:
    """A word no other test writes, to find one test's conversations among all."""
    return "zq" + uuid.uuid4().hex[:10]


def audit_rows(url: str, action: str, target: Optional[str] = None, actor: Optional[str] = None) -> list:
    from bot.store.models import AuditEntry

    with session_scope(url) as session:
        query = session.query(AuditEntry).filter(AuditEntry.action == action)
        if target is not None:
            query = query.filter(AuditEntry.target == target)
        if actor is not None:
            query = query.filter(AuditEntry.actor == actor)
        rows = query.order_by(AuditEntry.id).all()
        session.expunge_all()
        return rows


def utc_days_ago(days: float) -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=days)


# --- a browser-less client of the console --------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class ConsoleClient:
    """Talks to the console like a browser with cookies would (no redirects followed unless asked)."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.http = requests.Session()

    def get(self, path: str, **kw) -> requests.Response:
        kw.setdefault("allow_redirects", False)
        return self.http.get(self.base + path, timeout=30, **kw)

    def post(self, path: str, data: Optional[dict] = None, **kw) -> requests.Response:
        kw.setdefault("allow_redirects", False)
        return self.http.post(self.base + path, data=data or {}, timeout=30, **kw)

    def csrf(self, page: str = "/conversations") -> str:
        match = CSRF_RE.search(self.get(page).text)
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def login(self, username: str, password: str = STRONG_PASSWORD) -> requests.Response:
        return self.post("/login", {"username": username, "password": password, "csrf_token": self.csrf("/login")})

    def submit(self, path: str, data: dict, page: str = "/conversations") -> requests.Response:
        """POST a form the way the page would: with the session's CSRF token."""
        return self.post(path, {**data, "csrf_token": self.csrf(page)})


def signed_in(console_url: str, db_url: str, role: str = "staff") -> ConsoleClient:
    client = ConsoleClient(console_url)
    client.username = add_user(db_url, role)
    response = client.login(client.username)
    assert response.status_code == 303, response.text
    return client
