"""Sign-in throttling by client address, in the console process.

The account lock-out alone let anyone keep any account (admins too) locked with five posts every
fifteen minutes. Failures are therefore counted per (address, username) and per address first:
a guesser is stopped long before the account-wide lock (bot.store.staff.MAX_FAILED_LOGINS), which
remains only against guessing spread over many addresses. A throttled attempt is refused without
hashing, so it costs the server nothing. Counts live in memory: a restart forgets them, which is
no worse than the fifteen minutes they last.
"""
from __future__ import annotations

import ipaddress
import os
import threading
import time
from collections import defaultdict, deque
from typing import Callable, Deque, Dict, Tuple

WINDOW_SECONDS = 15 * 60
PER_NAME_AND_ADDRESS = 5
PER_ADDRESS = 30
# All console tests come from 127.0.0.1; their console raises the per-address limit (tests/console_support.py).
SWEEP_ABOVE = 10_000  # keys; past that, expired ones are dropped before another is added
PER_ADDRESS_ENV = "CONSOLE_LOGIN_LIMIT_PER_ADDRESS"


LOOPBACK = "loopback"


def _same_machine(address: str) -> str:
    """Every loopback address is this machine: 127.0.0.2, .3, ... once made 50 "addresses" for one guesser."""
    try:
        return LOOPBACK if ipaddress.ip_address(address).is_loopback else address
    except ValueError:
        return address


class LoginThrottle:
    """Sliding-window attempt counts: `begin` before checking a password, `succeeded` after a right one."""

    def __init__(self, per_name_and_address: int = PER_NAME_AND_ADDRESS, per_address: int = PER_ADDRESS,
                 window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_name_and_address = per_name_and_address
        self.per_address = per_address
        self.window = window
        self.clock = clock
        self._lock = threading.Lock()
        self._by_pair: Dict[Tuple[str, str], Deque[float]] = defaultdict(deque)
        self._by_address: Dict[str, Deque[float]] = defaultdict(deque)

    @classmethod
    def from_env(cls) -> "LoginThrottle":
        raw = os.environ.get(PER_ADDRESS_ENV, "").strip()
        return cls(per_address=int(raw)) if raw.isdigit() and int(raw) > 0 else cls()

    def begin(self, address: str, username: str) -> bool:
        """May this attempt go on to the password check? If so it counts at once, as a failure until it
        succeeds: counting only after the hash let 100 parallel guesses through a limit of 5."""
        address = _same_machine(address)
        with self._lock:
            now = self.clock()
            pair = self._recent(self._by_pair, (address, username.lower()), now)
            by_address = self._recent(self._by_address, address, now)
            # every client of a console on this machine (or behind a proxy) is "loopback": a limit for all
            # of them would let one local process keep every colleague out, so there only the name counts
            if len(pair) >= self.per_name_and_address or (address != LOOPBACK and len(by_address) >= self.per_address):
                return False
            if len(self._by_pair) > SWEEP_ABOVE:
                self._sweep(now)
            self._by_pair[(address, username.lower())].append(now)
            self._by_address[address].append(now)
            return True

    def succeeded(self, address: str, username: str) -> None:
        """The password was right: the attempt was no failure, and the name's counts go."""
        address = _same_machine(address)
        with self._lock:
            times = self._by_address.get(address)
            if times:
                times.pop()
            self._clear(username)

    def clear_name(self, username: str) -> None:
        """An admin's unlock: that name's counts go, from every address."""
        with self._lock:
            self._clear(username)

    def _clear(self, username: str) -> None:
        for key in [k for k in self._by_pair if k[1] == username.lower()]:
            del self._by_pair[key]

    def _sweep(self, now: float) -> None:
        for table in (self._by_pair, self._by_address):
            for key in list(table):
                self._recent(table, key, now)

    def _recent(self, table: Dict, key, now: float) -> Deque[float]:
        times = table.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del table[key]  # a table of every address ever seen would grow without bound
        return times
