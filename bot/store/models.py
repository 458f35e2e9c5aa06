"""The product's own tables. Rasa's `events` table is owned by Rasa's SQLTrackerStore."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class _FollowUpItem:
    """Columns shared by the queues staff work through: whose conversation, when, from which channel,
    and the follow-up status with who set it and when (red flags: new/acknowledged/closed;
    callbacks: new/contacted/closed)."""

    sender_id = sa.Column(sa.String(255), nullable=False, index=True)
    created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow, index=True)
    channel = sa.Column(sa.String(64), nullable=False, default="unknown")
    status = sa.Column(sa.String(16), nullable=False, default="new", index=True)
    status_by = sa.Column(sa.String(128))
    status_at = sa.Column(sa.DateTime)


class RedFlagEvent(_FollowUpItem, Base):
    """One red-flag detection in one user message (recorded by the tracker store, exactly once)."""

    __tablename__ = "red_flag_events"
    __table_args__ = (sa.UniqueConstraint("sender_id", "message_id", "category", name="uq_red_flag_message_category"),)

    id = sa.Column(sa.Integer, primary_key=True)
    message_id = sa.Column(sa.String(64), nullable=False)
    tier = sa.Column(sa.String(16), nullable=False, index=True)  # EMERGENCY / CRISIS / URGENT
    category = sa.Column(sa.String(64), nullable=False)
    matched_text = sa.Column(sa.Text, nullable=False)


class CallbackRequest(_FollowUpItem, Base):
    """A person asked the clinic to call them back, with explicit consent."""

    __tablename__ = "callback_requests"

    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(200), nullable=False)
    phone_e164 = sa.Column(sa.String(20), nullable=False)
    best_time = sa.Column(sa.String(200), nullable=False)
    consent = sa.Column(sa.Boolean, nullable=False, default=False)


class StaffUser(Base):
    __tablename__ = "staff_users"

    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(64), nullable=False, unique=True)
    password_hash = sa.Column(sa.String(255), nullable=False)
    role = sa.Column(sa.String(16), nullable=False, default="staff")  # staff / admin
    active = sa.Column(sa.Boolean, nullable=False, default=True)
    failed_logins = sa.Column(sa.Integer, nullable=False, default=0)
    locked_until = sa.Column(sa.DateTime)
    created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)


class AuditEntry(Base):
    """Who did what to health information, and when (never deleted by purges)."""

    __tablename__ = "audit_log"

    id = sa.Column(sa.Integer, primary_key=True)
    at = sa.Column(sa.DateTime, nullable=False, default=utcnow, index=True)
    actor = sa.Column(sa.String(128), nullable=False)
    action = sa.Column(sa.String(64), nullable=False, index=True)
    target = sa.Column(sa.String(255))
    detail = sa.Column(sa.Text)
    ip = sa.Column(sa.String(64))


class Annotation(Base):
    """A staff correction of a user message's intent, exportable as NLU training data."""

    __tablename__ = "annotations"

    id = sa.Column(sa.Integer, primary_key=True)
    sender_id = sa.Column(sa.String(255), nullable=False, index=True)
    event_id = sa.Column(sa.Integer, nullable=False)
    message_text = sa.Column(sa.Text, nullable=False)
    predicted_intent = sa.Column(sa.String(255))
    correct_intent = sa.Column(sa.String(255), nullable=False)
    annotated_by = sa.Column(sa.String(128), nullable=False)
    created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)


class StaffSession(Base):
    """A signed-in console session, kept server-side so that sign-out and disabling a user end it at once."""

    __tablename__ = "staff_sessions"

    id = sa.Column(sa.Integer, primary_key=True)
    token_hash = sa.Column(sa.String(64), nullable=False, unique=True)  # sha256 of the cookie token
    user_id = sa.Column(sa.Integer, nullable=False, index=True)
    csrf_token = sa.Column(sa.String(64), nullable=False)
    created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
    last_seen_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
    ip = sa.Column(sa.String(64))


class ForgottenConversation(Base):
    """A conversation staff forgot, kept only as a slow salted hash of its id and the time (bot/store/forgotten.py),
    so turns another server kept on its disk during a database outage are not stored again after the forget."""

    __tablename__ = "forgotten_conversations"

    id = sa.Column(sa.Integer, primary_key=True)
    salt = sa.Column(sa.String(32), nullable=False)
    digest = sa.Column(sa.String(64), nullable=False)
    forgotten_at = sa.Column(sa.Float, nullable=False, index=True)  # epoch seconds, as Rasa's event timestamps
