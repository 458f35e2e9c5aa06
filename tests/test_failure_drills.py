"""Failure drills: what a patient sees when a part of the system is down, and that it recovers.

- Action server crashed: emergency, education and contact replies are responses + rules inside the
  Rasa server, so they must be exactly what they were before the crash; a callback request (a form
  validated by the action server) must still end with the clinic's contact details.
- Database unreachable: a polite reply (still with the emergency number for a red flag), a clear error
  in the Rasa server's log, and normal service once the database is back, with the turns of the outage
  (and their red flags) stored then.
- Redis (lock store, production profile) stopped: the person is told there is a problem (with the
  emergency number), the log says why, and nothing is stored as answered that was not; after Redis
  restarts the conversation goes on.
"""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from bot.stack import Stack, StackConfig, free_port
from bot.store.db import engine_for
from scale_support import (OwnRedis, allow_database, block_database, drop_connections, events_by_sender, fresh_postgres_database,
                           is_failure_reply, isolated_redis_settings, kill_service, lock_keys, log_text, post,
                           prod_stack, reply_texts, turn_structure_problems, user_texts, wait_for)

pytestmark = [pytest.mark.stack, pytest.mark.timeout(900)]  # its own stacks, Redis and database

RED_FLAG = "I suddenly can't control my bladder"
EDUCATION = "What is post-laminectomy syndrome?"
CONTACT = "How do I contact the clinic?"
CALLBACK = "Can someone from the clinic call me back?"
LATER_QUESTION = "what is spinal cord stimulation"


def red_flag_categories(db_url: str, sender: str):
    with engine_for(db_url).connect() as conn:
        return [tuple(r) for r in conn.execute(
            sa.text("SELECT tier, category FROM red_flag_events WHERE sender_id = :s"), {"s": sender})]


def new_sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def ask(url: str, sender: str, text: str):
    return reply_texts(post(url, sender, text))


# --- action server down -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dev_stack(model_path, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("drill-actions")
    cfg = StackConfig(model=model_path, database_url=f"sqlite:///{tmp / 'drill.db'}", rasa_port=free_port(),
                      action_port=free_port(), log_dir=tmp / "logs", with_web=False, with_console=False)
    with Stack(cfg) as stack:
        yield stack


def test_without_the_action_server_emergency_education_and_contact_replies_are_unchanged(dev_stack, clinic_values):
    url = dev_stack.cfg.rasa_url
    before = {text: ask(url, new_sender("drill-before"), text) for text in (RED_FLAG, EDUCATION, CONTACT)}
    kill_service(dev_stack, "action server")

    sender = new_sender("drill-no-actions")
    after = {text: ask(url, sender, text) for text in (RED_FLAG, EDUCATION, CONTACT)}

    emergency = after[RED_FLAG]
    assert clinic_values["emergency_number"] in emergency[0] and "emergency" in emergency[0].lower(), emergency
    assert clinic_values["clinic_phone"] in "\n".join(after[CONTACT]), after[CONTACT]
    for text in before:
        assert not is_failure_reply(after[text]), (text, after[text])
        assert after[text] == before[text], f"{text!r} answered differently without the action server"


def test_without_the_action_server_a_callback_request_still_gets_the_clinic_contact(dev_stack, clinic_values):
    url = dev_stack.cfg.rasa_url
    actions = next(s for s in dev_stack.services if s.name == "action server")
    if actions.process.poll() is None:  # this test may run alone
        kill_service(dev_stack, "action server")
    sender = new_sender("drill-callback")
    reply = ask(url, sender, CALLBACK)
    print(f"callback request without the action server -> {reply}")
    assert not is_failure_reply(reply), f"the callback request got the technical-problem apology: {reply}"
    assert clinic_values["clinic_phone"] in "\n".join(reply), reply
    # The conversation is not stuck in a half-started form.
    after = ask(url, sender, EDUCATION)
    assert after == ask(url, new_sender("drill-fresh"), EDUCATION), after


# --- database and Redis down (production profile) ------------------------------------------------

@pytest.fixture(scope="module")
def own_redis(tmp_path_factory):
    server = OwnRedis(tmp_path_factory.mktemp("drill-redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def prod(model_path, own_redis, tmp_path_factory):
    settings = isolated_redis_settings(port=own_redis.port)
    with fresh_postgres_database("test_drill") as url:
        stack = prod_stack(model_path, url, settings, tmp_path_factory.mktemp("drill-prod-logs"), rasa_servers=1)
        with stack:
            yield stack, url, settings


@pytest.mark.prod
def test_database_outage_gives_a_polite_reply_a_clear_log_and_recovers(prod, clinic_values):
    stack, db_url, _ = prod
    url = stack.cfg.rasa_url
    sender = new_sender("drill-db")
    assert not is_failure_reply(ask(url, sender, "hi"))
    log_before = len(log_text(stack, "rasa server"))

    block_database(db_url)
    try:
        during_red_flag = ask(url, sender, RED_FLAG)
        during_question = ask(url, sender, EDUCATION)
    finally:
        allow_database(db_url)

    print(f"during the database outage: {during_red_flag} / {during_question}")
    assert clinic_values["emergency_number"] in "\n".join(during_red_flag), during_red_flag
    assert during_question and all(during_question), during_question
    new_log = log_text(stack, "rasa server")[log_before:]
    error_lines = [line for line in new_log.splitlines() if "ERROR" in line]
    assert any("not currently accepting connections" in line or "OperationalError" in line
               for line in error_lines), new_log[-3000:]

    assert any("will be stored when it is back" in line for line in error_lines), new_log[-3000:]

    # Back to normal: answered as a fresh conversation would be. Nothing said during the outage is
    # lost: those turns were kept on disk and stored when the database returned, in their order,
    # as the session the bot had started in memory, and the red flag is in the staff queue once.
    recovered = ask(url, sender, LATER_QUESTION)
    assert recovered == ask(url, new_sender("drill-db-fresh"), LATER_QUESTION), recovered
    events = events_by_sender(db_url, sender)[sender]
    assert user_texts(events) == ["hi", RED_FLAG, EDUCATION, LATER_QUESTION]
    # Without the database the bot remembered nothing between turns: each outage turn began a session.
    starts = [n for n, e in enumerate(events) if e["type"] == "action" and e.get("name") == "action_session_start"]
    assert len(starts) == 3, starts
    for begin, end in zip(starts, starts[1:] + [len(events)]):
        session = events[begin:end]
        assert not turn_structure_problems(session), (turn_structure_problems(session), session)
    assert red_flag_categories(db_url, sender) == [("EMERGENCY", "bladder_control")]


@pytest.mark.prod
def test_a_database_restart_between_turns_loses_neither_context_nor_the_turn(prod):
    """Connections dropped while idle (a restart, a failover, a proxy's idle timeout): the next turn
    must still see the conversation so far, and be stored."""
    stack, db_url, _ = prod
    url = stack.cfg.rasa_url
    control = new_sender("drill-control")
    ask(url, control, EDUCATION)
    expected = ask(url, control, "tell me more")

    sender = new_sender("drill-restart")
    ask(url, sender, EDUCATION)
    drop_connections(db_url)
    assert ask(url, sender, "tell me more") == expected
    events = events_by_sender(db_url, sender)[sender]
    assert user_texts(events) == [EDUCATION, "tell me more"], user_texts(events)
    assert not turn_structure_problems(events), turn_structure_problems(events)


@pytest.mark.prod
def test_redis_outage_is_reported_to_the_person_and_the_log_and_loses_nothing_silently(prod, own_redis, clinic_values):
    stack, db_url, settings = prod
    url = stack.cfg.rasa_url
    sender = new_sender("drill-redis")
    answered = []

    def turn(text):
        texts = ask(url, sender, text)
        if not is_failure_reply(texts):
            answered.append(text)
        return texts

    assert not is_failure_reply(turn("hi"))
    log_before = len(log_text(stack, "rasa server"))
    own_redis.stop()
    try:
        during_red_flag = turn(RED_FLAG)
        during_question = turn(EDUCATION)
    finally:
        own_redis.start()

    print(f"during the Redis outage: {during_red_flag} / {during_question}")
    assert is_failure_reply(during_red_flag) and is_failure_reply(during_question), (during_red_flag, during_question)
    assert clinic_values["emergency_number"] in during_red_flag[0]
    new_log = log_text(stack, "rasa server")[log_before:]
    assert "could not be processed" in new_log and f"connecting to 127.0.0.1:{own_redis.port}" in new_log, new_log[-3000:]

    after = turn(LATER_QUESTION)
    assert after == ask(url, new_sender("drill-redis-fresh"), LATER_QUESTION), after
    # Stored exactly what was answered: the turns the person was told had failed are not in the
    # record as if answered, and no answered turn is missing.
    events = wait_for(lambda: events_by_sender(db_url, sender).get(sender), timeout=10)
    assert user_texts(events) == answered == ["hi", LATER_QUESTION]
    assert not turn_structure_problems(events)
    assert not lock_keys(settings)
