"""The red-flag recorder inside the real tracker store: one row per message and category, written
in the same save as the conversation, for detector findings and for symptom-check answers."""
from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.paths import ROOT
from bot.store.db import engine_for
from bot.store.models import RedFlagEvent
from bot.store.tracker_store import EVENT_HOOKS, ClinicTrackerStore


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.from_path(ROOT / "domain.yml")


@pytest.fixture()
def store(tmp_path, domain):
    return ClinicTrackerStore(domain=domain, host=f"sqlite:///{tmp_path / 'rasa.db'}")


def user(text: str, intent: str, red_flags=(), message_id=None, channel="twilio") -> UserUttered:
    return UserUttered(
        text,
        intent={"name": intent, "confidence": 1.0},
        parse_data={"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": [], "red_flags": list(red_flags)},
        input_channel=channel,
        message_id=message_id or uuid.uuid4().hex,
        timestamp=time.time(),
    )


def save(store, tracker):
    asyncio.run(store.save(tracker))


def stored(store, sender):
    with engine_for(store.database_url).connect() as conn:
        return list(conn.execute(sa.select(RedFlagEvent.__table__).where(RedFlagEvent.sender_id == sender)))


def finding(tier, category, text):
    return {"tier": tier, "category": category, "text": text, "start": 0, "end": len(text), "summary": "..."}


def test_the_hook_is_registered_by_the_tracker_store(store):
    from bot.store.red_flag_recorder import record_red_flags

    assert record_red_flags in EVENT_HOOKS


def test_each_finding_is_one_row_with_channel_and_time(store, domain):
    tracker = DialogueStateTracker.from_events("s1", [ActionExecuted("action_listen")], slots=domain.slots)
    message = user(
        "i wet myself and i want to die",
        "red_flag_emergency",
        [finding("EMERGENCY", "bladder_control", "wet myself"), finding("CRISIS", "suicidal_thoughts", "want to die")],
    )
    tracker.update(message)
    save(store, tracker)
    rows = stored(store, "s1")
    assert sorted((r.tier, r.category, r.matched_text) for r in rows) == [
        ("CRISIS", "suicidal_thoughts", "want to die"),
        ("EMERGENCY", "bladder_control", "wet myself"),
    ]
    assert {(r.channel, r.message_id, r.status) for r in rows} == {("twilio", message.message_id, "new")}
    assert abs(rows[0].created_at - datetime.utcfromtimestamp(message.timestamp)) < timedelta(seconds=1)  # naive UTC


def test_saving_again_or_a_re_sent_message_adds_no_duplicate(store, domain):
    tracker = DialogueStateTracker.from_events("s2", [ActionExecuted("action_listen")], slots=domain.slots)
    message = user("cant pee", "red_flag_emergency", [finding("EMERGENCY", "urinary_retention", "cant pee")], message_id="m-1")
    tracker.update(message)
    save(store, tracker)
    save(store, tracker)
    # Rasa's two-stage fallback re-sends a clarified message with the same id
    tracker.update(user("cant pee", "red_flag_emergency", [finding("EMERGENCY", "urinary_retention", "cant pee")], message_id="m-1"))
    save(store, tracker)
    assert len(stored(store, "s2")) == 1


def test_classifier_only_red_flag_is_recorded_too(store, domain):
    tracker = DialogueStateTracker.from_events("s3", [ActionExecuted("action_listen")], slots=domain.slots)
    tracker.update(user("something terrible is happening down below", "red_flag_emergency"))
    save(store, tracker)
    assert [(r.tier, r.category) for r in stored(store, "s3")] == [("EMERGENCY", "recognised_by_classifier")]


def test_a_yes_in_the_symptom_check_is_recorded_with_its_question(store, domain):
    events = [
        ActionExecuted("action_listen"),
        ActiveLoop("symptom_check_form"),
        SlotSet("requested_slot", "symptom_legs_both"),
        ActionExecuted("action_listen"),
    ]
    tracker = DialogueStateTracker.from_events("s4", events, slots=domain.slots)
    tracker.update(user("/affirm", "affirm", channel="socketio"))
    tracker.update(user("no", "deny", channel="socketio"))  # a "no" elsewhere is not a red flag
    save(store, tracker)
    rows = stored(store, "s4")
    assert [(r.tier, r.category, r.channel) for r in rows] == [("EMERGENCY", "leg_weakness_both", "socketio")]
    assert "both legs" in rows[0].matched_text


def test_ordinary_messages_write_nothing(store, domain):
    tracker = DialogueStateTracker.from_events("s5", [ActionExecuted("action_listen")], slots=domain.slots)
    tracker.update(user("what is adhesiolysis", "edu_treatment_adhesiolysis"))
    tracker.update(user("yes", "affirm"))  # affirm outside the symptom check
    save(store, tracker)
    assert stored(store, "s5") == []
