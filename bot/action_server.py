"""The action server, as rasa_sdk's own app with two doors closed (issue #14, item 1).

rasa_sdk 3.6 answers anyone who reaches its port: a forged tracker can run any custom action, and its
error handler sends the whole request (a conversation) back in the reply. Here the app is rasa_sdk's
`create_app`, unchanged, plus a check that each action call carries the secret the Rasa servers send
(endpoints*.yml: `X-Action-Secret: ${ACTION_SERVER_SECRET}`), no CORS (browsers never call it), and an
error reply that names no patient data. `bot serve` makes a random secret per start unless the operator
sets ACTION_SERVER_SECRET (needed when the servers run on several hosts).

    python -m bot.action_server --port 5055 [--actions actions]
"""
from __future__ import annotations

import argparse
import hmac
import logging
import os

SECRET_ENV = "ACTION_SERVER_SECRET"
SECRET_HEADER = "X-Action-Secret"
OPEN_PATHS = frozenset({"/health"})  # the stack's readiness probe; it says nothing about anyone

logger = logging.getLogger(__name__)


def secret_matches(sent: str, expected: str) -> bool:
    """Constant-time comparison, so the reply time says nothing about how much of a guess was right."""
    return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


def create_app(actions: str, secret: str):
    """rasa_sdk's app with the secret required on every path but /health."""
    from rasa_sdk.endpoint import create_app as sdk_app
    from sanic import response
    from sanic.exceptions import SanicException

    if not secret:
        raise SystemExit(f"[action server] {SECRET_ENV} is not set: refusing to serve actions to anyone who asks")
    app = sdk_app(actions, cors_origins=None)

    @app.on_request
    async def require_secret(request):
        if request.path in OPEN_PATHS:
            return None
        if not secret_matches(request.headers.get(SECRET_HEADER, ""), secret):
            logger.warning("refused an action call without the shared secret from %s", request.ip)
            return response.json({"error": "not allowed"}, status=401)
        return None

    @app.exception(Exception)
    async def error_without_request_body(request, exception):
        status = getattr(exception, "status_code", 500)
        if isinstance(exception, SanicException) and status < 500:  # "POST /health": 405, an unknown path: 404
            return response.json({"error": "not found" if status == 404 else "not allowed"}, status=status)
        logger.error("action call failed: %s", type(exception).__name__, exc_info=exception)
        return response.json({"error": "the action failed"}, status=500)

    return app


def main() -> int:
    from rasa_sdk import utils

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--actions", default="actions")
    args = parser.parse_args()
    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    app = create_app(args.actions, os.environ.get(SECRET_ENV, ""))
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    logger.info("action server on http://%s:%s", host, args.port)
    app.run(host, args.port, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
