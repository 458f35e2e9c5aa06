"""The socket.io channel (what Rasa Webchat and other socket.io widgets speak), made to deliver and
made to validate like REST.

Rasa 3.6's SocketIOInput calls `sio.enter_room()` without `await`; with python-socketio 5.x that is a
coroutine never run, so with session persistence the client never joins its room and no reply, not
even an emergency instruction, reaches it (issue #14, item 2). This channel keeps Rasa's server and
blueprint and replaces its two handlers:
- session_request: joins the room (awaited), and issues the session id unless the client brings one
  the server could have issued (32 hex digits): a client cannot pick a messaging key or another id;
- user_uttered: the message goes through the same checks as REST (bot.channels.inbound.checked_text:
  length, control characters, long runs), a bad one gets a clear reply instead of silence, and the
  conversation id is "sio-" + the session id, a namespace no other channel can produce.
"""
from __future__ import annotations

import inspect
import logging
import re
import uuid
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from bot.channels.inbound import InboundError, bounded_metadata, checked_text
from bot.channels.safety import failure_text

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
SENDER_PREFIX = "sio-"


def session_id_for(data: Any) -> str:
    """The client's session id when it is one the server issues, else a new one."""
    requested = data.get("session_id") if isinstance(data, dict) else None
    return requested if isinstance(requested, str) and SESSION_ID.match(requested) else uuid.uuid4().hex


class ClinicSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any) -> None:
            session_id = session_id_for(data)
            joined = sio.enter_room(sid, session_id, namespace=self.namespace)
            if inspect.isawaitable(joined):  # a coroutine in python-socketio 5.x, a plain call before
                await joined
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            output = SocketIOOutput(sio, self.bot_message_evt)
            if not isinstance(data, dict):
                data = {}
            session_id = data.get("session_id")
            if not (isinstance(session_id, str) and SESSION_ID.match(session_id)):
                session_id = None
            # without a valid session the reply still reaches this connection, by its own room
            recipient = session_id or sid
            if "message" in data and data["message"] is None:
                # Rasa Webchat opens with its init payload, null unless the site sets one: nothing was
                # said, so nothing is answered (it once opened the chat with an error message)
                return
            try:
                text = checked_text(data.get("message"))
            except InboundError as error:
                await output.send_text_message(recipient, error.message)
                return
            sender = SENDER_PREFIX + (session_id or uuid.uuid5(uuid.NAMESPACE_URL, sid).hex)
            message = UserMessage(text, RoomOutput(output, recipient), sender, input_channel=self.name(),
                                  metadata=bounded_metadata(data.get("metadata")))
            try:
                await on_new_message(message)
            except Exception:
                logger.exception("socket.io message could not be processed")
                await output.send_text_message(recipient, failure_text())

        return blueprint


class RoomOutput(SocketIOOutput):
    """Sends to the room of the session (the conversation id carries the "sio-" prefix, the room
    does not)."""

    def __init__(self, output: SocketIOOutput, room: str) -> None:
        super().__init__(output.sio, output.bot_message_evt)
        self.room = room

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        await super()._send_message(self.room, response)
