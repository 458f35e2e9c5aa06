"""Keeps each conversation's tracker in memory between its turns, trusting it only while the database agrees.

Rebuilding a tracker from the database on every message (read every event of the session, parse
its JSON, replay it) was the largest single cost of a turn. After a turn is saved, the tracker
object is kept here together with what the database held for that conversation at that moment:
its number of events and highest event id. The next turn gets the kept object back only if one
cheap aggregate query still finds exactly that number and id, i.e. nobody else (another Rasa
server, a purge, a "forget this person") has written or deleted that conversation's events
since. Otherwise the tracker is rebuilt from the database as before.

A kept tracker may also hold the events from before its conversation's latest session started
(a rebuilt one starts at that session); Rasa ignores events before a SessionStarted when it
predicts (DialogueStateTracker.applied_events), so both lead to the same answers.

Ownership rules, so that a half-finished turn can never leak into the next one:
- `take` removes the entry: whoever retrieves a tracker owns and may change it;
- only a successful save puts it back (`keep`); the tracker itself carries what the save left
  (`mark_saved`: how many of its events are stored, and the database state), which also tells
  the next save which events are new without asking the database;
- a tracker whose events changed after its save (an unsaved change) no longer matches its
  mark and is not handed out.

Bounded in number and idle time by bot/idle_lru.py (a purged conversation does not linger in memory).
"""
from __future__ import annotations

import threading
from typing import Optional, Tuple

from rasa.shared.core.trackers import DialogueStateTracker

from bot.idle_lru import IdleLRU

DbState = Tuple[int, Optional[int]]  # (number of events, highest event id) of one conversation
_STORED = "_clinic_stored"  # on a tracker saved here: (its events the database holds, the database state after)


def mark_saved(tracker: DialogueStateTracker, db_state: DbState) -> None:
    """After a save: all of the tracker's events are stored, and the database was left in db_state."""
    tracker.__dict__[_STORED] = (len(tracker.events), db_state)


def take_saved_mark(tracker: DialogueStateTracker) -> Optional[Tuple[int, DbState]]:
    """(events stored, database state) from the tracker's last save here, removed so a failed save cannot reuse it."""
    return tracker.__dict__.pop(_STORED, None)


class TrackerCache:
    def __init__(self, max_entries: int = 2000, ttl_s: float = 900.0) -> None:
        self._entries: IdleLRU[DialogueStateTracker] = IdleLRU(max_entries, ttl_s)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def keep(self, tracker: DialogueStateTracker) -> None:
        """After a successful save (the tracker carries its `mark_saved`)."""
        with self._lock:
            self._entries.put(tracker.sender_id, tracker)

    def take(self, sender_id: str, db_state: DbState) -> Optional[DialogueStateTracker]:
        """The kept tracker if nothing changed it since its save and the database still matches; removed either way."""
        with self._lock:
            tracker = self._entries.pop(sender_id)
        if tracker is None or tracker.__dict__.get(_STORED) != (len(tracker.events), db_state):
            self.misses += 1
            return None
        self.hits += 1
        return tracker

    def forget(self, sender_id: str) -> None:
        with self._lock:
            self._entries.discard(sender_id)

    def __len__(self) -> int:
        return len(self._entries)
