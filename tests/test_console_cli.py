"""`bot staff ...` and `bot logs ...` as an operator runs them, on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time

import sqlalchemy as sa

from bot.paths import ROOT
from bot.store.conversations import EVENTS
from bot.store.db import session_scope
from bot.store.models import Annotation, CallbackRequest, RedFlagEvent, StaffUser
from console_support import (add_callback, add_red_flag, audit_rows, bot, db_url, new_sender, store_conversation,
                             token, user, utc_days_ago)

DAY = 86400.0


def run_bot(db_url, *args, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": db_url}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_staff_add_reads_the_password_from_stdin_and_hashes_it(db_url):
    name = "cli-" + token()
    result = run_bot(db_url, "staff", "add", name, "--admin", stdin="a long piped password\n")
    assert result.returncode == 0, result.stderr
    assert f"Created admin user '{name}'." in result.stdout
    with session_scope(db_url) as s:
        row = s.query(StaffUser).filter_by(username=name).one()
        assert row.role == "admin" and row.password_hash.startswith("$argon2id$")
        assert "a long piped password" not in row.password_hash
    [entry] = audit_rows(db_url, "user.create", target=name)
    assert entry.actor.startswith("cli:") and json.loads(entry.detail) == {"role": "admin"}
    listing = run_bot(db_url, "staff", "list")
    assert any(line.split() == [name, "admin", "active"] for line in listing.stdout.splitlines())


def test_staff_add_refuses_short_passwords_and_duplicates(db_url):
    name = "cli-" + token()
    short = run_bot(db_url, "staff", "add", name, stdin="tooshort\n")
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    with session_scope(db_url) as s:
        assert s.query(StaffUser).filter_by(username=name).count() == 0
    assert run_bot(db_url, "staff", "add", name, stdin="long enough password\n").returncode == 0
    duplicate = run_bot(db_url, "staff", "add", name, stdin="long enough password\n")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr


def test_logs_export_csv_and_jsonl_with_since(db_url):
    word = token()
    sender = new_sender("exp")
    [mid] = store_conversation(db_url, sender, [
        user(f"{word} last week my leg hurt", "greet", at=time.time() - 8 * DAY),
        user(f"{word} today I can't control my bladder", "symptom_check", at=time.time()),
        bot("Go to the emergency room now.", "utter_red_flag_emergency", at=time.time() + 1),
    ])[1:]
    add_red_flag(db_url, sender, mid)
    result = run_bot(db_url, "logs", "export", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = [r for r in csv.DictReader(io.StringIO(result.stdout)) if r["sender_id"] == sender]
    assert [r["text"] for r in rows] == [f"{word} last week my leg hurt", f"{word} today I can't control my bladder",
                                         "Go to the emergency room now."]
    assert rows[1]["red_flags"] == "EMERGENCY:bladder_bowel" and rows[1]["intent"] == "symptom_check"
    assert "Exported" in result.stderr and "as csv to standard output" in result.stderr

    since = time.strftime("%Y-%m-%d", time.localtime(time.time() - 2 * DAY))
    result = run_bot(db_url, "logs", "export", "--format", "jsonl", "--since", since)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    mine = [line for line in lines if line["sender_id"] == sender]
    assert [line["speaker"] for line in mine] == ["user", "bot"]
    assert mine[0]["text"] == f"{word} today I can't control my bladder"
    entry = audit_rows(db_url, "export.logs")[-1]
    detail = json.loads(entry.detail)
    assert detail["format"] == "jsonl" and detail["since"].startswith(since) and detail["messages"] == len(lines)
    assert run_bot(db_url, "logs", "export", "--since", "yesterday").returncode == 2


def test_logs_export_to_a_file(db_url, tmp_path):
    target = tmp_path / "out.csv"
    result = run_bot(db_url, "logs", "export", "--output", str(target))
    assert result.returncode == 0
    assert target.read_text(encoding="utf-8").startswith("sender_id,event_id,time_utc,channel,speaker,text")
    assert f"to {target}" in result.stdout
    assert target.stat().st_mode & 0o777 == 0o600  # conversations: the owner's only, wherever written
    target.chmod(0o644)  # an existing file is made private again
    assert run_bot(db_url, "logs", "export", "--output", str(target)).returncode == 0
    assert target.stat().st_mode & 0o777 == 0o600
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "elsewhere.txt")  # another user's trap in a shared folder
    refused = run_bot(db_url, "logs", "export", "--output", str(link))
    assert refused.returncode != 0 and "cannot write" in refused.stderr and not (tmp_path / "elsewhere.txt").exists()


def _rows(url, table, sender):
    t = table if isinstance(table, sa.Table) else table.__table__
    with session_scope(url) as s:
        return s.execute(sa.select(sa.func.count()).select_from(t).where(t.c.sender_id == sender)).scalar_one()


def test_logs_purge_deletes_what_is_older_and_says_so(db_url):
    old, recent = new_sender("old"), new_sender("new")
    [old_mid] = store_conversation(db_url, old, [user("a month and a half ago", at=time.time() - 45 * DAY)])
    store_conversation(db_url, recent, [user("yesterday", at=time.time() - DAY)])
    add_red_flag(db_url, old, old_mid, created_at=utc_days_ago(45))
    add_callback(db_url, old, created_at=utc_days_ago(45))

    held = run_bot(db_url, "logs", "purge", "--older-than", "30")
    assert held.returncode == 0 and "held back because a red flag or callback is still open" in held.stdout
    assert _rows(db_url, EVENTS, old) > 0  # an open red flag keeps its conversation
    dry = run_bot(db_url, "logs", "purge", "--older-than", "30", "--dry-run", "--include-open")
    assert dry.returncode == 0 and dry.stdout.startswith("Would delete")
    assert _rows(db_url, EVENTS, old) > 0
    result = run_bot(db_url, "logs", "purge", "--older-than", "30", "--include-open")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Deleted ") and "older than 30 days" in result.stdout
    assert "red flag not yet closed" in result.stdout or "red flags not yet closed" in result.stdout
    for table in (EVENTS, RedFlagEvent, CallbackRequest):
        assert _rows(db_url, table, old) == 0
    assert _rows(db_url, EVENTS, recent) > 0
    entry = audit_rows(db_url, "logs.purge")[-1]
    assert entry.actor.startswith("cli:") and json.loads(entry.detail)["events"] >= 4
    bad = run_bot(db_url, "logs", "purge", "--older-than", "0")
    assert bad.returncode == 2 and "from 1 to 36,500" in bad.stderr


def test_logs_forget_deletes_one_person(db_url):
    gone, kept = new_sender("gone"), new_sender("kept")
    [mid] = store_conversation(db_url, gone, [user("please forget me"), bot("OK.")])
    store_conversation(db_url, kept, [user("keep me")])
    add_red_flag(db_url, gone, mid)
    add_callback(db_url, gone)
    with session_scope(db_url) as s:
        s.add(Annotation(sender_id=gone, event_id=1, message_text="please forget me", correct_intent="stop",
                         annotated_by="x"))
    result = run_bot(db_url, "logs", "forget", gone)
    assert result.returncode == 0, result.stderr
    assert f"Forgot '{gone}': deleted" in result.stdout and "1 red flag," in result.stdout
    for table in (EVENTS, RedFlagEvent, CallbackRequest, Annotation):
        assert _rows(db_url, table, gone) == 0
    assert _rows(db_url, EVENTS, kept) > 0
    entry = audit_rows(db_url, "logs.forget")[-1]
    assert entry.actor.startswith("cli:") and json.loads(entry.detail)["callbacks"] == 1
    assert entry.target.startswith("forgotten-") and not audit_rows(db_url, "logs.forget", target=gone)
    again = run_bot(db_url, "logs", "forget", gone)
    assert "nothing deleted" in again.stdout
