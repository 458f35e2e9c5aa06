"""Twilio SMS and WhatsApp: /webhooks/twilio/webhook.

Environment:
  TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN  required (unset: channel off)
  TWILIO_NUMBER       optional sender for replies when Twilio does not say which number was texted
  TWILIO_WEBHOOK_URL  the public webhook URL Twilio calls; needed behind a proxy, because the
                      signature covers the URL exactly as Twilio saw it
  TWILIO_API_BASE     optional API base URL (tests point it at a fake provider)

Every inbound request must carry a valid X-Twilio-Signature (403 otherwise). Replies go out through
Twilio's Messages API from the number the person wrote to, so one webhook serves SMS and WhatsApp.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text
from urllib.parse import parse_qs

import aiohttp
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.channels.formatting import sms_bodies
from bot.channels.inbound import is_valid_sender
from bot.channels.messaging import MessagingInput, masked, post_with_retry, settings_from_env

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.twilio.com"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Twilio answers these itself on SMS and then blocks replies to that number (error 21610).
SMS_OPT_OUT_WORDS = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke"}


def posted_form(request: Request) -> RequestParameters:
    """The form fields as Twilio signed them: blank fields count (Sanic's request.form drops them)."""
    return RequestParameters(parse_qs((request.body or b"").decode("utf-8", errors="replace"), keep_blank_values=True))


class ClinicTwilioInput(MessagingInput):
    @classmethod
    def name(cls) -> Text:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(settings_from_env(
            "twilio", ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"],
            ["TWILIO_NUMBER", "TWILIO_WEBHOOK_URL", "TWILIO_API_BASE"],
        ))

    def __init__(self, settings: Optional[Dict[str, str]]) -> None:
        super().__init__(settings)
        if self.enabled:
            self.validator = RequestValidator(self.settings["TWILIO_AUTH_TOKEN"])
            base = self.settings.get("TWILIO_API_BASE", DEFAULT_API_BASE).rstrip("/")
            sid = self.settings["TWILIO_ACCOUNT_SID"]
            self.messages_url = f"{base}/2010-04-01/Accounts/{sid}/Messages.json"
            self.auth = aiohttp.BasicAuth(sid, self.settings["TWILIO_AUTH_TOKEN"])
            logger.info("twilio channel on (SMS and WhatsApp)")

    def signature_ok(self, request: Request, form: RequestParameters) -> bool:
        url = self.settings.get("TWILIO_WEBHOOK_URL") or request.url
        signature = request.headers.get("X-Twilio-Signature", "")
        return bool(signature) and self.validator.validate(url, form, signature)

    async def send(self, to: str, from_: str, messages: List[Dict[str, Any]]) -> None:
        for body in sms_bodies(messages):
            await post_with_retry(
                self.messages_url, form={"To": to, "From": from_, "Body": body}, auth=self.auth,
                what=f"twilio message to {masked(to)}",
            )

    async def receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        form = posted_form(request)
        if not self.signature_ok(request, form):
            logger.warning("twilio request refused: missing or invalid X-Twilio-Signature")
            return response.json({"error": "invalid_signature", "message": "Request signature is not valid."}, status=403)
        sender, to = (form.get("From") or "").strip(), (form.get("To") or "").strip()
        if not is_valid_sender(sender):
            return response.json({"error": "invalid_sender", "message": "Field 'From' is missing or not valid."}, status=400)
        reply_from = to or self.settings.get("TWILIO_NUMBER", "")
        channel = "whatsapp" if sender.startswith("whatsapp:") else "sms"
        body = form.get("Body") or ""
        if channel == "sms" and body.strip().casefold() in SMS_OPT_OUT_WORDS:
            logger.info("sms opt-out keyword from %s: Twilio answers it, no reply sent", masked(sender))
            return response.text(EMPTY_TWIML, content_type="text/xml")
        metadata = {"channel": channel, "message_sid": form.get("MessageSid"), "num_media": form.get("NumMedia")}

        async def deliver(messages: List[Dict[str, Any]]) -> None:
            await self.send(sender, reply_from, messages)

        await self.run_turn(request, on_new_message, sender, body, metadata, deliver)
        return response.text(EMPTY_TWIML, content_type="text/xml")
