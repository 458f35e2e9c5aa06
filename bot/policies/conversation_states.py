"""A conversation's dialogue states (Rasa's `tracker.past_states(domain)`), extended as it grows.

RulePolicy turns the whole conversation into a list of states before every prediction, two or
three times a turn: Rasa replays every event of the session into a fresh tracker and describes
it before each action. Between two predictions the conversation only grows at its end, so the
states computed last time are still right and only the new events need replaying. This keeps,
per conversation, the events seen, the replayed tracker and the states, and extends them when the
new events can only append to Rasa's result. Whenever the new events could change what came
before (a restart or new session, an undo, a form's own action or a new form, which make Rasa's
`applied_events` drop or rewrite earlier events), or the event list is not the one seen plus new
events, it computes the states from scratch exactly as Rasa does. The states handed out are
copies: RulePolicy edits the newest one (text or intent).

Kept in memory only, bounded in number and idle time (bot/idle_lru.py).
tests/test_dialogue_indexed_rules.py compares the states with Rasa's at every prediction.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.idle_lru import IdleLRU

HISTORY_REWRITING_EVENTS = (Restarted, SessionStarted, ActionReverted, UserUtteranceReverted)


@dataclass
class _Kept:
    events: Tuple[Event, ...]  # the event objects the states describe (held, so their ids stay unique)
    loop_names: frozenset  # names of the forms/loops among them (Rasa's applied_events depends on these)
    replayed: DialogueStateTracker  # a tracker with every applied event replayed
    states: List[State]  # Rasa's past_states for these events
    domain: Domain


def _loop_names(events) -> frozenset:
    return frozenset(e.name for e in events if isinstance(e, ActiveLoop) and e.name)


def _copy(states: List[State]) -> List[State]:
    """Sub-states are dicts of strings and tuples: copying two levels makes them independent."""
    return [{kind: dict(sub_state) for kind, sub_state in state.items()} for state in states]


def _describe(domain: Domain, tracker: DialogueStateTracker) -> State:
    """One state as Domain.states_for_tracker_history makes it (no rule-only turns hidden)."""
    return domain._clean_state(domain.get_active_state(tracker, omit_unset_slots=False))


class ConversationStates:
    def __init__(self, max_conversations: int = 500, ttl_s: float = 900.0) -> None:
        self._kept: IdleLRU[_Kept] = IdleLRU(max_conversations, ttl_s)
        self.extended = self.computed = 0  # how often each path ran (for tests and benchmarks)

    def past_states(self, tracker: DialogueStateTracker, domain: Domain) -> List[State]:
        """= tracker.past_states(domain), as fresh copies."""
        events = tuple(tracker.events)
        kept = self._kept.pop(tracker.sender_id)
        new_events = self._appended(kept, events, domain) if kept else None
        if kept is None or new_events is None:
            kept = self._compute(tracker, events, domain)
            self.computed += 1
        else:
            self._extend(kept, new_events, domain)
            kept.events = events
            self.extended += 1
        self._kept.put(tracker.sender_id, kept)
        return _copy(kept.states)

    @staticmethod
    def _appended(kept: _Kept, events: Tuple[Event, ...], domain: Domain) -> Optional[Tuple[Event, ...]]:
        """The new events, if Rasa's states for `events` are the kept states extended by them; else None."""
        seen = len(kept.events)
        if kept.domain is not domain or len(events) < seen:
            return None
        if any(a is not b for a, b in zip(kept.events, events)):
            return None
        new_events = events[seen:]
        for event in new_events:
            if isinstance(event, HISTORY_REWRITING_EVENTS):
                return None
            if isinstance(event, ActiveLoop) and event.name and event.name not in kept.loop_names:
                return None  # a new form: Rasa would read earlier runs of its action differently
            if isinstance(event, ActionExecuted) and event.action_name in kept.loop_names:
                return None  # a form's own action: Rasa may fold earlier form turns together
        return new_events

    @staticmethod
    def _compute(tracker: DialogueStateTracker, events: Tuple[Event, ...], domain: Domain) -> _Kept:
        """Domain.states_for_tracker_history over DialogueStateTracker.generate_all_prior_trackers."""
        replayed = tracker.init_copy()
        states = _replay(domain, replayed, tracker.applied_events(), [])
        return _Kept(events, _loop_names(events), replayed, states, domain)

    @staticmethod
    def _extend(kept: _Kept, new_events: Tuple[Event, ...], domain: Domain) -> None:
        # The last kept state described the end of the old events: the new ones continue from there.
        kept.states = _replay(domain, kept.replayed, new_events, kept.states[:-1])


def _replay(domain: Domain, replayed: DialogueStateTracker, events, states: List[State]) -> List[State]:
    """Applies events to `replayed`, adding the state before each action and, last, the state after all."""
    for event in events:
        if isinstance(event, ActionExecuted):
            states.append(_describe(domain, replayed))
        replayed.update(event)
    states.append(_describe(domain, replayed))
    return states
