"""What every text-messaging channel (Twilio SMS/WhatsApp, Telegram) does the same way.

Configuration comes from environment variables, read here rather than through credentials.yml
interpolation, so a missing variable switches the channel off with one log line instead of
stopping the server. A turn is collected whole, then formatted and sent in order (red-flag replies
first), so the first message a person receives after a red flag is the emergency instruction.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Set, Text

import aiohttp
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.formatting import channel_text, last_turn_messages, resolve_choice, turn_options
from bot.channels.inbound import MAX_MESSAGE_CHARS, break_long_runs, clean_text
from bot.channels.safety import failure_text
from bot.channels.urgency import TierTaggingCollector
from bot.log_privacy import masked

logger = logging.getLogger(__name__)

Message = Dict[str, Any]
Deliver = Callable[[List[Message]], Awaitable[None]]

SEND_ATTEMPTS = 3
SEND_TIMEOUT_SECONDS = 15


def settings_from_env(channel: str, required: Sequence[str], optional: Sequence[str] = ()) -> Optional[Dict[str, str]]:
    """The channel's settings, or None (channel off, logged once) when a required variable is unset."""
    missing = [name for name in required if not os.environ.get(name, "").strip()]
    if missing:
        logger.info("%s channel off: set %s to turn it on", channel, ", ".join(missing))
        return None
    names = list(required) + list(optional)
    return {name: os.environ[name].strip() for name in names if os.environ.get(name, "").strip()}


_COMMAND = re.compile(r"^/+")


def neutralise_commands(text: str) -> str:
    """Typed text never reaches Rasa as '/intent' syntax (that would skip NLU and red-flag checks)."""
    return _COMMAND.sub("", text).strip()


class TurnCollector(TierTaggingCollector):
    """Collects a turn's replies whole (the channel splits text itself) under the channel's name.

    The name matters: responses may have channel-specific variations (`channel: twilio`).
    """

    def __init__(self, channel_name: str) -> None:
        super().__init__()
        self._channel_name = channel_name

    def name(self) -> Text:
        return self._channel_name

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._persist_message(self._message(recipient_id, text=text))

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        logger.debug("custom payload not shown on a text channel: %s", sorted(json_message))


async def post_with_retry(
    url: str, *, form: Optional[Dict[str, str]] = None, json: Optional[Dict[str, Any]] = None,
    auth: Optional[aiohttp.BasicAuth] = None, what: str = "message",
) -> bool:
    """POST to a provider API; retries connection errors, 429 and 5xx. True when accepted."""
    timeout = aiohttp.ClientTimeout(total=SEND_TIMEOUT_SECONDS)
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(url, data=form, json=json, auth=auth) as r:
                    if r.status < 300:
                        return True
                    body = (await r.text())[:300]
                    if r.status != 429 and r.status < 500:
                        logger.error("%s refused by provider (%s): %s", what, r.status, body)
                        return False
                    logger.warning("%s: provider busy (%s), attempt %d", what, r.status, attempt)
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            logger.warning("%s: provider unreachable (%r), attempt %d", what, e, attempt)
        if attempt < SEND_ATTEMPTS:
            await asyncio.sleep(0.5 * attempt)
    logger.error("%s not delivered after %d attempts", what, SEND_ATTEMPTS)
    return False


_background: Set["asyncio.Task[Any]"] = set()


def in_background(coro: Awaitable[Any]) -> None:
    """Runs a side call (typing indicator, button acknowledgement) without delaying the reply."""
    task = asyncio.ensure_future(coro)
    _background.add(task)  # keep a reference until done, or the task may be collected early
    task.add_done_callback(_background.discard)


class MessagingInput(InputChannel):
    """Base for text-message channels: choice numbers, one turn at a time, never silent."""

    def __init__(self, settings: Optional[Dict[str, str]]) -> None:
        self.settings = settings or {}
        self.enabled = settings is not None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """GET / (health: ok or off) and POST /webhook (the provider's calls, handled by receive())."""
        bp = Blueprint(f"clinic_{self.name()}_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "off"})

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.enabled:
                return response.json({"error": "channel_off", "message": f"The {self.name()} channel is not configured."}, status=404)
            return await self.receive(request, on_new_message)

        return bp

    async def receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        raise NotImplementedError

    async def resolve_reply(self, request: Request, sender: str, text: str) -> str:
        """A reply to numbered options becomes the chosen option's payload.

        The options are read back from the conversation itself (the last bot turn in the tracker
        store), so this works across restarts and several server processes.
        """
        try:
            tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
        except Exception:  # a reply must never be lost because the look-up failed
            logger.exception("could not read the options last offered to %s", masked(sender))
            return text
        if tracker is None:
            return text
        return resolve_choice(text, turn_options(last_turn_messages(tracker.events))) or text

    async def run_turn(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]],
        sender: str, text: str, metadata: Dict[str, Any], deliver: Deliver, *, is_payload: bool = False,
    ) -> None:
        """Runs one message through the bot and delivers every reply; on failure, the safe text."""
        if not is_payload:
            text = break_long_runs(neutralise_commands(clean_text(text or ""))[:MAX_MESSAGE_CHARS])
            if not text:  # a photo, a voice note, a sticker, an empty message
                await deliver([{"text": channel_text()["text_only"]}])
                return
            text = await self.resolve_reply(request, sender, text)
        collector = TurnCollector(self.name())
        try:
            await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata))
        except Exception:
            logger.exception("message from %s could not be processed", masked(sender))
            collector.messages.append({"text": failure_text()})
        if not collector.messages:
            logger.error("no reply produced for %s", masked(sender))
            collector.messages.append({"text": failure_text()})
        await deliver(collector.messages)
