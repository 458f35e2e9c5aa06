"""The action server is for the Rasa servers only (issue #14, item 1): it listens on loopback, and what a
forged request could put in the staff queue is checked again before it is stored."""
from __future__ import annotations

import pytest

from actions.callback import check_request


def listening_addresses(port: int):
    """Local addresses with a socket listening on `port` (IPv4 and IPv6), from /proc/net."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            address, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_the_action_server_listens_on_loopback_only(stack):
    addresses = listening_addresses(stack.cfg.action_port)
    assert addresses == {"0100007F"}, addresses  # 127.0.0.1, and no 0.0.0.0 / :: socket


@pytest.mark.parametrize("name, phone, when", [
    ("A" * 5000, "+14195550142", "mornings"),
    ("Robin", "call me maybe", "mornings"),
    ("Robin", "4195550142", "mornings"),  # not E.164
    ("Robin", "+14195550142", "x" * 5000),
    ("", "+14195550142", "mornings"),
    ("I can't feel my legs", "+14195550142", "mornings"),  # no name the form would accept
])
def test_a_request_the_form_could_not_have_produced_is_refused(name, phone, when):
    with pytest.raises(ValueError):
        check_request(name, phone, when)


def test_a_request_the_form_produces_passes():
    check_request("Mary O'Neil", "+14195550142", "weekday mornings")
