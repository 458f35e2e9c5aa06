"""One clinic file drives every reply: swapping it changes the replies; breaking it stops start-up."""
import subprocess
import sys
from datetime import datetime, timezone

import pytest
import requests
import sqlalchemy as sa

from bot import clinic
from bot.paths import ROOT
from bot.stack import Stack, StackConfig, free_port

TEST_CLINIC = ROOT / "tests" / "data" / "handoff" / "test_clinic.yml"


@pytest.fixture(scope="module")
def test_clinic_stack(model_path, tmp_path_factory):
    """Rasa + action server started with CLINIC_FILE pointing at the test clinic (no web page, no console)."""
    cfg = StackConfig(
        model=model_path,
        database_url=f"sqlite:///{tmp_path_factory.mktemp('clinic_swap') / 'rasa.db'}",
        rasa_port=free_port(),
        action_port=free_port(),
        log_dir=tmp_path_factory.mktemp("clinic_swap_logs"),
        clinic_file=TEST_CLINIC,
        with_web=False,
        with_console=False,
    )
    with Stack(cfg) as running:
        yield running


def _say(stack, sender, text):
    r = requests.post(f"{stack.cfg.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    assert r.status_code == 200
    return "\n".join(m.get("text", "") for m in r.json())


def test_the_test_clinic_really_differs_from_the_default():
    default, test = clinic.load(ROOT / "clinic.yml").template_values(), clinic.load(TEST_CLINIC).template_values()
    for key in ("clinic_name", "clinic_address", "clinic_phone", "clinic_email", "clinic_hours"):
        assert default[key] != test[key], key


@pytest.mark.parametrize(
    "text,keys",
    [
        ("what's your phone number", ["clinic_name", "clinic_phone", "clinic_email", "clinic_hours"]),
        ("where is the office", ["clinic_name", "clinic_address", "clinic_phone", "clinic_email"]),
        ("I need a refill on my prescription", ["clinic_phone", "clinic_email", "clinic_hours"]),
        ("hello", ["clinic_name"]),
    ],
)
def test_swapping_the_clinic_file_changes_the_replies(test_clinic_stack, text, keys):
    test_values = clinic.load(TEST_CLINIC).template_values()
    default_values = clinic.load(ROOT / "clinic.yml").template_values()
    reply = _say(test_clinic_stack, f"swap-{abs(hash(text))}", text)
    for key in keys:
        assert test_values[key] in reply, (key, reply)
        assert default_values[key] not in reply, (key, reply)


def test_the_callback_confirmation_uses_the_test_clinic_hours(test_clinic_stack):
    test_clinic = clinic.load(TEST_CLINIC)
    sender = "swap-callback"
    before = datetime.now(timezone.utc)
    for answer in ["call me back please", "Alex", "(614) 555-0123", "noon", "yes"]:
        reply = _say(test_clinic_stack, sender, answer)
    after = datetime.now(timezone.utc)
    assert test_clinic.name in reply and test_clinic.phone in reply
    expected = set()
    for now in (before, after):  # the clock may cross an opening time between the two
        expected.add("open now" if test_clinic.is_open(now) else f"opens again {test_clinic.next_opening_text(now)}")
    assert any(e in reply for e in expected), (expected, reply)
    with sa.create_engine(test_clinic_stack.cfg.database_url).connect() as c:
        stored = c.execute(sa.text("SELECT name, phone_e164 FROM callback_requests WHERE sender_id = :s"), {"s": sender}).fetchall()
    assert stored == [("Alex", "+16145550123")]


BROKEN = {
    "phone": ("phone: \"(614) 555-0199\"\n", "phone: \"555-01\"\n"),
    "email": ("email: \"frontdesk@riverside-test.example\"\n", "email: \"frontdesk\"\n"),
    "name": ("name: \"Riverside Test Spine Center\"\n", ""),
}


def _broken_clinic_file(tmp_path, field):
    old, new = BROKEN[field]
    text = TEST_CLINIC.read_text()
    assert old in text
    path = tmp_path / f"broken_{field}.yml"
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize("field", ["phone", "name"])
def test_the_rasa_server_refuses_to_start_with_a_broken_clinic_file_and_names_the_field(model_path, tmp_path, field):
    cfg = StackConfig(
        model=model_path,
        database_url=f"sqlite:///{tmp_path / 'rasa.db'}",
        rasa_port=free_port(),
        action_port=free_port(),
        log_dir=tmp_path / "logs",
        clinic_file=_broken_clinic_file(tmp_path, field),
        with_web=False,
        with_console=False,
    )
    stack = Stack(cfg)
    stack.services = [s for s in stack.services if s.name == "rasa server"]
    with pytest.raises(RuntimeError) as raised:
        stack.start(timeout=120)
    assert "rasa server exited" in str(raised.value)
    assert "ClinicConfigError" in str(raised.value) and f"field '{field}'" in str(raised.value)


@pytest.mark.stack  # runs `bot serve`
def test_bot_serve_refuses_to_start_with_a_broken_clinic_file_and_names_the_field(tmp_path):
    env = {"CLINIC_FILE": str(_broken_clinic_file(tmp_path, "email")), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--rasa-port", str(free_port())],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "cannot start" in result.stderr and "field 'email'" in result.stderr
