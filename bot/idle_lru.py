"""Per-conversation objects kept in memory for a while: bounded in number and in idle time.

Used for the trackers kept between turns (bot/store/tracker_cache.py) and the dialogue states kept
between predictions (bot/policies/conversation_states.py). The least recently kept entries beyond
`max_entries` and any entry idle longer than `ttl_s` are dropped when something new is kept, and an
entry idle too long is never handed out, so a purged conversation does not linger in memory.
Not thread-safe: callers that share one across threads hold their own lock.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from typing import Generic, Hashable, Optional, Tuple, TypeVar

V = TypeVar("V")


class IdleLRU(Generic[V]):
    def __init__(self, max_entries: int, ttl_s: float) -> None:
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._entries: "OrderedDict[Hashable, Tuple[V, float]]" = OrderedDict()

    def put(self, key: Hashable, value: V) -> None:
        """Keep value under key (replacing any), then drop the oldest while over the limit or idle too long."""
        if self.max_entries <= 0:
            return
        now = time.monotonic()
        self._entries.pop(key, None)
        self._entries[key] = (value, now)
        while self._entries and (len(self._entries) > self.max_entries
                                 or now - next(iter(self._entries.values()))[1] > self.ttl_s):
            self._entries.popitem(last=False)

    def pop(self, key: Hashable) -> Optional[V]:
        """The value kept under key unless it was idle too long; removed either way."""
        entry = self._entries.pop(key, None)
        if entry is None or time.monotonic() - entry[1] > self.ttl_s:
            return None
        return entry[0]

    def discard(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)
