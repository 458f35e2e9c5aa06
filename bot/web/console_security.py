"""Browser-facing security of the staff console: signed cookies, CSRF tokens, security headers.

Kept apart from the pages so each rule lives in one place:
- the session cookie carries a random token signed with the console secret (HttpOnly, SameSite=Strict);
  the session itself (user, CSRF token, last activity) is a database row (bot.store.staff);
- every POST must carry the CSRF token of its session (or, before sign-in, of a signed pre-session
  cookie), compared in constant time, and must not come from another origin;
- every response gets a strict Content-Security-Policy (no scripts at all), frame denial, and no caching.
"""
from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.paths import VAR

SESSION_COOKIE = "console_session"
PRESESSION_COOKIE = "console_presession"
FLASH_COOKIE = "console_flash"
SECRET_FILE = VAR / "console_secret.key"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",  # "no-referrer" would make browsers send Origin: null on our own POSTs
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


def load_secret(path: Path = SECRET_FILE) -> str:
    """CONSOLE_SECRET_KEY, else a random key kept in var/ readable by the owner only (created once)."""
    configured = os.environ.get("CONSOLE_SECRET_KEY", "").strip()
    if configured:
        if len(configured) < 32:
            raise SystemExit("CONSOLE_SECRET_KEY must be at least 32 characters long.")
        return configured
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


class CookieJar:
    """Signs and reads the console's cookies."""

    def __init__(self, secret: str, secure: bool = False) -> None:
        self._session = Signer(secret, salt="console-session")
        self._presession = Signer(secret, salt="console-presession")
        self._flash = URLSafeTimedSerializer(secret, salt="console-flash")
        self.secure = secure

    def _set(self, response: Response, name: str, value: str, max_age: Optional[int] = None) -> None:
        response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="strict",
                            secure=self.secure)

    def _unsign(self, signer: Signer, value: Optional[str]) -> Optional[str]:
        if not value:
            return None
        try:
            return signer.unsign(value).decode("utf-8")
        except BadSignature:
            return None

    # session
    def session_token(self, request: Request) -> Optional[str]:
        return self._unsign(self._session, request.cookies.get(SESSION_COOKIE))

    def set_session(self, response: Response, token: str) -> None:
        self._set(response, SESSION_COOKIE, self._session.sign(token).decode("utf-8"))
        response.delete_cookie(PRESESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=self.secure)

    def clear_session(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=self.secure)

    # CSRF token before sign-in (the login form)
    def presession_token(self, request: Request) -> Optional[str]:
        return self._unsign(self._presession, request.cookies.get(PRESESSION_COOKIE))

    def set_presession(self, response: Response, token: str) -> None:
        self._set(response, PRESESSION_COOKIE, self._presession.sign(token).decode("utf-8"), max_age=3600)

    # one-time messages after a redirect
    def set_flash(self, response: Response, text: str, kind: str = "info") -> None:
        self._set(response, FLASH_COOKIE, self._flash.dumps({"text": text, "kind": kind}), max_age=60)

    def read_flash(self, request: Request) -> Optional[dict]:
        raw = request.cookies.get(FLASH_COOKIE)
        if not raw:
            return None
        try:
            value = self._flash.loads(raw, max_age=120)
        except BadSignature:
            return None
        return value if isinstance(value, dict) else None

    def clear_flash(self, response: Response) -> None:
        response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="strict", secure=self.secure)


def tokens_match(expected: Optional[str], given: Optional[str]) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def same_origin(request: Request) -> bool:
    """A POST is same-origin unless the browser says it came from elsewhere (Origin, else Referer)."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source == "null":  # sandboxed or privacy-stripped cross-site request
        return False
    if not source:  # not a browser (curl, tests); the CSRF token still has to match
        return True
    return urlsplit(source).netloc.lower() == (request.headers.get("host") or "").lower()


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class SecurityHeadersMiddleware:
    """Adds the security headers to every response, and no-store to everything but static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    headers[key] = value
                if not cacheable:
                    for key, value in NO_STORE.items():
                        headers[key] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
