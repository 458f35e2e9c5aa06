"""Staff accounts: argon2 password hashes, lock-out after repeated failures, server-side sessions.

Sessions live in the database (the cookie holds only a random token) so that signing out,
disabling a user or resetting a password ends every session of that user immediately.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterator, List, Optional, Tuple

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from bot.store.models import StaffSession, StaffUser, utcnow

ROLES = ("staff", "admin")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 hashes anything, but a megabyte "password" is an attack
# Account-wide, against guessing spread over many addresses; one address is stopped after five
# (bot.web.login_throttle), so nobody can lock a colleague out from one machine.
MAX_FAILED_LOGINS = 50
LOCKOUT = timedelta(minutes=15)
# argon2 takes 64 MB per hash: 24 sign-ins at once took the console from 81 to 595 MB.
HASHING_AT_ONCE = 2
HASHING_WAIT_SECONDS = 10
IDLE_TIMEOUT = timedelta(minutes=30)  # automatic sign-off of an unattended screen
ABSOLUTE_TIMEOUT = timedelta(hours=12)
_TOUCH_EVERY = timedelta(seconds=60)
_USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))  # verified for unknown users, so timing reveals nothing
_hashing_slots = threading.BoundedSemaphore(HASHING_AT_ONCE)


class StaffError(ValueError):
    """A request about staff accounts that cannot be done (the message is shown to the person)."""


class HashingBusy(RuntimeError):
    """Every hashing slot stayed taken for HASHING_WAIT_SECONDS: the caller answers "busy, try again"."""


@contextmanager
def _hashing() -> Iterator[None]:
    if not _hashing_slots.acquire(timeout=HASHING_WAIT_SECONDS):
        raise HashingBusy("the console is busy")
    try:
        yield
    finally:
        _hashing_slots.release()


def _hash(password: str) -> str:
    with _hashing():
        return _hasher.hash(password)


def validate_username(username: str) -> str:
    username = (username or "").strip()
    if not _USERNAME_RE.match(username):
        raise StaffError("Usernames are 2-64 characters: letters, digits and . _ @ - (starting with a letter or digit).")
    return username


def validate_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise StaffError(f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise StaffError(f"Passwords can be at most {MAX_PASSWORD_LENGTH} characters long.")
    return password


def find_user(session: Session, username: str) -> Optional[StaffUser]:
    return session.query(StaffUser).filter(StaffUser.username == (username or "").strip()).one_or_none()


def create_user(session: Session, username: str, password: str, role: str = "staff") -> StaffUser:
    username = validate_username(username)
    validate_password(password)
    if role not in ROLES:
        raise StaffError(f"Role must be one of: {', '.join(ROLES)}.")
    if find_user(session, username):
        raise StaffError(f"A user named {username!r} already exists.")
    user = StaffUser(username=username, password_hash=_hash(password), role=role, active=True, failed_logins=0)
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: StaffUser, password: str) -> None:
    """New password; existing sessions end and any lock-out is lifted."""
    validate_password(password)
    user.password_hash = _hash(password)
    unlock(user)
    end_all_sessions(session, user.id)


def set_role(session: Session, user: StaffUser, role: str) -> None:
    if role not in ROLES:
        raise StaffError(f"Role must be one of: {', '.join(ROLES)}.")
    if user.role == "admin" and role != "admin":
        _keep_one_admin(session, user)
    user.role = role
    end_all_sessions(session, user.id)  # the new rights apply from the next sign-in


def set_active(session: Session, user: StaffUser, active: bool) -> None:
    if not active and user.role == "admin":
        _keep_one_admin(session, user)
    user.active = active
    if not active:
        end_all_sessions(session, user.id)


def _keep_one_admin(session: Session, user: StaffUser) -> None:
    others = (
        session.query(StaffUser)
        .filter(StaffUser.role == "admin", StaffUser.active.is_(True), StaffUser.id != user.id)
        .count()
    )
    if others == 0:
        raise StaffError("This is the last active admin; make another admin first.")


def unlock(user: StaffUser) -> None:
    user.failed_logins = 0
    user.locked_until = None


def list_users(session: Session) -> List[StaffUser]:
    return session.query(StaffUser).order_by(StaffUser.username).all()


def is_locked(user: StaffUser, now: Optional[datetime] = None) -> bool:
    return bool(user.locked_until and user.locked_until > (now or utcnow()))


@dataclass
class LoginResult:
    outcome: str  # ok / invalid / locked
    user: Optional[StaffUser] = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def authenticate(session: Session, username: str, password: str, now: Optional[datetime] = None) -> LoginResult:
    """Check a password. MAX_FAILED_LOGINS failures in a row lock the account for 15 minutes (also against
    the right password). Every path verifies one hash, so timing tells nothing about the account."""
    now = now or utcnow()
    user = find_user(session, username)
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        return LoginResult("invalid", user)
    if is_locked(user, now):
        _verify(_DUMMY_HASH, password)
        return LoginResult("locked", user)
    if not _verify(user.password_hash, password):
        # one UPDATE adds one, whatever else runs at once (200 parallel guesses once counted 24)
        session.query(StaffUser).filter(StaffUser.id == user.id).update(
            {StaffUser.failed_logins: sa.func.coalesce(StaffUser.failed_logins, 0) + 1}, synchronize_session=False)
        session.refresh(user, ["failed_logins"])
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            return LoginResult("locked", user)
        return LoginResult("invalid", user)
    unlock(user)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hash(password)
    return LoginResult("ok", user)


def _verify(password_hash: str, password: str) -> bool:
    if len(password or "") > MAX_PASSWORD_LENGTH:
        return False
    try:
        with _hashing():
            return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


# --- sessions ------------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, user: StaffUser, ip: Optional[str] = None) -> Tuple[str, StaffSession]:
    """A new session; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    row = StaffSession(token_hash=_token_hash(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32), ip=ip)
    session.add(row)
    session.flush()
    return token, row


def load_session(session: Session, token: str, now: Optional[datetime] = None) -> Optional[Tuple[StaffUser, StaffSession]]:
    """The user behind a cookie token, or None when unknown, expired, idle too long or the user is disabled."""
    if not token:
        return None
    now = now or utcnow()
    row = session.query(StaffSession).filter(StaffSession.token_hash == _token_hash(token)).one_or_none()
    if row is None:
        return None
    user = session.get(StaffUser, row.user_id)
    if (
        user is None
        or not user.active
        or now - row.created_at > ABSOLUTE_TIMEOUT
        or now - row.last_seen_at > IDLE_TIMEOUT
    ):
        session.delete(row)
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = now
    return user, row


def end_session(session: Session, token: str) -> None:
    session.query(StaffSession).filter(StaffSession.token_hash == _token_hash(token)).delete()


def end_all_sessions(session: Session, user_id: int) -> None:
    session.query(StaffSession).filter(StaffSession.user_id == user_id).delete()
