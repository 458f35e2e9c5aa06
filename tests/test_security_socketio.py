"""socket.io, as Rasa Webchat speaks it (issue #14, items 2-4), with a real python-socketio client
against the running stack: replies are delivered (the emergency instruction first), input is checked
like REST, and the client cannot choose another conversation's id."""
from __future__ import annotations

import asyncio
import uuid

import pytest
import socketio

from bot.channels.inbound import MAX_MESSAGE_CHARS

pytestmark = pytest.mark.timeout(300)


async def talk(url, messages, session_id=None, wait=20.0):
    """Connect, ask for a session, send each message and collect what comes back (session id, replies)."""
    client = socketio.AsyncClient()
    replies, confirmed = [], asyncio.get_running_loop().create_future()

    @client.on("session_confirm")
    async def on_confirm(sid):
        if not confirmed.done():
            confirmed.set_result(sid)

    @client.on("bot_uttered")
    async def on_reply(data):
        replies.append(data)

    await client.connect(url, socketio_path="/socket.io", transports=["polling"])  # this aiohttp predates the websocket client of python-engineio 4.15
    try:
        await client.emit("session_request", {"session_id": session_id})
        session = await asyncio.wait_for(confirmed, wait)
        for text in messages:
            before = len(replies)
            await client.emit("user_uttered", {"message": text, "session_id": session})
            deadline = asyncio.get_running_loop().time() + wait
            while len(replies) == before and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # the rest of this turn's messages
        return session, replies
    finally:
        await client.disconnect()


def test_an_emergency_reaches_a_socketio_client_first(stack, clinic_values):
    session, replies = asyncio.run(talk(stack.cfg.rasa_url, ["I can't feel anything between my legs and I wet myself"]))
    assert len(session) == 32
    assert replies and replies[0]["text"].startswith("Please go to the nearest emergency room now")
    assert clinic_values["emergency_number"] in replies[0]["text"]


def test_bad_input_gets_a_clear_answer_and_the_conversation_goes_on(stack):
    _, replies = asyncio.run(talk(stack.cfg.rasa_url, ["\x00\x01", "x" * (MAX_MESSAGE_CHARS + 1), "what is RFA?"]))
    texts = [r.get("text", "") for r in replies]
    assert texts[0] == "The message is empty. Please type a question."
    assert texts[1].startswith("Messages can be at most")
    assert "heat" in texts[2]


def test_a_client_cannot_choose_another_conversations_id(stack, chat):
    victim = "+15551230001"
    for chosen in (victim, f"whatsapp:{victim}", "../..", "12345"):
        session, _ = asyncio.run(talk(stack.cfg.rasa_url, [], session_id=chosen))
        assert session != chosen and len(session) == 32
    issued = uuid.uuid4().hex  # an id of the server's own form is kept (a page reload keeps the chat)
    session, _ = asyncio.run(talk(stack.cfg.rasa_url, [], session_id=issued))
    assert session == issued
