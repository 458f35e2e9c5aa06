"""Helpers for the production-profile tests (concurrency, failure drills): real PostgreSQL and Redis.

Each test run gets its own PostgreSQL database (CREATE DATABASE on 127.0.0.1 as postgres, dropped
afterwards) and its own Redis key prefix, so runs never see each other's conversations or locks.
"""
from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

import redis
import requests
import sqlalchemy as sa

from bot.channels.safety import failure_text
from bot.profiles import RedisSettings, prod_stack_config
from bot.stack import Stack, StackConfig, free_port
from bot.store import migrate
from bot.store.db import engine_for

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_ADMIN_URL = f"{PG_SERVER}/postgres"
TEST_REDIS_DB = 11  # not the default lock-store db (1), so a running `make run-prod` is never touched


def _admin() -> sa.engine.Engine:
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)


def _terminate_connections(connection, name: str) -> None:
    connection.execute(
        sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"),
        {"n": name},
    )


@contextlib.contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """A new, migrated PostgreSQL database for one test run; dropped (connections ended) afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = _admin()
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_SERVER}/{name}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        engine_for(url).dispose()
        with admin.connect() as c:
            c.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            _terminate_connections(c, name)
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def database_name(url: str) -> str:
    return sa.engine.make_url(url).database


def block_database(url: str) -> None:
    """Make the database unavailable, as if its server went away: no new connections, live ones ended."""
    name = database_name(url)
    admin = _admin()
    with admin.connect() as c:
        c.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        _terminate_connections(c, name)
    admin.dispose()


def drop_connections(url: str) -> None:
    """End every open connection to the database, as a restart or failover does; it stays available."""
    admin = _admin()
    with admin.connect() as c:
        _terminate_connections(c, database_name(url))
    admin.dispose()


def allow_database(url: str) -> None:
    admin = _admin()
    with admin.connect() as c:
        c.execute(sa.text(f'ALTER DATABASE "{database_name(url)}" ALLOW_CONNECTIONS true'))
    admin.dispose()


def isolated_redis_settings(port: int = 6379) -> RedisSettings:
    return RedisSettings(port=port, db=TEST_REDIS_DB, key_prefix=f"test{uuid.uuid4().hex[:12]}")


def lock_keys(settings: RedisSettings) -> List[bytes]:
    client = redis.Redis(host=settings.host, port=settings.port, db=settings.db)
    try:
        return client.keys(settings.lock_key_prefix + "*")
    finally:
        client.close()


def delete_lock_keys(settings: RedisSettings) -> None:
    client = redis.Redis(host=settings.host, port=settings.port, db=settings.db)
    try:
        for key in client.scan_iter(settings.lock_key_prefix + "*"):
            client.delete(key)
    except redis.RedisError:
        pass
    finally:
        client.close()


class OwnRedis:
    """A Redis server of the test's own on a free port, that the test may stop and start again."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)

    def start(self) -> "OwnRedis":
        subprocess.run(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--daemonize", "yes", "--dir", str(self.workdir),
             "--pidfile", str(self.workdir / "redis.pid"), "--logfile", str(self.workdir / "redis.log")],
            check=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.alive():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"redis-server on port {self.port} did not start:\n{self._log()}")

    def alive(self) -> bool:
        client = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        client = redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2)
        try:
            client.shutdown(nosave=True)
        except redis.RedisError:
            pass  # shutdown closes the connection; an already stopped server is fine too
        finally:
            client.close()
        deadline = time.monotonic() + 10
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.1)

    def _log(self) -> str:
        path = self.workdir / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""


def prod_stack(model: Path, database_url: str, redis_settings: RedisSettings, log_dir: Path,
               rasa_servers: int = 2) -> Stack:
    """The production profile (prod endpoints, PostgreSQL, Redis) on free ports, without web pages."""
    base = StackConfig(
        model=model,
        database_url=database_url,
        rasa_port=free_port(),
        action_port=free_port(),
        log_dir=log_dir,
        with_web=False,
        with_console=False,
    )
    return Stack(prod_stack_config(base, [free_port() for _ in range(rasa_servers - 1)], redis_settings))


def post(url: str, sender: str, text: str, timeout: float = 120) -> requests.Response:
    return requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=timeout)


def reply_texts(response: requests.Response) -> List[str]:
    assert response.status_code == 200, (response.status_code, response.text[:500])
    return [m.get("text", "") for m in response.json()]


def is_failure_reply(texts: Sequence[str]) -> bool:
    return list(texts) == [failure_text()]


def events_by_sender(database_url: str, sender_prefix: str) -> Dict[str, List[dict]]:
    """Rasa's stored events per conversation, in the order they were saved."""
    engine = engine_for(database_url)
    with engine.connect() as c:
        rows = c.execute(
            sa.text("SELECT sender_id, type_name, data FROM events WHERE sender_id LIKE :p ORDER BY id"),
            {"p": sender_prefix + "%"},
        ).fetchall()
    result: Dict[str, List[dict]] = defaultdict(list)
    for sender_id, type_name, data in rows:
        result[sender_id].append({"type": type_name, **json.loads(data)})
    return dict(result)


def effective_turns(events: List[dict]) -> List[List[dict]]:
    """The conversation as Rasa sees it: one list per user message (the message and what followed).

    A `rewind` event (UserUtteranceReverted, e.g. from the two-stage fallback) undoes the last user
    message; Rasa then stores that message again, so raw rows may repeat a message on purpose.
    """
    turns: List[List[dict]] = [[]]
    for event in events:
        if event["type"] == "user":
            turns.append([event])
        elif event["type"] == "rewind":
            if len(turns) > 1:
                turns.pop()
        else:
            turns[-1].append(event)
    return turns


def user_texts(events: List[dict]) -> List[str]:
    return [turn[0].get("text") for turn in effective_turns(events)[1:]]


def turn_structure_problems(events: List[dict]) -> List[str]:
    """What is wrong with a conversation's stored events, if anything.

    A well-formed conversation: one session start, then for every user message the bot's reply and
    actions ending with action_listen before the next user message (turns never interleave, never
    lose their reply, never repeat).
    """
    problems = []
    turns = effective_turns(events)
    starts = [e for e in turns[0] if e["type"] == "action" and e.get("name") == "action_session_start"]
    if len(starts) != 1 or any(e.get("name") == "action_session_start" for t in turns[1:] for e in t):
        problems.append("not exactly one session start, at the beginning")
    for n, turn in enumerate(turns[1:], start=1):
        label = f"turn {n} ({turn[0].get('text')!r})"
        if not any(e["type"] == "bot" for e in turn):
            problems.append(f"{label} has no bot message")
        actions = [e.get("name") for e in turn if e["type"] == "action"]
        if not actions or actions[-1] != "action_listen":
            problems.append(f"{label} does not end by listening: {actions}")
    message_ids = [turn[0].get("message_id") for turn in turns[1:]]
    if len(set(message_ids)) != len(message_ids):
        problems.append("a user message is stored twice")
    return problems


def log_text(stack: Stack, name: str) -> str:
    svc = next(s for s in stack.services if s.name == name)
    return svc.log_path.read_text(errors="replace") if svc.log_path and svc.log_path.exists() else ""


def kill_service(stack: Stack, name: str) -> None:
    """Kill one process of the stack hard (as a crash would), leaving the others running."""
    import os
    import signal

    svc = next(s for s in stack.services if s.name == name)
    os.killpg(svc.process.pid, signal.SIGKILL)
    svc.process.wait(timeout=30)


def red_flag_rows(database_url: str, sender_prefix: str) -> List[dict]:
    engine = engine_for(database_url)
    with engine.connect() as c:
        rows = c.execute(
            sa.text("SELECT sender_id, message_id, tier, category FROM red_flag_events WHERE sender_id LIKE :p"),
            {"p": sender_prefix + "%"},
        ).mappings().fetchall()
    return [dict(r) for r in rows]


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.5) -> Optional[object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None
