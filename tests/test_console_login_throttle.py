"""Sign-in throttling by client address (issue #14 item 7): one machine guessing is paused, per name after
five failures and altogether after thirty, without locking the account for everyone else."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.store import staff
from bot.store.conversations import prepare_database
from bot.store.db import session_scope
from bot.web.console import LOGIN_REFUSED
from bot.web.login_throttle import PER_ADDRESS, PER_NAME_AND_ADDRESS, WINDOW_SECONDS, LoginThrottle
from console_support import ConsoleClient, add_user, audit_rows, start_console


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_pause_one_name_from_one_address_for_the_window():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(PER_NAME_AND_ADDRESS):
        assert throttle.begin("10.0.0.1", "Maria")  # each attempt counts until it succeeds
    assert not throttle.begin("10.0.0.1", "maria")  # names are case-insensitive
    assert throttle.begin("10.0.0.2", "maria")  # another machine
    assert throttle.begin("10.0.0.1", "ahmed")  # another name from the same machine
    clock.now += WINDOW_SECONDS + 1
    assert throttle.begin("10.0.0.1", "maria")


def test_thirty_failures_pause_the_address_for_every_name():
    throttle = LoginThrottle(clock=Clock())
    for i in range(PER_ADDRESS):
        assert throttle.begin("10.0.0.1", f"name{i}")
    assert not throttle.begin("10.0.0.1", "somebody-else")
    assert throttle.begin("10.0.0.9", "somebody-else")


def test_a_success_is_no_failure_and_clears_the_name_from_every_address():
    throttle = LoginThrottle(clock=Clock())
    for address in ("10.0.0.1", "10.0.0.2"):
        for _ in range(PER_NAME_AND_ADDRESS):
            throttle.begin(address, "maria")
    throttle.succeeded("10.0.0.1", "MARIA")
    assert throttle.begin("10.0.0.1", "maria") and throttle.begin("10.0.0.2", "maria")
    office = LoginThrottle(clock=Clock())  # a whole office behind one address signs in all day
    for i in range(PER_ADDRESS * 3):
        assert office.begin("10.0.0.5", f"nurse{i}")
        office.succeeded("10.0.0.5", f"nurse{i}")


def test_an_unlock_clears_the_name():
    throttle = LoginThrottle(clock=Clock())
    for _ in range(PER_NAME_AND_ADDRESS):
        throttle.begin("10.0.0.1", "maria")
    throttle.clear_name("maria")
    assert throttle.begin("10.0.0.1", "maria")


def test_every_loopback_address_is_one_machine():
    """127.0.0.2, .3, ... once let one local guesser be fifty addresses."""
    throttle = LoginThrottle(clock=Clock())
    for i in range(PER_NAME_AND_ADDRESS):
        assert throttle.begin(f"127.0.0.{i + 2}", "maria")
    assert not throttle.begin("127.0.5.9", "maria") and not throttle.begin("::1", "maria")


def test_on_this_machine_only_the_name_counts():
    """A console on loopback sees every client as one: thirty wrong posts must not keep all staff out."""
    throttle = LoginThrottle(clock=Clock())
    for i in range(PER_ADDRESS * 2):
        assert throttle.begin("127.0.0.1", f"name{i}")
    for _ in range(PER_NAME_AND_ADDRESS):
        throttle.begin("127.0.0.1", "maria")
    assert not throttle.begin("127.0.0.1", "maria") and throttle.begin("127.0.0.1", "ahmed")


def test_parallel_attempts_cannot_pass_the_limit():
    """Counted before the hash: 100 guesses at once from one address once had 44 checked against 5."""
    throttle = LoginThrottle(clock=Clock())
    with ThreadPoolExecutor(max_workers=20) as pool:
        passed = sum(pool.map(lambda _: throttle.begin("10.0.0.1", "maria"), range(100)))
    assert passed == PER_NAME_AND_ADDRESS


def test_expired_counts_are_dropped_so_memory_stays_bounded():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for i in range(50):
        throttle.begin(f"10.0.{i}.1", "x")
    clock.now += WINDOW_SECONDS + 1
    for i in range(50):
        throttle._recent(throttle._by_pair, (f"10.0.{i}.1", "x"), clock.now)
        throttle._recent(throttle._by_address, f"10.0.{i}.1", clock.now)
    assert not throttle._by_pair and not throttle._by_address


def test_the_limit_per_address_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CONSOLE_LOGIN_LIMIT_PER_ADDRESS", "7")
    assert LoginThrottle.from_env().per_address == 7
    monkeypatch.setenv("CONSOLE_LOGIN_LIMIT_PER_ADDRESS", "lots")
    assert LoginThrottle.from_env().per_address == PER_ADDRESS


@pytest.fixture(scope="module")
def default_console(tmp_path_factory):
    """A console with the shipped limits (the shared test console raises the per-address one)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('throttle-db') / 'console.db'}"
    prepare_database(url)
    stack = start_console(url, tmp_path_factory)
    yield url, stack.cfg.console_url
    stack.stop()


@pytest.mark.stack  # the console's own process
def test_a_guessing_machine_is_paused_until_an_admin_unlocks_the_name(default_console):
    db_url, console_url = default_console
    victim = add_user(db_url, "admin")
    guesser = ConsoleClient(console_url)
    for i in range(PER_ADDRESS):
        name = victim if i < PER_NAME_AND_ADDRESS else f"guess-{i}"
        response = guesser.login(name, "a wrong guess entirely")
        assert response.status_code == 401 and LOGIN_REFUSED in response.text
    response = guesser.login(victim)  # even the right password: this machine is paused
    assert response.status_code == 401 and LOGIN_REFUSED in response.text
    assert len(audit_rows(db_url, "login.throttled", target=victim)) == 1
    with session_scope(db_url) as s:
        assert staff.find_user(s, victim).failed_logins == PER_NAME_AND_ADDRESS  # the account itself is not locked


@pytest.mark.stack  # the console's own process
def test_parallel_wrong_passwords_are_all_counted(default_console):
    """200 parallel guesses once left failed_logins at 24: the account-wide lock never came."""
    db_url, _ = default_console
    name = add_user(db_url)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: _wrong_password(db_url, name), range(staff.MAX_FAILED_LOGINS)))
    with session_scope(db_url) as s:
        user = staff.find_user(s, name)
        assert staff.is_locked(user) and user.failed_logins == 0  # locked, and the count starts again


def _wrong_password(db_url, name):
    with session_scope(db_url) as s:
        return staff.authenticate(s, name, "a wrong guess entirely").outcome
