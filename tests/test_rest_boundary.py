"""Bad input at the REST boundary of the running server: a clear answer every time, and it keeps serving."""
import json

import pytest
import requests


def post_raw(stack, data: bytes, content_type="application/json"):
    return requests.post(
        f"{stack.cfg.rasa_url}/webhooks/rest/webhook", data=data, headers={"Content-Type": content_type}, timeout=60
    )


def still_serving(chat):
    assert chat.texts(chat.new_sender(), "hello"), "server stopped answering after bad input"


BAD_BODIES = {
    "empty text": (json.dumps({"sender": "b1", "message": ""}).encode(), 400, "empty_message"),
    "whitespace text": (json.dumps({"sender": "b1", "message": " \n "}).encode(), 400, "empty_message"),
    "100 kB text": (json.dumps({"sender": "b1", "message": "a" * 100_000}).encode(), 413, "message_too_long"),
    "invalid JSON": (b'{"sender": "b1", "message": ', 400, "invalid_json"),
    "non-UTF-8 bytes": (b'{"sender": "b1", "message": "\xff\xfe caf\xe9"}', 400, "invalid_encoding"),
    "missing sender": (json.dumps({"message": "hi"}).encode(), 400, "missing_sender"),
    "missing message": (json.dumps({"sender": "b1"}).encode(), 400, "missing_message"),
    "JSON array": (b"[]", 400, "invalid_json"),
    "empty body": (b"", 400, "invalid_json"),
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_bad_input_gets_a_clear_error_and_the_server_keeps_serving(stack, chat, name):
    data, status, code = BAD_BODIES[name]
    r = post_raw(stack, data)
    assert r.status_code == status
    payload = r.json()
    assert payload["error"] == code
    assert payload["message"].endswith(".")
    still_serving(chat)


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert('x')</script> what is PLS?",
        "'; DROP TABLE events; --",
        "\U0001F62D\U0001F62D my back \U0001F494",
        "hello\x00\x07 there",
        "a" * 5000,
        "ｆｕｌｌｗｉｄｔｈ ｔｅｘｔ",
        "{clinic_phone} {0} %s %(x)s",
    ],
)
def test_odd_but_valid_text_gets_a_reply(chat, text):
    messages = chat.send(chat.new_sender("odd"), text)
    assert messages and all(m.get("text") or m.get("buttons") or m.get("custom") for m in messages)


def test_markup_is_echoed_nowhere_as_html(chat):
    messages = chat.send(chat.new_sender("markup"), "<img src=x onerror=alert(1)>")
    assert all("<img" not in m.get("text", "") for m in messages)


def test_wrong_method_and_unknown_path_do_not_crash(stack, chat):
    assert requests.get(f"{stack.cfg.rasa_url}/webhooks/rest/webhook", timeout=10).status_code in (404, 405)
    assert requests.post(f"{stack.cfg.rasa_url}/webhooks/nope/webhook", json={}, timeout=10).status_code == 404
    still_serving(chat)


def test_http_api_is_off_without_a_token(stack):
    # The tracker API exposes health information; it must not be open by default.
    r = requests.get(f"{stack.cfg.rasa_url}/conversations/someone/tracker", timeout=10)
    assert r.status_code in (401, 403, 404)


def test_a_typed_restart_command_gets_a_plain_answer_not_the_failure_apology(chat, clinic_values):
    from bot.channels.safety import failure_text

    sender = chat.new_sender("restart")
    chat.send(sender, "hello")
    reply = chat.texts(sender, "/restart")
    assert reply and reply != [failure_text()]
    assert clinic_values["clinic_phone"] in reply[0] and clinic_values["emergency_number"] in reply[0]
    assert chat.texts(sender, "hi"), "the conversation goes on after a restart"


@pytest.mark.parametrize("unit", ["背痛", "ab", "xyzq", "déjà"])
def test_one_enormous_word_is_answered_and_the_server_survives(stack, chat, unit):
    word = (unit * 20_000)[:19_000]
    messages = chat.send(chat.new_sender("hugeword"), word)
    assert messages and messages[0].get("text")
    rasa = next(s for s in stack.services if s.name == "rasa server")
    assert rasa.process.poll() is None
    still_serving(chat)


def test_the_chat_page_never_takes_the_rasa_address_from_the_host_header(stack):
    """A forged Host once pointed the page's widget, its CSP and the widget config at another server."""
    forged = {"Host": "attacker.example:8080"}
    page = requests.get(stack.cfg.web_url + "/", headers=forged, timeout=30)
    config = requests.get(stack.cfg.web_url + "/widget/config.json", headers=forged, timeout=30)
    assert page.status_code == config.status_code == 200
    assert "attacker.example" not in page.text and "attacker.example" not in page.headers["content-security-policy"]
    assert "attacker.example" not in config.json()["rasaUrl"]
    assert config.json()["rasaUrl"] == stack.cfg.rasa_url.rstrip("/")
    assert page.headers["cache-control"] == "no-cache"


def test_a_body_over_a_megabyte_is_refused_before_it_is_read_whole(stack, chat):
    """Sanic read any body up to 100 MB before the channel's own size check (memory for every such post)."""
    response = requests.post(stack.cfg.rasa_url + "/webhooks/rest/webhook", data=b"x" * 3_000_000,
                             headers={"Content-Type": "application/json"}, timeout=60)
    assert response.status_code == 413
    assert response.json()["message"] == "Request body exceeds the size limit"  # the server's limit, not the channel's
    assert chat.responses(chat.new_sender("after-huge"), "what is RFA?")  # the server keeps serving
