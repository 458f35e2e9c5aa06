"""Telegram: /webhooks/telegram/webhook.

Environment:
  TELEGRAM_BOT_TOKEN       required (unset: channel off)
  TELEGRAM_WEBHOOK_SECRET  the secret_token given to setWebhook (required: every update must carry it)
                           in X-Telegram-Bot-Api-Secret-Token (403 otherwise). Strongly recommended.
  TELEGRAM_API_BASE        optional API base URL (tests point it at a fake provider)

Replies are plain text (no parse_mode, so nothing is read as markup); buttons become an inline
keyboard whose taps come back as callback queries. Typed numbers work as on SMS.
"""
from __future__ import annotations

import hmac
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.formatting import Option, keyboard_messages
from bot.channels.inbound import is_valid_sender
from bot.channels.messaging import MessagingInput, in_background, masked, post_with_retry, settings_from_env

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.telegram.org"
CALLBACK_DATA_MAX_BYTES = 64  # Telegram's limit for a button's callback_data
# Telegram's own commands, sent as text; mapped to the core intents they mean.
COMMANDS = {"start": "/greet", "help": "/bot_capabilities"}
_COMMAND = re.compile(r"^/([A-Za-z]+)(?:@\w+)?\s*$")
_NUMBERED_CHOICE = re.compile(r"^#\d+$")


def callback_data(option: Option) -> str:
    """The payload itself when it fits, else the option's number (resolved like a typed '#2')."""
    if len(option.payload.encode("utf-8")) <= CALLBACK_DATA_MAX_BYTES and not _NUMBERED_CHOICE.match(option.payload):
        return option.payload
    return f"#{option.number}"


class ClinicTelegramInput(MessagingInput):
    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        # no secret, no channel: without it anyone who finds the URL could post updates as any chat
        return cls(settings_from_env("telegram", ["TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"], ["TELEGRAM_API_BASE"]))

    def __init__(self, settings: Optional[Dict[str, str]]) -> None:
        super().__init__(settings)
        if self.enabled:
            base = self.settings.get("TELEGRAM_API_BASE", DEFAULT_API_BASE).rstrip("/")
            self.api_url = f"{base}/bot{self.settings['TELEGRAM_BOT_TOKEN']}"
            logger.info("telegram channel on")

    def secret_ok(self, request: Request) -> bool:
        expected = self.settings.get("TELEGRAM_WEBHOOK_SECRET")
        if not expected:  # never enabled without one (from_credentials); refuse rather than trust
            return False
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        return hmac.compare_digest(given.encode(), expected.encode())

    async def call(self, method: str, payload: Dict[str, Any], chat: str) -> None:
        await post_with_retry(f"{self.api_url}/{method}", json=payload, what=f"telegram {method} to {masked(chat)}")

    async def send(self, chat_id: Any, messages: List[Dict[str, Any]]) -> None:
        for text, options in keyboard_messages(messages):
            payload: Dict[str, Any] = {"chat_id": chat_id, "text": text}
            if options:  # one button a row: titles stay readable on a phone
                payload["reply_markup"] = {
                    "inline_keyboard": [[{"text": o.title, "callback_data": callback_data(o)}] for o in options]
                }
            await self.call("sendMessage", payload, str(chat_id))

    async def receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        if not self.secret_ok(request):
            logger.warning("telegram update refused: missing or wrong secret token")
            return response.json({"error": "invalid_secret", "message": "Secret token is not valid."}, status=403)
        try:
            update = request.json
        except Exception:
            update = None
        if not isinstance(update, dict):
            return response.json({"error": "invalid_json", "message": "A Telegram update (JSON object) is expected."}, status=400)

        is_payload = False
        query = update.get("callback_query")
        if isinstance(query, dict):  # a tap on one of our buttons
            message = query.get("message") or {}
            text = str(query.get("data") or "")
            is_payload = not _NUMBERED_CHOICE.match(text)
            in_background(self.call("answerCallbackQuery", {"callback_query_id": query.get("id")}, "callback"))
        else:
            message = update.get("message")
            if not isinstance(message, dict):  # edits, channel posts, membership changes: nothing to answer
                return response.json({"status": "ignored"})
            text = message.get("text") or ""
            command = _COMMAND.match(text.strip())
            if command and command.group(1).lower() in COMMANDS:
                text, is_payload = COMMANDS[command.group(1).lower()], True
        chat_id = (message.get("chat") or {}).get("id")
        sender = str(chat_id) if chat_id is not None else ""
        if not is_valid_sender(sender):
            return response.json({"error": "invalid_chat", "message": "The update has no chat id."}, status=400)
        in_background(self.call("sendChatAction", {"chat_id": chat_id, "action": "typing"}, sender))
        metadata = {"channel": "telegram", "update_id": update.get("update_id")}

        async def deliver(messages: List[Dict[str, Any]]) -> None:
            await self.send(chat_id, messages)

        await self.run_turn(request, on_new_message, sender, text, metadata, deliver, is_payload=is_payload)
        return response.json({"status": "ok"})
