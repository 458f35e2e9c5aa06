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


@pytest.mark.parametrize("typed_name, typed_phone", [
    ("call me ask for Bob", "419 555 0142"),
    ("it's MARY-JANE o'neil.", "(419) 555-0142"),
    ("Dr. Ana María López", "٤١٩٥٥٥٠١٤٢"),  # Arabic-Indic digits
])
def test_whatever_the_form_accepts_is_stored(typed_name, typed_phone):
    """The form and the database check once disagreed (a name that cleans differently twice, digits of
    another script): the request was lost after the person had confirmed it."""
    from actions.callback import clean_name
    from bot.phone import parse_us_phone

    name, phone = clean_name(typed_name), parse_us_phone(typed_phone)
    assert name and phone.ok and phone.e164 == "+14195550142"
    check_request(name, phone.e164, "mornings")


FORGED_CALL = {
    "next_action": "action_submit_callback",
    "sender_id": "forged",
    "version": "3.6.2",
    "domain": {},
    "tracker": {"sender_id": "forged", "slots": {"callback_name": "A" * 50, "callback_phone": "+14195550142",
                                                 "callback_time": "mornings", "callback_consent": True},
                "latest_message": {}, "events": [], "paused": False, "latest_event_time": None,
                "followup_action": None, "active_loop": {}, "latest_action_name": None},
}


@pytest.mark.parametrize("headers", [{}, {"X-Action-Secret": "guess"}, {"X-Action-Secret": ""}])
def test_an_action_call_without_the_shared_secret_is_refused_and_runs_nothing(stack, headers):
    import requests

    for path, method in (("/webhook", "post"), ("/actions", "get")):
        reply = requests.request(method, f"{stack.cfg.action_url}{path}", json=FORGED_CALL, headers=headers, timeout=30)
        assert (reply.status_code, reply.json()) == (401, {"error": "not allowed"})


def test_the_rasa_servers_call_with_the_secret_and_health_stays_open(stack):
    import requests

    assert requests.get(f"{stack.cfg.action_url}/health", timeout=30).json() == {"status": "ok"}
    names = requests.get(f"{stack.cfg.action_url}/actions", headers=stack.cfg.action_headers, timeout=30).json()
    assert {"name": "action_submit_callback"} in names
    wrong_method = requests.post(f"{stack.cfg.action_url}/health", headers=stack.cfg.action_headers, timeout=30)
    assert (wrong_method.status_code, wrong_method.json()) == (405, {"error": "not allowed"})  # was a 500


def test_a_failing_action_call_does_not_send_the_conversation_back(stack):
    import requests

    broken = {**FORGED_CALL, "tracker": "my neighbour's HIV status", "domain": 3}  # rasa_sdk echoed this back
    reply = requests.post(f"{stack.cfg.action_url}/webhook", json=broken, headers=stack.cfg.action_headers, timeout=30)
    assert (reply.status_code, reply.json()) == (500, {"error": "the action failed"})


@pytest.mark.stack  # starts the action server's process
def test_the_action_server_will_not_start_without_a_secret():
    import subprocess
    import sys

    from bot.paths import ROOT

    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": "/tmp"}
    result = subprocess.run([sys.executable, "-m", "bot.action_server", "--port", "1"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "ACTION_SERVER_SECRET is not set" in result.stderr
