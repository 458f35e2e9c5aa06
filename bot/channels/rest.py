"""The REST channel (/webhooks/rest/webhook) with input validation and a safe failure reply."""
from __future__ import annotations

import logging
from typing import Awaitable, Callable, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from bot.channels.inbound import InboundError, parse_rest_body
from bot.channels.safety import failure_reply, incomplete_turn_text
from bot.channels.urgency import TierTaggingCollector, tiered_first
from bot.log_privacy import masked

logger = logging.getLogger(__name__)


class ClinicRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        bp = Blueprint("clinic_rest_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request):
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            try:
                inbound = parse_rest_body(request.body or b"")
            except InboundError as e:
                return response.json(e.as_json(), status=e.status)
            collector = TierTaggingCollector()
            try:
                await on_new_message(
                    UserMessage(inbound.text, collector, inbound.sender, input_channel=self.name(), metadata=inbound.metadata)
                )
            except Exception:
                logger.exception("message from %s could not be processed", masked(inbound.sender))
                return response.json(failure_reply(inbound.sender))
            if not collector.messages:  # custom actions could not run, or a typed "/restart"
                logger.warning("no reply produced for %s", masked(inbound.sender))
                return response.json([{"recipient_id": inbound.sender, "text": incomplete_turn_text()}])
            # Red-flag replies carry metadata.tier (the widget shows them as banners) and come first.
            return response.json(tiered_first(collector.messages))

        return bp
