"""SMS, WhatsApp (Twilio) and Telegram end to end: real inbound payloads posted to the running Rasa
server, replies captured where the provider's API would receive them (a fake provider on 127.0.0.1).
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List
from urllib.parse import parse_qs, quote

import pytest
import requests
import yaml
from twilio.request_validator import RequestValidator

from bot.paths import ROOT
from bot.stack import Stack, StackConfig, free_port

TWILIO_SID = "AC" + "1f" * 16
TWILIO_TOKEN = "test-twilio-auth-token"
CLINIC_SMS_NUMBER = "+15005550006"
CLINIC_WHATSAPP = "whatsapp:+14155238886"
TELEGRAM_TOKEN = "123456789:TEST-token"
TELEGRAM_SECRET = "test-secret-Token_1"
API_TOKEN = "test-api-token"
SMS_LIMIT = 1600
pytestmark = pytest.mark.stack  # its own Rasa server beside a fake provider

MARKUP = ("**", "__", "](", "<b>", "<br", "</", "&amp;", "&nbsp;")


class FakeProvider:
    """Twilio's and Telegram's APIs as far as the connectors use them: records every request."""

    def __init__(self) -> None:
        self.calls: List[Dict[str, Any]] = []
        self.fail_next = 0
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    body = json.loads(raw or "{}")
                else:
                    body = {k: v[0] for k, v in parse_qs(raw).items()}
                with provider.lock:
                    failing = provider.fail_next > 0
                    provider.fail_next -= 1 if failing else 0
                    provider.calls.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization"),
                                           "status": 500 if failing else 200})
                if failing:
                    self.send_response(500)
                    self.end_headers()
                    return
                reply = {"sid": "SM" + uuid.uuid4().hex} if "/Messages.json" in self.path else {"ok": True, "result": True}
                data = json.dumps(reply).encode()
                self.send_response(201 if "/Messages.json" in self.path else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def delivered(self, predicate: Callable[[Dict[str, Any]], bool]) -> List[Dict[str, Any]]:
        with self.lock:
            return [c for c in self.calls if c["status"] == 200 and predicate(c)]

    def sms_to(self, number: str) -> List[str]:
        return [c["body"]["Body"] for c in self.delivered(lambda c: c["path"].endswith("/Messages.json") and c["body"].get("To") == number)]

    def telegram(self, method: str, chat_id: int) -> List[Dict[str, Any]]:
        return [c["body"] for c in self.delivered(lambda c: c["path"].endswith("/" + method) and c["body"].get("chat_id") == chat_id)]

    def wait_for(self, fetch: Callable[[], list], count: int = 1, timeout: float = 10) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = fetch()
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return fetch()


@pytest.fixture(scope="module")
def provider():
    fake = FakeProvider()
    fake.thread.start()
    yield fake
    fake.server.shutdown()


@pytest.fixture(scope="module")
def messaging(model_path, provider, tmp_path_factory):
    """The Rasa server with the Twilio and Telegram channels switched on by environment variables."""
    cfg = StackConfig(
        model=model_path,
        database_url=f"sqlite:///{tmp_path_factory.mktemp('msg-db') / 'rasa.db'}",
        rasa_port=free_port(), action_port=free_port(),
        log_dir=tmp_path_factory.mktemp("msg-logs"),
        api_token=API_TOKEN, with_web=False, with_console=False,
        extra_env={
            "TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "TWILIO_API_BASE": provider.url,
            "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
            "TELEGRAM_API_BASE": provider.url,
        },
    )
    with Stack(cfg) as running:
        yield running


@pytest.fixture(scope="module")
def greet_buttons() -> List[Dict[str, str]]:
    """The options the greeting offers, as written in domain.yml."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    buttons = domain["responses"]["utter_greet"][0].get("buttons") or []
    assert len(buttons) >= 2, "these tests need a greeting that offers options"
    return buttons


def new_phone() -> str:
    return "+1555" + str(uuid.uuid4().int)[:7]


def post_sms(stack, sender: str, body: str, to: str = CLINIC_SMS_NUMBER, sign_with: str = TWILIO_TOKEN, **extra) -> requests.Response:
    """POST the form Twilio sends for an incoming message, signed as Twilio signs it."""
    url = f"{stack.cfg.rasa_url}/webhooks/twilio/webhook"
    form = {
        "ToCountry": "US", "SmsMessageSid": "SM" + uuid.uuid4().hex, "NumMedia": "0", "ToCity": "", "FromZip": "",
        "SmsSid": "SM" + uuid.uuid4().hex, "FromState": "OH", "SmsStatus": "received", "FromCity": "FINDLAY",
        "Body": body, "FromCountry": "US", "To": to, "ToZip": "", "NumSegments": "1",
        "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": TWILIO_SID, "From": sender, "ApiVersion": "2010-04-01",
        **extra,
    }
    signature = RequestValidator(sign_with).compute_signature(url, form)
    return requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=60)


def sms_turn(stack, provider, sender: str, body: str, **kw) -> List[str]:
    before = len(provider.sms_to(sender))
    r = post_sms(stack, sender, body, **kw)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/xml")
    return provider.sms_to(sender)[before:]


def last_user_text(stack, sender: str) -> str:
    r = requests.get(f"{stack.cfg.rasa_url}/conversations/{quote(sender, safe='+:')}/tracker",
                     params={"token": API_TOKEN}, timeout=30)
    r.raise_for_status()
    return [e for e in r.json()["events"] if e["event"] == "user"][-1]["text"]


def is_emergency_instruction(text: str, clinic_values: Dict[str, str]) -> bool:
    """Tells the person to go to the emergency room / call the emergency number (not a maybe-clause)."""
    text = text.lower()
    return "emergency room" in text and clinic_values["emergency_number"] in text and "if this is an emergency" not in text


# --- Twilio SMS -------------------------------------------------------------------------------


def test_sms_reply_is_plain_text_with_numbered_options(messaging, provider, greet_buttons, clinic_values):
    sender = new_phone()
    bodies = sms_turn(messaging, provider, sender, "hi")
    assert bodies, "no SMS was sent back"
    text = "\n".join(bodies)
    assert clinic_values["clinic_name"] in text
    for number, button in enumerate(greet_buttons, start=1):
        assert f"Reply {number} for {button['title']}" in text
    for body in bodies:
        assert len(body) <= SMS_LIMIT
        assert not any(m in body for m in MARKUP), body
    sent = provider.delivered(lambda c: c["body"].get("To") == sender)
    assert all(c["body"]["From"] == CLINIC_SMS_NUMBER for c in sent)
    assert all(c["auth"].startswith("Basic ") for c in sent)
    assert all(f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json" == c["path"] for c in sent)


@pytest.mark.parametrize("reply", ["2", " 2. ", "#2", "option 2"])
def test_a_numeric_sms_reply_picks_that_option(messaging, provider, greet_buttons, reply):
    sender = new_phone()
    sms_turn(messaging, provider, sender, "hello")
    answer = sms_turn(messaging, provider, sender, reply)
    assert answer, "the choice got no answer"
    assert last_user_text(messaging, sender) == greet_buttons[1]["payload"]


def test_a_number_without_options_on_offer_is_just_text(messaging, provider):
    sender = new_phone()
    sms_turn(messaging, provider, sender, "thanks")
    assert sms_turn(messaging, provider, sender, "7")
    assert last_user_text(messaging, sender) == "7"


def test_typed_intent_syntax_is_not_obeyed(messaging, provider):
    sender = new_phone()
    assert sms_turn(messaging, provider, sender, "/greet")
    assert last_user_text(messaging, sender) == "greet"


def test_bad_or_missing_signature_is_refused_and_nothing_is_sent(messaging, provider):
    sender = new_phone()
    forged = post_sms(messaging, sender, "hi", sign_with="not-the-token")
    assert forged.status_code == 403
    unsigned = requests.post(f"{messaging.cfg.rasa_url}/webhooks/twilio/webhook",
                             data={"From": sender, "To": CLINIC_SMS_NUMBER, "Body": "hi"}, timeout=30)
    assert unsigned.status_code == 403
    time.sleep(0.5)
    assert provider.sms_to(sender) == []


def test_red_flag_over_sms_gets_the_emergency_instruction_first(messaging, provider, clinic_values):
    sender = new_phone()
    sms_turn(messaging, provider, sender, "hi")
    bodies = sms_turn(messaging, provider, sender, "I suddenly can't control my bladder")
    assert bodies, "no reply to a red flag"
    assert is_emergency_instruction(bodies[0], clinic_values), bodies


def test_picture_message_without_text_gets_a_clear_answer(messaging, provider, clinic_values):
    sender = new_phone()
    bodies = sms_turn(messaging, provider, sender, "", NumMedia="1",
                      MediaUrl0="https://example.invalid/photo.jpg", MediaContentType0="image/jpeg")
    assert len(bodies) == 1
    assert "text" in bodies[0].lower() and clinic_values["emergency_number"] in bodies[0]


def test_sms_opt_out_keyword_is_left_to_twilio(messaging, provider):
    sender = new_phone()
    assert sms_turn(messaging, provider, sender, "STOP") == []


def test_whatsapp_replies_come_from_the_whatsapp_number(messaging, provider, clinic_values):
    sender = "whatsapp:" + new_phone()
    bodies = sms_turn(messaging, provider, sender, "what can you do?", to=CLINIC_WHATSAPP)
    assert bodies and clinic_values["emergency_number"] in "\n".join(bodies)
    sent = provider.delivered(lambda c: c["body"].get("To") == sender)
    assert sent and all(c["body"]["From"] == CLINIC_WHATSAPP for c in sent)


def test_a_provider_hiccup_is_retried(messaging, provider):
    sender = new_phone()
    provider.fail_next = 1
    bodies = sms_turn(messaging, provider, sender, "hi")
    assert bodies, "the reply was lost after one failed delivery"
    failed = [c for c in provider.calls if c["status"] == 500]
    assert failed and failed[-1]["body"]["To"] == sender


# --- Telegram ---------------------------------------------------------------------------------


def telegram_update(chat_id: int, text: str = None, **message_fields) -> Dict[str, Any]:
    message = {
        "message_id": int(time.time() * 1000) % 10**6,
        "from": {"id": chat_id, "is_bot": False, "first_name": "Pat", "language_code": "en"},
        "chat": {"id": chat_id, "first_name": "Pat", "type": "private"},
        "date": int(time.time()),
        **message_fields,
    }
    if text is not None:
        message["text"] = text
    return {"update_id": int(time.time() * 1000) % 10**9, "message": message}


def post_telegram(stack, update: Dict[str, Any], secret: str = TELEGRAM_SECRET) -> requests.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return requests.post(f"{stack.cfg.rasa_url}/webhooks/telegram/webhook", json=update, headers=headers, timeout=60)


def telegram_turn(stack, provider, chat_id: int, update: Dict[str, Any]) -> List[Dict[str, Any]]:
    before = len(provider.telegram("sendMessage", chat_id))
    r = post_telegram(stack, update)
    assert r.status_code == 200, r.text
    return provider.telegram("sendMessage", chat_id)[before:]


def new_chat() -> int:
    return 10**8 + uuid.uuid4().int % 10**8


def keyboard(sent: List[Dict[str, Any]]) -> List[Dict[str, str]]:
    return [row[0] for m in sent for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])]


def test_telegram_reply_has_buttons_and_plain_text(messaging, provider, greet_buttons, clinic_values):
    chat_id = new_chat()
    sent = telegram_turn(messaging, provider, chat_id, telegram_update(chat_id, "hello"))
    assert clinic_values["clinic_name"] in "\n".join(m["text"] for m in sent)
    assert [b["text"] for b in keyboard(sent)] == [b["title"] for b in greet_buttons]
    assert all("parse_mode" not in m and not any(x in m["text"] for x in MARKUP) for m in sent)
    assert provider.wait_for(lambda: provider.telegram("sendChatAction", chat_id)), "no typing indicator"


def test_telegram_button_tap_sends_its_payload(messaging, provider, greet_buttons):
    chat_id = new_chat()
    sent = telegram_turn(messaging, provider, chat_id, telegram_update(chat_id, "hi"))
    tapped = keyboard(sent)[0]
    query = {"update_id": 1, "callback_query": {
        "id": "cb-" + uuid.uuid4().hex[:8], "from": {"id": chat_id, "is_bot": False, "first_name": "Pat"},
        "message": sent[-1] | {"message_id": 77, "chat": {"id": chat_id, "type": "private"}, "date": int(time.time())},
        "chat_instance": "1", "data": tapped["callback_data"]}}
    answer = telegram_turn(messaging, provider, chat_id, query)
    assert answer
    assert last_user_text(messaging, str(chat_id)) == greet_buttons[0]["payload"]
    acknowledged = provider.wait_for(lambda: [c for c in provider.delivered(lambda c: c["path"].endswith("/answerCallbackQuery"))
                                              if c["body"]["callback_query_id"] == query["callback_query"]["id"]])
    assert acknowledged, "the button tap was not acknowledged (Telegram would show a spinner)"


def test_telegram_typed_number_picks_the_option(messaging, provider, greet_buttons):
    chat_id = new_chat()
    telegram_turn(messaging, provider, chat_id, telegram_update(chat_id, "hey"))
    assert telegram_turn(messaging, provider, chat_id, telegram_update(chat_id, str(len(greet_buttons))))
    assert last_user_text(messaging, str(chat_id)) == greet_buttons[-1]["payload"]


def test_telegram_start_command_greets(messaging, provider, greet_buttons):
    chat_id = new_chat()
    sent = telegram_turn(messaging, provider, chat_id, telegram_update(chat_id, "/start"))
    assert [b["text"] for b in keyboard(sent)] == [b["title"] for b in greet_buttons]


def test_telegram_sticker_gets_a_clear_answer(messaging, provider, clinic_values):
    chat_id = new_chat()
    sent = telegram_turn(messaging, provider, chat_id, telegram_update(chat_id, sticker={"file_id": "x", "emoji": "👍"}))
    assert len(sent) == 1 and clinic_values["emergency_number"] in sent[0]["text"]


def test_telegram_red_flag_gets_the_emergency_instruction_first(messaging, provider, clinic_values):
    chat_id = new_chat()
    sent = telegram_turn(messaging, provider, chat_id, telegram_update(chat_id, "i cant feel my legs and i peed myself"))
    assert sent, "no reply to a red flag"
    assert is_emergency_instruction(sent[0]["text"], clinic_values), sent


def test_telegram_wrong_or_missing_secret_is_refused(messaging, provider):
    chat_id = new_chat()
    assert post_telegram(messaging, telegram_update(chat_id, "hi"), secret="guess").status_code == 403
    assert post_telegram(messaging, telegram_update(chat_id, "hi"), secret=None).status_code == 403
    time.sleep(0.5)
    assert provider.telegram("sendMessage", chat_id) == []


def test_telegram_updates_without_a_message_are_acknowledged(messaging, provider):
    r = post_telegram(messaging, {"update_id": 5, "edited_message": telegram_update(new_chat(), "edit")["message"]})
    assert r.status_code == 200
    assert post_telegram(messaging, "not an update").status_code == 400  # type: ignore[arg-type]


# --- configuration ----------------------------------------------------------------------------


def test_channels_without_settings_are_off_and_the_server_runs(stack, chat):
    """The default stack has no Twilio/Telegram variables: both channels answer that they are off."""
    import os

    for channel, variable in (("twilio", "TWILIO_ACCOUNT_SID"), ("telegram", "TELEGRAM_BOT_TOKEN")):
        expected = "ok" if os.environ.get(variable) else "off"
        assert requests.get(f"{stack.cfg.rasa_url}/webhooks/{channel}/", timeout=10).json()["status"] == expected
        if expected == "off":
            r = requests.post(f"{stack.cfg.rasa_url}/webhooks/{channel}/webhook", data={"Body": "hi"}, timeout=10)
            assert r.status_code == 404 and r.json()["error"] == "channel_off"
            log = next(s for s in stack.services if s.name == "rasa server").log_path.read_text(errors="replace")
            assert f"{channel} channel off" in log
    assert chat.texts(chat.new_sender(), "hello")
