"""The Redis lock store hands out unique tickets when several servers ask at the same instant."""
import threading
import uuid

import pytest
import redis

from bot.store.lock_store import AtomicRedisLockStore

pytestmark = pytest.mark.prod  # the local Redis server

REDIS = {"host": "127.0.0.1", "port": 6379, "db": 14}


def stores(n: int, prefix: str):
    """n stores = n Rasa servers, each with its own Redis connection."""
    return [AtomicRedisLockStore(key_prefix=prefix, **REDIS) for _ in range(n)]


def test_simultaneous_tickets_for_one_conversation_are_all_different():
    prefix = "t" + uuid.uuid4().hex[:10]
    servers = stores(8, prefix)
    conversation = "same-person"
    tickets, start = [], threading.Barrier(len(servers) * 5)

    def ask(store):
        start.wait()
        tickets.append(store.issue_ticket(conversation))

    threads = [threading.Thread(target=ask, args=(s,)) for s in servers for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(tickets) == 40
    assert len(set(tickets)) == 40, sorted(tickets)
    lock = servers[0].get_lock(conversation)
    assert lock is not None and lock.is_someone_waiting()
    for number in tickets:  # every server finishes: the lock disappears with the last ticket
        servers[number % len(servers)].cleanup(conversation, number)
    assert servers[0].get_lock(conversation) is None
    assert not redis.Redis(**REDIS).keys(prefix + "*")


def test_finishing_an_unknown_conversation_creates_nothing():
    prefix = "t" + uuid.uuid4().hex[:10]
    [store] = stores(1, prefix)
    store.cleanup("nobody", 0)
    store.update_lock("nobody")
    assert store.get_lock("nobody") is None
