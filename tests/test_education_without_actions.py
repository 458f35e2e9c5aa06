"""Education must not depend on the action server: answers, "tell me more" and even the
not-understood reply come from the Rasa server itself. Here Rasa points at an action server
address where nothing listens.
"""
from __future__ import annotations

import pytest

from bot.stack import Stack, StackConfig, free_port

pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]  # its own Rasa server


@pytest.fixture(scope="module")
def rasa_without_actions(model_path, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("edu-no-actions")
    dead = free_port()  # nothing listens here
    cfg = StackConfig(
        model=model_path, database_url=f"sqlite:///{tmp / 'rasa.db'}", rasa_port=free_port(),
        action_port=free_port(), log_dir=tmp / "logs", with_web=False, with_console=False,
        extra_env={"ACTION_ENDPOINT_URL": f"http://127.0.0.1:{dead}/webhook"},
    )
    with Stack(cfg) as stack:
        yield stack


@pytest.fixture(scope="module")
def offline_chat(rasa_without_actions):
    from conftest import Chat

    return Chat(rasa_without_actions.cfg.rasa_url)


def text(messages):
    return "\n".join(m.get("text", "") for m in messages)


def test_answers_and_tell_me_more_work(offline_chat):
    sender = offline_chat.new_sender("offline")
    assert "buzzing" in text(offline_chat.send(sender, "spinal cord stimulater?")).lower()
    assert "neuropathic" in text(offline_chat.send(sender, "tell me more")).lower()


def test_not_understood_still_says_something_useful_and_the_chat_goes_on(offline_chat, clinic_values):
    sender = offline_chat.new_sender("offline")
    reply = text(offline_chat.send(sender, "stimmy"))
    assert clinic_values["clinic_phone"] in reply and clinic_values["emergency_number"] in reply, reply
    assert "lamina" in text(offline_chat.send(sender, "what is a laminectomy")).lower()
