"""Two Rasa servers behind one (imaginary) load balancer, sharing PostgreSQL and Redis.

200 conversations run at once; each conversation's turns go alternately to the two servers, as a
round-robin load balancer without sticky sessions would send them. Afterwards Rasa's `events` table
must hold every conversation complete and in order (nothing lost, nothing twice), and each red flag
must be in the staff's red-flag queue exactly once. A second phase sends two messages of the same
conversation to both servers at the same moment: the Redis lock must make them take turns.
"""
from __future__ import annotations

import importlib.util
import threading
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Tuple

import pytest

from scale_support import (delete_lock_keys, events_by_sender, fresh_postgres_database, is_failure_reply,
                           isolated_redis_settings, lock_keys, post, prod_stack, red_flag_rows, reply_texts,
                           turn_structure_problems, user_texts)

pytestmark = [pytest.mark.stack, pytest.mark.prod, pytest.mark.timeout(1800)]  # two Rasa servers on PostgreSQL + Redis

CONVERSATIONS = 200
PARALLEL = 20
DOUBLE_SEND_CONVERSATIONS = 20
RED_FLAG_EVERY = 5  # every fifth conversation reports an emergency symptom
RED_FLAG_MESSAGE = "I suddenly can't control my bladder"

# Ordinary patient turns (not red flags); each conversation takes a different mix.
OPENERS = ["hi", "hello there", "good morning", "hey"]
QUESTIONS = [
    "what is post laminectomy syndrome",
    "why does my back still hurt after surgery",
    "what is spinal cord stimulation",
    "how do I contact the clinic",
    "what are the treatments",
    "what causes failed back surgery syndrome",
]
CLOSERS = ["thanks", "thank you, bye", "ok thanks"]

RECORDER_PRESENT = importlib.util.find_spec("bot.store.red_flag_recorder") is not None


def script(n: int) -> List[str]:
    turns = [OPENERS[n % len(OPENERS)], QUESTIONS[n % len(QUESTIONS)]]
    turns.append(RED_FLAG_MESSAGE if n % RED_FLAG_EVERY == 0 else QUESTIONS[(n + 3) % len(QUESTIONS)])
    turns.append(CLOSERS[n % len(CLOSERS)])
    return turns


@pytest.fixture(scope="module")
def cluster(model_path, tmp_path_factory):
    settings = isolated_redis_settings()
    with fresh_postgres_database("test_scale") as url:
        stack = prod_stack(model_path, url, settings, tmp_path_factory.mktemp("scale-logs"), rasa_servers=2)
        with stack:
            yield stack, url, settings
        delete_lock_keys(settings)


def run_conversation(urls: List[str], sender: str, n: int) -> List[Tuple[str, int, List[str]]]:
    results = []
    for k, text in enumerate(script(n)):
        response = post(urls[(n + k) % len(urls)], sender, text)
        results.append((text, response.status_code, reply_texts(response) if response.status_code == 200 else []))
    return results


def test_200_conversations_across_two_servers_are_stored_complete_in_order_and_once(cluster):
    stack, url, settings = cluster
    urls = stack.cfg.rasa_urls
    assert len(urls) == 2
    prefix = f"scale-{uuid.uuid4().hex[:8]}-"
    senders = {n: f"{prefix}{n:03d}" for n in range(CONVERSATIONS)}

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        futures = {n: pool.submit(run_conversation, urls, senders[n], n) for n in range(CONVERSATIONS)}
        results = {n: f.result() for n, f in futures.items()}

    # What the people saw: every turn answered, none with the "technical problem" apology.
    unanswered = [(senders[n], text, status, texts) for n, turns in results.items()
                  for text, status, texts in turns if status != 200 or not texts or is_failure_reply(texts)]
    assert not unanswered, f"{len(unanswered)} turns not answered properly, e.g. {unanswered[:3]}"

    # What was stored: each conversation exactly as sent, in order, each turn closed before the next.
    stored = events_by_sender(url, prefix)
    assert sorted(stored) == sorted(senders.values()), "conversations missing from the events table"
    wrong = {s: (user_texts(stored[s]), script(n)) for n, s in senders.items() if user_texts(stored[s]) != script(n)}
    assert not wrong, f"{len(wrong)} conversations stored with lost, repeated or reordered turns: {list(wrong.items())[:2]}"
    malformed = {s: turn_structure_problems(stored[s]) for s in senders.values() if turn_structure_problems(stored[s])}
    assert not malformed, f"{len(malformed)} conversations stored malformed: {list(malformed.items())[:3]}"

    assert not lock_keys(settings), "conversation locks left behind in Redis"

    red_flag_senders = {senders[n] for n in range(CONVERSATIONS) if n % RED_FLAG_EVERY == 0}
    if not RECORDER_PRESENT:
        message = ("bot/store/red_flag_recorder.py is not present: the red-flag exactly-once check was NOT run "
                   f"({len(red_flag_senders)} conversations sent {RED_FLAG_MESSAGE!r})")
        print(message)
        warnings.warn(message, stacklevel=2)
        return
    rows = red_flag_rows(url, prefix)
    red_flag_message_ids = {
        s: next(e["message_id"] for e in stored[s] if e["type"] == "user" and e.get("text") == RED_FLAG_MESSAGE)
        for s in red_flag_senders
    }
    recorded: Dict[str, set] = {}
    for row in rows:
        recorded.setdefault(row["sender_id"], set()).add(row["message_id"])
    assert set(recorded) == red_flag_senders, (
        f"red flags recorded for the wrong conversations: missing {sorted(red_flag_senders - set(recorded))[:5]}, "
        f"unexpected {sorted(set(recorded) - red_flag_senders)[:5]}")
    for sender, message_ids in recorded.items():
        assert message_ids == {red_flag_message_ids[sender]}, (sender, message_ids)
    keys = [(r["sender_id"], r["message_id"], r["category"]) for r in rows]
    assert len(keys) == len(set(keys)), "a red flag was recorded more than once"
    assert {r["tier"] for r in rows} == {"EMERGENCY"}, rows[:3]


def test_two_messages_of_one_conversation_sent_to_both_servers_at_once_take_turns(cluster):
    stack, url, settings = cluster
    urls = stack.cfg.rasa_urls
    prefix = f"double-{uuid.uuid4().hex[:8]}-"
    pair = ("what is spinal cord stimulation", "how do I contact the clinic")

    def double_send(n: int) -> List[Tuple[int, List[str]]]:
        sender = f"{prefix}{n:02d}"
        replies = [reply_texts(post(urls[0], sender, "hi"))]
        start = threading.Barrier(2)
        out: Dict[int, List[str]] = {}

        def send(i: int) -> None:
            start.wait()
            out[i] = reply_texts(post(urls[i], sender, pair[i]))

        threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=180)
        replies += [out.get(0, []), out.get(1, [])]
        replies.append(reply_texts(post(urls[1], sender, "thanks")))
        return replies

    # One conversation at a time, so both servers are idle and really work on the pair together
    # (without a shared lock, about half of such pairs lose a turn).
    results = [double_send(n) for n in range(DOUBLE_SEND_CONVERSATIONS)]
    bad = [r for replies in results for r in replies if not r or is_failure_reply(r)]
    assert not bad, f"{len(bad)} turns not answered properly: {bad[:3]}"

    stored = events_by_sender(url, prefix)
    assert len(stored) == DOUBLE_SEND_CONVERSATIONS
    for sender, events in stored.items():
        texts = user_texts(events)
        assert texts[0] == "hi" and texts[-1] == "thanks" and sorted(texts[1:3]) == sorted(pair), (sender, texts)
        assert not turn_structure_problems(events), (sender, turn_structure_problems(events))
    assert not lock_keys(settings), "conversation locks left behind in Redis"
