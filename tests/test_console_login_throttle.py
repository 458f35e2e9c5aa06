"""Sign-in throttling by client address (issue #14 item 7): one machine guessing is paused, per name after
five failures and altogether after thirty, without locking the account for everyone else."""
from __future__ import annotations

import pytest
from requests.adapters import HTTPAdapter

from bot.store.conversations import prepare_database
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
        assert throttle.allowed("10.0.0.1", "Maria")
        throttle.failed("10.0.0.1", "Maria")
    assert not throttle.allowed("10.0.0.1", "maria")  # names are case-insensitive
    assert throttle.allowed("10.0.0.2", "maria")  # another machine
    assert throttle.allowed("10.0.0.1", "ahmed")  # another name from the same machine
    clock.now += WINDOW_SECONDS + 1
    assert throttle.allowed("10.0.0.1", "maria")


def test_thirty_failures_pause_the_address_for_every_name():
    throttle = LoginThrottle(clock=Clock())
    for i in range(PER_ADDRESS):
        assert throttle.allowed("10.0.0.1", f"name{i}")
        throttle.failed("10.0.0.1", f"name{i}")
    assert not throttle.allowed("10.0.0.1", "somebody-else")
    assert throttle.allowed("10.0.0.9", "somebody-else")


def test_a_success_or_an_unlock_clears_the_name_from_every_address():
    throttle = LoginThrottle(clock=Clock())
    for address in ("10.0.0.1", "10.0.0.2"):
        for _ in range(PER_NAME_AND_ADDRESS):
            throttle.failed(address, "maria")
    throttle.clear_name("MARIA")
    assert throttle.allowed("10.0.0.1", "maria") and throttle.allowed("10.0.0.2", "maria")


def test_expired_counts_are_dropped_so_memory_stays_bounded():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for i in range(50):
        throttle.failed(f"10.0.{i}.1", "x")
    clock.now += WINDOW_SECONDS + 1
    for i in range(50):
        throttle.allowed(f"10.0.{i}.1", "x")
    assert not throttle._by_pair and not throttle._by_address


def test_the_limit_per_address_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CONSOLE_LOGIN_LIMIT_PER_ADDRESS", "7")
    assert LoginThrottle.from_env().per_address == 7
    monkeypatch.setenv("CONSOLE_LOGIN_LIMIT_PER_ADDRESS", "lots")
    assert LoginThrottle.from_env().per_address == PER_ADDRESS


class FromAddress(HTTPAdapter):
    """Connects from another loopback address (127.0.0.2), as a second machine would."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


@pytest.fixture(scope="module")
def default_console(tmp_path_factory):
    """A console with the shipped limits (the shared test console raises the per-address one)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('throttle-db') / 'console.db'}"
    prepare_database(url)
    stack = start_console(url, tmp_path_factory)
    yield url, stack.cfg.console_url
    stack.stop()


def test_a_guessing_machine_is_paused_and_the_account_still_works_from_another(default_console):
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

    colleague = ConsoleClient(console_url)
    colleague.http.mount("http://", FromAddress("127.0.0.2"))
    assert colleague.login(victim).status_code == 303
    assert [row.ip for row in audit_rows(db_url, "login.success", target=victim)] == ["127.0.0.2"]
