"""The tracker kept in memory between turns (bot/store/tracker_cache.py) is only used while the database agrees.

Real SQLite files and a real PostgreSQL database: two store objects on one database stand for two
Rasa servers; plain SQL deletes stand for the console's purge and "forget this person".
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
from rasa.shared.core.trackers import DialogueStateTracker

from bot.paths import ROOT
from bot.store.tracker_cache import TrackerCache, mark_saved
from bot.store.tracker_store import ClinicTrackerStore
from scale_support import fresh_postgres_database


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.from_path(ROOT / "domain.yml")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rasa.db'}"
    else:
        with fresh_postgres_database("cache") as url:
            yield url


def run(coroutine):
    return asyncio.run(coroutine)


def turn(text: str) -> list:
    now = time.time()
    return [
        UserUttered(text, intent={"name": "greet", "confidence": 1.0},
                    parse_data={"text": text, "intent": {"name": "greet", "confidence": 1.0}, "entities": []},
                    timestamp=now),
        ActionExecuted("utter_greet", timestamp=now),
        BotUttered(f"reply to {text}", timestamp=now),
        ActionExecuted("action_listen", timestamp=now),
    ]


def started_conversation(store: ClinicTrackerStore, sender: str) -> DialogueStateTracker:
    """A conversation as Rasa starts one: created, a session started, saved; then one more turn."""
    tracker = run(store.get_or_create_tracker(sender))
    for event in [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]:
        tracker.update(event)
    run(store.save(tracker))
    tracker = run(store.retrieve(sender))
    for event in turn("first"):
        tracker.update(event)
    run(store.save(tracker))
    return tracker


def as_dicts(tracker: DialogueStateTracker) -> list:
    return [event.as_dict() for event in tracker.events]


def texts(tracker) -> list:
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


def test_the_next_turn_gets_the_same_tracker_the_database_would_rebuild(database, domain):
    store, sender = ClinicTrackerStore(domain=domain, host=database), f"c-{uuid.uuid4().hex[:8]}"
    started_conversation(store, sender)

    hits_before = store.cache.hits
    kept = run(store.retrieve(sender))
    rebuilt = run(ClinicTrackerStore(domain=domain, host=database).retrieve(sender))
    assert store.cache.hits == hits_before + 1
    # The rebuilt tracker starts at the latest session; the kept one may also hold what came before
    # it, which Rasa ignores when it predicts: what the bot works from is the same.
    assert [e.as_dict() for e in kept.applied_events()] == [e.as_dict() for e in rebuilt.applied_events()]
    assert as_dicts(kept)[-len(rebuilt.events):] == as_dicts(rebuilt)
    assert kept.past_states(domain) == rebuilt.past_states(domain)
    assert kept.current_state() == rebuilt.current_state()


def test_turns_saved_from_the_kept_tracker_are_stored_once_and_in_order(database, domain):
    store, sender = ClinicTrackerStore(domain=domain, host=database), f"c-{uuid.uuid4().hex[:8]}"
    started_conversation(store, sender)
    for text in ["second", "third", "fourth"]:
        tracker = run(store.retrieve(sender))
        for event in turn(text):
            tracker.update(event)
        run(store.save(tracker))

    rebuilt = run(ClinicTrackerStore(domain=domain, host=database).retrieve(sender))
    assert texts(rebuilt) == ["first", "second", "third", "fourth"]
    assert store.cache.hits >= 3
    with sa.create_engine(database).connect() as conn:
        rows = conn.execute(sa.text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                            {"s": sender}).all()
    user_rows = [json.loads(data)["text"] for type_name, data in rows if type_name == "user"]
    assert user_rows == ["first", "second", "third", "fourth"]  # each turn once, in order
    # before the session: the initial action_listen and action_session_start; then 4 events per turn
    assert [t for t, _ in rows[:4]] == ["action", "action", "session_started", "action"]
    assert len(rows) == 4 + 4 * 4


def test_a_turn_saved_by_another_server_is_not_hidden_by_the_kept_tracker(database, domain):
    server_a = ClinicTrackerStore(domain=domain, host=database)
    server_b = ClinicTrackerStore(domain=domain, host=database)
    sender = f"c-{uuid.uuid4().hex[:8]}"
    started_conversation(server_a, sender)  # server A keeps the tracker in memory

    tracker_b = run(server_b.retrieve(sender))
    for event in turn("sent to server B"):
        tracker_b.update(event)
    run(server_b.save(tracker_b))

    tracker_a = run(server_a.retrieve(sender))
    assert texts(tracker_a) == ["first", "sent to server B"]
    for event in turn("back on server A"):
        tracker_a.update(event)
    run(server_a.save(tracker_a))
    rebuilt = run(ClinicTrackerStore(domain=domain, host=database).retrieve(sender))
    assert texts(rebuilt) == ["first", "sent to server B", "back on server A"]


def test_a_forgotten_conversation_is_not_brought_back_from_memory(database, domain):
    store, sender = ClinicTrackerStore(domain=domain, host=database), f"c-{uuid.uuid4().hex[:8]}"
    started_conversation(store, sender)
    with sa.create_engine(database).begin() as conn:  # what `bot logs forget` / the console's purge do
        conn.execute(sa.text("DELETE FROM events WHERE sender_id = :s"), {"s": sender})

    assert run(store.retrieve(sender)) is None
    fresh = run(store.get_or_create_tracker(sender))
    assert texts(fresh) == []


def test_a_turn_that_failed_before_saving_leaves_nothing_behind(database, domain):
    store, sender = ClinicTrackerStore(domain=domain, host=database), f"c-{uuid.uuid4().hex[:8]}"
    started_conversation(store, sender)
    tracker = run(store.retrieve(sender))
    for event in turn("never saved"):  # the turn crashed here: no save
        tracker.update(event)

    again = run(store.retrieve(sender))
    assert texts(again) == ["first"]
    # Even if the half-finished object were offered back, its unsaved events disqualify it.
    cache = TrackerCache()
    mark_saved(tracker, (1, 1))
    cache.keep(tracker)
    for event in turn("changed after its save"):
        tracker.update(event)
    assert cache.take(sender, (1, 1)) is None


def test_the_cache_is_bounded_and_forgets_idle_conversations(domain):
    cache = TrackerCache(max_entries=2, ttl_s=0.05)
    trackers = [DialogueStateTracker(f"s{i}", domain.slots) for i in range(3)]
    for tracker in trackers:
        mark_saved(tracker, (0, None))
        cache.keep(tracker)
    assert len(cache) == 2
    assert cache.take("s0", (0, None)) is None  # least recently used: dropped
    time.sleep(0.06)
    cache.keep(trackers[0])
    assert len(cache) == 1  # the idle ones are gone from memory, not just refused
    assert cache.take("s2", (0, None)) is None


def test_conversations_through_the_running_server_are_complete_in_the_database(chat, stack, domain):
    sender = chat.new_sender("cache")
    messages = ["hi", "what is post laminectomy syndrome", "what causes it", "how is it diagnosed", "thanks"]
    for text in messages:
        assert chat.texts(sender, text)
    rebuilt = run(ClinicTrackerStore(domain=domain, host=stack.cfg.database_url).retrieve(sender))
    assert texts(rebuilt) == messages
