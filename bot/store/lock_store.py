"""Redis lock store whose ticket operations are atomic across Rasa servers.

Rasa 3.6's RedisLockStore issues and returns tickets with a plain get -> change -> set on one Redis
key. Two servers handling the same conversation at the same instant can interleave those steps:
both get ticket 0, both process at once, and one turn is lost from the tracker (seen in the
two-server concurrency test). Here every change to a lock is one Redis transaction (WATCH/MULTI/EXEC,
retried on conflict), so tickets are unique and servers take turns.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore


class AtomicRedisLockStore(RedisLockStore):
    """endpoints: `lock_store: {type: bot.store.lock_store.AtomicRedisLockStore, url: host, port: ...}`."""

    def __init__(self, endpoint_config=None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def _atomically(self, conversation_id: Text, change: Callable[[TicketLock], Any], create: bool) -> Any:
        """Apply `change` to the stored lock inside one transaction; store it back, or delete it
        when nobody holds or waits for a ticket any more."""
        key = self.key_prefix + conversation_id

        def transaction(pipe) -> Any:
            raw = pipe.get(key)
            if raw is None and not create:
                pipe.multi()
                return None
            lock = TicketLock.from_dict(json.loads(raw)) if raw else TicketLock(conversation_id)
            result = change(lock)
            pipe.multi()
            if lock.is_someone_waiting():
                pipe.set(key, lock.dumps())
            else:
                pipe.delete(key)
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        return self._atomically(conversation_id, lambda lock: lock.issue_ticket(lock_lifetime), create=True)

    def update_lock(self, conversation_id: Text) -> None:
        self._atomically(conversation_id, lambda lock: lock.remove_expired_tickets(), create=False)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        self._atomically(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number), create=False)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        self.finish_serving(conversation_id, ticket_number)  # deletes the key when nobody waits
