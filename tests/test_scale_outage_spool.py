"""Turns saved while the database is down are kept on disk and stored when it is back (bot/store/spool.py).

A real PostgreSQL database made unreachable (no connections allowed, live ones ended), the real
tracker store and red-flag recorder; the spool folder is a temporary directory.
"""
from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

from bot.paths import ROOT
from bot.store.spool import TurnSpool, events_not_stored
from bot.store.tracker_store import ClinicTrackerStore
from scale_support import allow_database, block_database, fresh_postgres_database

RED_FLAG = "I suddenly can't control my bladder"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.from_path(ROOT / "domain.yml")


@pytest.fixture()
def database():
    with fresh_postgres_database("spool") as url:
        yield url


def run(coroutine):
    return asyncio.run(coroutine)


def user(text: str, red_flags=()) -> UserUttered:
    intent = "red_flag_emergency" if red_flags else "greet"
    return UserUttered(text, intent={"name": intent, "confidence": 1.0},
                       parse_data={"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": [],
                                   "red_flags": list(red_flags)},
                       input_channel="rest", message_id=uuid.uuid4().hex, timestamp=time.time())


def bladder_finding() -> dict:
    return {"tier": "EMERGENCY", "category": "bladder", "text": "can't control my bladder", "summary": "bladder control"}


def add_turn(tracker, text: str, red_flags=()) -> None:
    for event in [user(text, red_flags), ActionExecuted("utter_x"), BotUttered("a reply"), ActionExecuted("action_listen")]:
        tracker.update(event)


def stored_rows(url: str, sender: str):
    with sa.create_engine(url).connect() as conn:
        events = conn.execute(sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}).all()
        flags = conn.execute(sa.text("SELECT category, tier FROM red_flag_events WHERE sender_id = :s"), {"s": sender}).all()
    return [json.loads(d) for (d,) in events], flags


def user_texts(events) -> list:
    return [e["text"] for e in events if e["event"] == "user"]


@pytest.mark.prod  # a real PostgreSQL database
def test_turns_during_an_outage_are_kept_and_stored_with_their_red_flag_when_the_database_returns(database, domain, tmp_path):
    store = ClinicTrackerStore(domain=domain, host=database, spool_folder=str(tmp_path / "spool"))
    sender = f"outage-{uuid.uuid4().hex[:8]}"
    tracker = run(store.get_or_create_tracker(sender))
    for event in [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]:
        tracker.update(event)
    add_turn(tracker, "hi")
    run(store.save(tracker))

    block_database(database)
    try:
        with pytest.raises(sa.exc.SQLAlchemyError):
            run(store.retrieve(sender))  # Rasa would now go on from an in-memory tracker
        add_turn(tracker, RED_FLAG, [bladder_finding()])
        with pytest.raises(sa.exc.SQLAlchemyError):
            run(store.save(tracker))
        add_turn(tracker, "what is spinal cord stimulation")
        with pytest.raises(sa.exc.SQLAlchemyError):
            run(store.save(tracker))
        kept = list((tmp_path / "spool").glob("*.json"))
        assert len(kept) == 1  # one file per conversation, holding its latest state
        assert oct(kept[0].stat().st_mode & 0o777) == "0o600"
    finally:
        allow_database(database)

    run(store.retrieve(sender))  # the first use after the outage stores what was kept
    events, flags = stored_rows(database, sender)
    assert user_texts(events) == ["hi", RED_FLAG, "what is spinal cord stimulation"]
    assert flags == [("bladder", "EMERGENCY")]
    assert not list((tmp_path / "spool").glob("*.json"))

    # The conversation goes on from what was kept, and nothing is stored twice.
    tracker = run(store.retrieve(sender))
    add_turn(tracker, "thanks")
    run(store.save(tracker))
    events, flags = stored_rows(database, sender)
    assert user_texts(events) == ["hi", RED_FLAG, "what is spinal cord stimulation", "thanks"]
    assert len(flags) == 1


@pytest.mark.prod  # a real PostgreSQL database
def test_a_process_that_stopped_during_the_outage_leaves_its_turns_to_the_next_one(database, domain, tmp_path):
    folder = tmp_path / "spool"
    sender = f"restart-{uuid.uuid4().hex[:8]}"
    first = ClinicTrackerStore(domain=domain, host=database, spool_folder=str(folder))
    tracker = run(first.get_or_create_tracker(sender))
    add_turn(tracker, RED_FLAG, [bladder_finding()])
    block_database(database)
    try:
        with pytest.raises(sa.exc.SQLAlchemyError):
            run(first.save(tracker))
    finally:
        allow_database(database)
    del first  # the server stopped before the database came back

    second = ClinicTrackerStore(domain=domain, host=database, spool_folder=str(folder))
    assert run(second.retrieve(sender)) is not None
    events, flags = stored_rows(database, sender)
    assert user_texts(events) == [RED_FLAG]
    assert flags == [("bladder", "EMERGENCY")]


@pytest.mark.prod  # a real PostgreSQL database
def test_a_kept_file_that_cannot_be_stored_is_moved_aside_and_never_blocks_saving(database, domain, tmp_path):
    folder = tmp_path / "spool"
    folder.mkdir()
    (folder / "broken-1.json").write_text("{not json")
    store = ClinicTrackerStore(domain=domain, host=database, spool_folder=str(folder))
    sender = f"after-broken-{uuid.uuid4().hex[:8]}"
    tracker = run(store.get_or_create_tracker(sender))
    add_turn(tracker, "hello")
    run(store.save(tracker))
    assert user_texts(stored_rows(database, sender)[0]) == ["hello"]
    assert (folder / "unreadable" / "broken-1.json").exists()


def test_only_events_the_database_lacks_are_replayed_counting_repeats():
    a, b = {"event": "action", "name": "action_listen", "timestamp": 1.5}, {"event": "bot", "text": "x", "timestamp": 2.25}
    stored = [json.dumps(a), json.dumps(b)]
    assert events_not_stored([a, b, a, b], stored) == [a, b]  # the same event twice (a repeat) is kept once more
    assert events_not_stored([a, b], stored) == []
    assert events_not_stored([], stored) == []


def test_another_process_replaying_the_same_folder_is_left_alone(tmp_path):
    import fcntl

    spool = TurnSpool(tmp_path)
    spool.write("someone", [{"event": "action", "name": "action_listen", "timestamp": 1.0}])
    calls = []
    with open(tmp_path / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert spool.replay(lambda sender, events: calls.append(sender) or len(events)) == 0
    assert calls == []
    assert spool.replay(lambda sender, events: calls.append(sender) or len(events)) == 1
    assert calls == ["someone"]


@pytest.mark.prod  # a real PostgreSQL database
def test_forgetting_a_person_also_deletes_what_was_kept_for_them_during_an_outage(database, domain, tmp_path, monkeypatch):
    from bot.store import retention
    from bot.store.db import session_scope
    from bot.store.spool import default_spool_folder

    monkeypatch.setenv("BOT_SPOOL_DIR", str(tmp_path))
    store = ClinicTrackerStore(domain=domain, host=database)
    assert store.spool.folder == default_spool_folder(database)
    sender, other = f"forget-{uuid.uuid4().hex[:8]}", f"stays-{uuid.uuid4().hex[:8]}"
    for who in (sender, other):
        store.spool.write(who, [user("my bladder").as_dict()])

    with session_scope(database) as session:
        counts = retention.forget_sender(session, sender, "admin")
    assert counts["kept_during_outage"] == 1
    assert "1 conversation file kept during a database outage" in retention.describe_counts(counts)
    assert len(list(store.spool.folder.glob("*.json"))) == 1  # the other person's turns are still kept
