"""A forget forgets (issue #14, item 5): after a person's conversation is forgotten, nothing on disk holds
what they wrote or their number: not the database files (WAL included), not the logs, not the audit log."""
from __future__ import annotations

import json
import os
import sys
import time
import uuid

import sqlalchemy as sa

from bot.stack import sqlite_dirs
from bot.store import forgotten
from bot.store.db import session_scope
from bot.store.models import AuditEntry
from bot.store.spool import TurnSpool
from tests.console_support import audit_rows, signed_in

PHONE_DIGITS = "4195550173"


def files_holding(folders, needles):
    """{file: [needles found]} over every file under `folders` (raw bytes, so a WAL frame counts)."""
    found = {}
    for folder in folders:
        for root, _, names in os.walk(folder):
            for name in names:
                path = os.path.join(root, name)
                data = open(path, "rb").read()
                hits = [n for n in needles if n.encode() in data]
                if hits:
                    found[path] = hits
    return found


def test_forget_leaves_no_text_no_number_in_the_files_logs_or_audit_log(stack, chat):
    marker = f"Zq{uuid.uuid4().hex[:10]}"
    sender = chat.new_sender("forget")
    chat.send(sender, f'/no_such_intent{{"note": "{marker}"}}')  # Rasa used to warn with the whole line
    chat.send(sender, f"{marker} here, my back hurts, call me on 419 555 0173")
    staff = signed_in(stack.cfg.console_url, stack.cfg.database_url)
    assert sender in staff.get(f"/conversations?q={marker}").text
    assert staff.get(f"/conversations/{sender}").status_code == 200
    folders = [stack.cfg.log_dir, *sqlite_dirs(stack.cfg.database_url)]
    assert files_holding(folders, [marker])  # the test can see the text before the forget

    import subprocess

    from bot.paths import ROOT
    result = subprocess.run([sys.executable, "-m", "bot.cli", "logs", "forget", sender], cwd=ROOT,
                            env={**os.environ, "DATABASE_URL": stack.cfg.database_url},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    time.sleep(1.0)  # the servers' log lines are flushed
    assert files_holding(folders, [marker, PHONE_DIGITS, "555 0173", sender]) == {}
    with session_scope(stack.cfg.database_url) as s:
        rows = s.query(AuditEntry).all()
        assert not [r for r in rows if any(n in f"{r.target} {r.detail}" for n in (marker, sender, PHONE_DIGITS))]
    forget = audit_rows(stack.cfg.database_url, "logs.forget")[-1]
    [view] = [r for r in audit_rows(stack.cfg.database_url, "transcript.view") if r.target == forget.target]
    assert forget.target.startswith("forgotten-") and view.actor == staff.username
    search = audit_rows(stack.cfg.database_url, "conversations.search", actor=staff.username)[-1]
    assert json.loads(search.detail)["text"] == "(withheld)"


def test_turns_kept_during_an_outage_are_not_stored_again_after_a_forget(stack, chat, tmp_path):
    """Another server's outage spool holds the conversation; the forget happens before that server replays."""
    from bot.store.tracker_store import ClinicTrackerStore

    sender = chat.new_sender("spooled")
    chat.send(sender, "what is a nerve block")
    now = time.time()
    kept = [{"event": "user", "timestamp": now - 5, "text": "kept before the forget", "parse_data": {}},
            {"event": "user", "timestamp": now + 5, "text": "written after the forget", "parse_data": {}}]
    spool = TurnSpool(tmp_path / "other-server")
    spool.write(sender, kept)
    with session_scope(stack.cfg.database_url) as s:
        from bot.store import retention

        retention.forget_sender(s, sender, "test", ip=None)  # now: between the two kept messages
    store = ClinicTrackerStore(domain=None, host=stack.cfg.database_url, spool_folder=str(spool.folder))
    store.spool.pending = True
    store._replay_kept_turns()
    engine = sa.create_engine(stack.cfg.database_url)
    with engine.connect() as conn:
        texts = [json.loads(d).get("text") for (d,) in conn.execute(
            sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender})]
    assert texts == ["written after the forget"]
    assert not list(spool.folder.glob("*.json"))


def test_a_tombstone_names_no_one_and_expires(tmp_path):
    with session_scope(f"sqlite:///{tmp_path / 'tomb.db'}") as s:
        from bot.store.models import Base
        Base.metadata.create_all(s.get_bind())
        at = time.time()
        forgotten.remember(s, "+14195550173", at=at)
        row = s.query(forgotten.ForgottenConversation).one()
        assert "4195550173" not in f"{row.salt}{row.digest}"
        assert forgotten.forgotten_at(s, "+14195550173") == at
        assert forgotten.forgotten_at(s, "+14195550174") is None
        assert forgotten.expire(s, now=at + forgotten.KEEP_DAYS * 86400 + 1) == 1
