"""The console's data layer on SQLite and PostgreSQL: what staff see, find, export, purge and forget."""
from __future__ import annotations

import csv
import io
import json
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.store import annotations, conversations, followup, retention, staff
from bot.store.conversations import EVENTS, ConversationFilter
from bot.store.db import session_scope
from bot.store.models import Annotation, AuditEntry, CallbackRequest, RedFlagEvent, StaffUser
from console_support import (add_callback, add_red_flag, audit_rows, bot, db_url, new_sender, store_conversation,
                             token, user, utc_days_ago)

DAY = 86400.0


def listed(url, **filters):
    with session_scope(url) as s:
        page = conversations.list_conversations(s, ConversationFilter(**filters), per_page=100)
        return {c.sender_id: c for c in page.items}


# --- list, badges, filters -----------------------------------------------------------------------

def test_list_shows_start_last_message_channel_turns_and_badges(db_url):
    word = token()
    t0 = time.time() - 3600
    emergency, handoff, fallback, plain = (new_sender(p) for p in ("em", "ho", "fb", "pl"))
    [mid] = store_conversation(db_url, emergency, [user(f"{word} I can't control my bladder", "symptom_check", at=t0),
                                                   bot("Go to the emergency room now.", "utter_red_flag_emergency", at=t0 + 5)])
    add_red_flag(db_url, emergency, mid)
    store_conversation(db_url, handoff, [user(f"{word} can I book an appointment", "handoff_appointment"),
                                         bot("Please call the clinic.", "utter_handoff_appointment"),
                                         user(f"{word} please call me back", "request_callback")], channel="telegram")
    add_callback(db_url, handoff)
    store_conversation(db_url, fallback, [user(f"{word} asdf qwer", "nlu_fallback", 0.2)])
    store_conversation(db_url, plain, [user(f"{word} hello", "greet"), bot("Hello!", "utter_greet")])

    rows = listed(db_url, text=word)
    assert set(rows) == {emergency, handoff, fallback, plain}
    assert rows[emergency].badges == ["EMERGENCY"]
    assert rows[emergency].open_red_flags == 1
    assert rows[emergency].turns == 1
    assert rows[emergency].last_message - rows[emergency].started == timedelta(seconds=5)
    assert rows[handoff].badges == ["handoff", "callback"]
    assert rows[handoff].channel == "telegram" and rows[handoff].turns == 2
    assert rows[fallback].badges == ["fallback"]
    assert rows[plain].badges == [] and rows[plain].channel == "rest"

    assert set(listed(db_url, text=word, badges=("EMERGENCY",))) == {emergency}
    assert set(listed(db_url, text=word, badges=("handoff",))) == {handoff}
    assert set(listed(db_url, text=word, badges=("callback",))) == {handoff}
    assert set(listed(db_url, text=word, badges=("fallback",))) == {fallback}
    assert set(listed(db_url, text=word, badges=("CRISIS", "URGENT"))) == set()
    assert set(listed(db_url, text=word, badges=("EMERGENCY", "fallback"))) == {emergency, fallback}


def test_each_tier_is_its_own_badge(db_url):
    word = token()
    crisis, urgent = new_sender("cr"), new_sender("ur")
    [m1] = store_conversation(db_url, crisis, [user(f"{word} I want to end it all", "red_flag_crisis")])
    [m2] = store_conversation(db_url, urgent, [user(f"{word} my wound is leaking pus", "red_flag_urgent")])
    add_red_flag(db_url, crisis, m1, tier="CRISIS", category="suicidal", matched_text="end it all")
    add_red_flag(db_url, urgent, m2, tier="URGENT", category="wound", matched_text="leaking pus")
    assert set(listed(db_url, text=word, badges=("CRISIS",))) == {crisis}
    assert set(listed(db_url, text=word, badges=("URGENT",))) == {urgent}
    assert set(listed(db_url, text=word, badges=("EMERGENCY",))) == set()


def test_search_is_case_insensitive_covers_bot_text_and_treats_wildcards_literally(db_url):
    word = token()
    a, b, c = new_sender(), new_sender(), new_sender()
    store_conversation(db_url, a, [user(f"My LEG goes numb {word}"), bot(f"Numbness can have many causes {word}x")])
    store_conversation(db_url, b, [user(f"it is 100% worse {word}")])
    store_conversation(db_url, c, [user(f"it is 100 times worse {word}")])
    assert set(listed(db_url, text=f"leg goes NUMB {word}")) == {a}
    assert set(listed(db_url, text=f"many causes {word}x")) == {a}
    assert set(listed(db_url, text=f"100% worse {word}")) == {b}
    assert listed(db_url, text="parse_data") == {}  # the JSON keys of stored events are not message text
    assert set(listed(db_url, text=a)) == {a}  # a pasted conversation id finds it


def _turns(url, sender):
    with session_scope(url) as s:
        return conversations.transcript(s, sender).turns


def test_search_finds_accented_and_quoted_text(db_url):
    word = token()
    sender = new_sender()
    store_conversation(db_url, sender, [user(f'the "café" exercise {word} hurt my back')])
    assert set(listed(db_url, text=f'"café" exercise {word}')) == {sender}


def test_date_range_uses_the_clinic_days(db_url):
    word = token()
    old, recent = new_sender("old"), new_sender("new")
    ten_days_ago = time.time() - 10 * DAY
    store_conversation(db_url, old, [user(f"{word} old", at=ten_days_ago)])
    store_conversation(db_url, recent, [user(f"{word} new")])
    tz = "America/New_York"
    today = datetime.now(ZoneInfo(tz)).date()
    old_day = datetime.fromtimestamp(ten_days_ago, ZoneInfo(tz)).date()
    assert set(listed(db_url, text=word, date_from=today - timedelta(days=2), timezone=tz)) == {recent}
    assert set(listed(db_url, text=word, date_to=today - timedelta(days=2), timezone=tz)) == {old}
    assert set(listed(db_url, text=word, date_from=old_day, date_to=old_day, timezone=tz)) == {old}
    assert set(listed(db_url, text=word, date_from=old_day, date_to=today, timezone=tz)) == {old, recent}


def test_pagination_is_newest_first_without_gaps_or_repeats(db_url):
    word = token()
    base = time.time() - 1000
    senders = [new_sender("pg") for _ in range(30)]
    for i, sender in enumerate(senders):
        store_conversation(db_url, sender, [user(f"{word} number {i}", at=base + i)])
    with session_scope(db_url) as s:
        first = conversations.list_conversations(s, ConversationFilter(text=word), page=1, per_page=25)
        second = conversations.list_conversations(s, ConversationFilter(text=word), page=2, per_page=25)
    assert first.total == 30 and first.pages == 2
    assert [c.sender_id for c in first.items] == senders[::-1][:25]
    assert [c.sender_id for c in second.items] == senders[::-1][25:]


def test_conversations_without_a_user_message_are_not_listed(db_url):
    sender = new_sender()
    store_conversation(db_url, sender, [])
    assert sender not in listed(db_url, text=sender)


# --- transcript ----------------------------------------------------------------------------------

def test_transcript_has_turns_in_order_with_intent_confidence_and_highlighted_red_flags(db_url):
    sender = new_sender()
    text = "Since yesterday I can't control my bladder and my legs are weak"
    mid, _ = store_conversation(db_url, sender, [
        user(text, "symptom_check", 0.83, red_flags=[{"tier": "EMERGENCY", "category": "leg_weakness",
                                                       "start": text.index("my legs are weak"), "end": len(text)}]),
        bot("Please go to the nearest emergency room now.", "utter_red_flag_emergency"),
        user("ok thanks", "thank", 0.97),
    ])
    add_red_flag(db_url, sender, mid, matched_text="CAN'T CONTROL MY BLADDER")
    turns = _turns(db_url, sender)
    assert [t.kind for t in turns] == ["user", "bot", "user"]
    first = turns[0]
    assert (first.intent, round(first.confidence, 2), first.channel) == ("symptom_check", 0.83, "rest")
    assert [s.text for s in first.segments if s.marked] == ["can't control my bladder", "my legs are weak"]
    assert "".join(s.text for s in first.segments) == text
    assert {(f["tier"], f["category"]) for f in first.red_flags} == {("EMERGENCY", "bladder_bowel"),
                                                                     ("EMERGENCY", "leg_weakness")}
    assert turns[1].response == "utter_red_flag_emergency" and not any(s.marked for s in turns[1].segments)
    assert turns[2].red_flags == [] and [s.marked for s in turns[2].segments] == [False]
    assert first.at <= turns[1].at <= turns[2].at


def test_a_red_flag_the_classifier_alone_recognised_highlights_no_words(db_url):
    sender = new_sender()
    text = "everything went numb down there"
    [mid] = store_conversation(db_url, sender, [user(text, "symptom_check", 0.7)])
    add_red_flag(db_url, sender, mid, category="recognised_by_classifier", matched_text=text)
    [turn] = _turns(db_url, sender)
    assert [(s.text, s.marked) for s in turn.segments] == [(text, False)]
    assert turn.red_flags == [{"tier": "EMERGENCY", "category": "recognised_by_classifier"}]


def test_segments_merge_overlapping_matches():
    pieces = conversations.segments("numb groin and numb legs", [(0, 10), (5, 11), (15, 24)])
    assert [(p.text, p.marked) for p in pieces] == [("numb groin ", True), ("and ", False), ("numb legs", True)]


def test_unknown_conversation_has_no_transcript(db_url):
    with session_scope(db_url) as s:
        assert conversations.transcript(s, "no-such-sender") is None


# --- follow-up queues ----------------------------------------------------------------------------

def test_status_change_records_who_and_when_and_is_audited(db_url):
    sender = new_sender()
    [mid] = store_conversation(db_url, sender, [user("I can't feel the toilet paper")])
    flag_id = add_red_flag(db_url, sender, mid, matched_text="can't feel the toilet paper")
    callback_id = add_callback(db_url, sender)
    with session_scope(db_url) as s:
        followup.set_status(s, "red_flag", flag_id, "acknowledged", "nurse.kim", ip="10.0.0.7")
        followup.set_status(s, "callback", callback_id, "contacted", "nurse.kim", ip="10.0.0.7")
        with pytest.raises(followup.FollowUpError):
            followup.set_status(s, "callback", callback_id, "acknowledged", "nurse.kim")
    with session_scope(db_url) as s:
        flag = s.get(RedFlagEvent, flag_id)
        assert (flag.status, flag.status_by) == ("acknowledged", "nurse.kim")
        assert abs((flag.status_at - datetime.now(timezone.utc).replace(tzinfo=None)).total_seconds()) < 60
        assert s.get(CallbackRequest, callback_id).status == "contacted"
    [row] = audit_rows(db_url, "red_flag.status", target=sender)
    assert (row.actor, row.ip) == ("nurse.kim", "10.0.0.7")
    assert json.loads(row.detail) == {"id": flag_id, "from": "new", "to": "acknowledged"}


def test_red_flag_queue_puts_new_emergencies_first(db_url):
    senders = [new_sender() for _ in range(3)]
    ids = []
    for sender, tier in zip(senders, ("URGENT", "EMERGENCY", "CRISIS")):
        [mid] = store_conversation(db_url, sender, [user("...")])
        ids.append(add_red_flag(db_url, sender, mid, tier=tier))
    with session_scope(db_url) as s:
        followup.set_status(s, "red_flag", ids[1], "closed", "x")
        order = [r.id for r in followup.queue(s, "red_flag", "all") if r.id in ids]
        open_ids = [r.id for r in followup.queue(s, "red_flag") if r.id in ids]
    assert order == [ids[2], ids[0], ids[1]]  # new CRISIS, new URGENT, then the closed EMERGENCY
    assert open_ids == [ids[2], ids[0]]


# --- annotations ---------------------------------------------------------------------------------

def test_annotations_export_as_rasa_nlu_yaml_that_rasa_reads(db_url):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    sender = new_sender()
    store_conversation(db_url, sender, [user("when r u open", "greet", 0.41), bot("Hello!"),
                                        user("bye\nfor now", "thank", 0.5)])
    event_ids = [t.event_id for t in _turns(db_url, sender) if t.kind == "user"]
    intents = ["goodbye", "greet", "handoff_hours"]
    with session_scope(db_url) as s:
        annotations.save(s, sender, event_ids[0], "greet", "ann", intents=intents)
        annotations.save(s, sender, event_ids[0], "handoff_hours", "ann", intents=intents)  # a second thought
        annotations.save(s, sender, event_ids[1], "goodbye", "ann", intents=intents)
        with pytest.raises(annotations.AnnotationError):
            annotations.save(s, sender, event_ids[1], "made_up_intent", "ann", intents=intents)
        with pytest.raises(annotations.AnnotationError):
            annotations.save(s, "someone-else", event_ids[1], "goodbye", "ann", intents=intents)
        assert s.query(Annotation).filter(Annotation.sender_id == sender).count() == 2
        text = annotations.nlu_yaml(s)
    data = RasaYAMLReader().reads(text)
    examples = {(m.get("intent"), m.get("text")) for m in data.intent_examples}
    assert ("handoff_hours", "when r u open") in examples
    assert ("goodbye", "bye for now") in examples
    assert ("greet", "when r u open") not in examples
    assert len(audit_rows(db_url, "annotation.save", target=sender)) == 3


def test_any_stored_text_exports_as_csv_and_yaml_that_parse(db_url):
    """A NUL byte once broke the CSV export for everyone and made the annotations YAML unreadable."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    word = token()
    sender = new_sender()
    store_conversation(db_url, sender, [user(f"{word} my\x00 back\x1b[31m hurts\x07", "greet", 0.4,
                                             metadata={"x": float("nan"), "\x00key": float("inf")}), bot("Hello!")])
    with session_scope(db_url) as s:  # one such message once broke every staff search
        assert [c.sender_id for c in conversations.list_conversations(s, ConversationFilter(text=word)).items] == [sender]
    [event_id] = [t.event_id for t in _turns(db_url, sender) if t.kind == "user"]
    with session_scope(db_url) as s:
        annotations.save(s, sender, event_id, "greet", "ann", intents=["greet"])
        text = "".join(retention.csv_chunks(retention.export_messages(s, ConversationFilter(text=word))))
        nlu = annotations.nlu_yaml(s)
    [row, _] = list(csv.DictReader(io.StringIO(text)))
    assert row["text"] == f"{word} my back[31m hurts"
    examples = {(m.get("intent"), m.get("text")) for m in RasaYAMLReader().reads(nlu).intent_examples}
    assert ("greet", f"{word} my back[31m hurts") in examples


def test_annotation_choices_are_the_domain_intents():
    names = annotations.known_intents()
    assert "greet" in names and "nlu_fallback" not in names


# --- export, purge, forget -----------------------------------------------------------------------

def test_export_of_a_filter_has_every_message_of_matching_conversations(db_url):
    word = token()
    match, other = new_sender(), new_sender()
    [mid] = store_conversation(db_url, match, [user(f"=HYPERLINK(\"http://x\") {word} my bladder", "symptom_check"),
                                               bot("Go to the emergency room now.", "utter_red_flag_emergency")],
                               channel="twilio")
    add_red_flag(db_url, match, mid)
    store_conversation(db_url, other, [user(f"{word} hello")])
    with session_scope(db_url) as s:
        flt = ConversationFilter(text=word, badges=("EMERGENCY",))
        text = "".join(retention.csv_chunks(retention.export_messages(s, flt)))
        lines = list(retention.jsonl_chunks(retention.export_messages(s, flt)))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["sender_id"], r["speaker"]) for r in rows] == [(match, "user"), (match, "bot")]
    assert rows[0]["text"].startswith("'=HYPERLINK")  # spreadsheet formulas are neutralised
    assert rows[0]["intent"] == "symptom_check" and rows[0]["red_flags"] == "EMERGENCY:bladder_bowel"
    assert rows[1]["channel"] == "twilio" and rows[1]["response"] == "utter_red_flag_emergency"
    as_json = [json.loads(line) for line in lines]
    assert as_json[0]["text"].startswith("=HYPERLINK")  # JSON keeps the exact text
    assert as_json[1]["speaker"] == "bot"


def test_export_since_keeps_only_newer_messages(db_url):
    word = token()
    sender = new_sender()
    store_conversation(db_url, sender, [user(f"{word} old", at=time.time() - 5 * DAY), user(f"{word} new", at=time.time())])
    with session_scope(db_url) as s:
        rows = [r for r in retention.export_messages(s, since=datetime.now(timezone.utc) - timedelta(days=1))
                if r["sender_id"] == sender]
    assert [r["text"] for r in rows] == [f"{word} new"]


def _count(url, table, sender):
    with session_scope(url) as s:
        column = table.c.sender_id if isinstance(table, sa.Table) else table.sender_id
        return s.execute(sa.select(sa.func.count()).select_from(
            table if isinstance(table, sa.Table) else table.__table__).where(column == sender)).scalar_one()


def test_purge_deletes_old_events_and_rows_but_keeps_recent_ones_and_the_audit_log(db_url):
    old, recent, mixed = new_sender("old"), new_sender("new"), new_sender("mix")
    [old_mid] = store_conversation(db_url, old, [user("old message", at=time.time() - 40 * DAY)])
    [new_mid] = store_conversation(db_url, recent, [user("recent message")])
    store_conversation(db_url, mixed, [user("first, long ago", at=time.time() - 45 * DAY), user("and again today", at=time.time())])
    add_red_flag(db_url, old, old_mid, created_at=utc_days_ago(40))
    add_red_flag(db_url, recent, new_mid)
    add_callback(db_url, old, created_at=utc_days_ago(40))
    old_event = [t.event_id for t in _turns(db_url, old) if t.kind == "user"][0]
    with session_scope(db_url) as s:
        annotations.save(s, old, old_event, "greet", "ann", intents=["greet"])  # annotated today, message is old
        s.add(AuditEntry(actor="old-actor", action="transcript.view", target=old, at=utc_days_ago(400)))

    with session_scope(db_url) as s:
        preview = retention.purge_older_than(s, 30, "admin-x", dry_run=True, include_open=True)
    assert _count(db_url, EVENTS, old) > 0  # a dry run deletes nothing
    with session_scope(db_url) as s:
        counts = retention.purge_older_than(s, 30, "admin-x", ip="127.0.0.1", include_open=True)
    assert counts == preview
    assert counts["events"] >= 4 and counts["red_flags"] >= 1 and counts["callbacks"] >= 1
    assert counts["annotations"] >= 1 and counts["unclosed_red_flags"] >= 1

    for table in (EVENTS, RedFlagEvent, CallbackRequest, Annotation):
        assert _count(db_url, table, old) == 0
    assert _count(db_url, EVENTS, recent) > 0 and _count(db_url, RedFlagEvent, recent) == 1
    with session_scope(db_url) as s:
        mixed_texts = [t.text for t in conversations.transcript(s, mixed).turns if t.kind == "user"]
    assert mixed_texts == ["and again today"]
    assert audit_rows(db_url, "transcript.view", target=old, actor="old-actor")  # the audit log stays
    row = audit_rows(db_url, "logs.purge", actor="admin-x")[-1]
    assert json.loads(row.detail)["events"] == counts["events"] and row.ip == "127.0.0.1"


def test_purge_holds_back_conversations_whose_red_flag_or_callback_is_still_open(db_url):
    open_flag, open_callback, closed = new_sender("openrf"), new_sender("opencb"), new_sender("closed")
    [flag_mid] = store_conversation(db_url, open_flag, [user("old emergency", at=time.time() - 60 * DAY)])
    store_conversation(db_url, open_callback, [user("old callback", at=time.time() - 60 * DAY)])
    [closed_mid] = store_conversation(db_url, closed, [user("old and handled", at=time.time() - 60 * DAY)])
    add_red_flag(db_url, open_flag, flag_mid, created_at=utc_days_ago(60))
    add_callback(db_url, open_callback, created_at=utc_days_ago(60))
    add_red_flag(db_url, closed, closed_mid, created_at=utc_days_ago(60))
    with session_scope(db_url) as s:
        s.query(RedFlagEvent).filter_by(sender_id=closed).update({"status": "closed", "status_by": "nurse"})
    with session_scope(db_url) as s:
        counts = retention.purge_older_than(s, 30, "admin-y")
    assert counts["held_open_conversations"] >= 2 and counts["unclosed_red_flags"] == 0
    assert _count(db_url, EVENTS, open_flag) > 0 and _count(db_url, RedFlagEvent, open_flag) == 1
    assert _count(db_url, EVENTS, open_callback) > 0 and _count(db_url, CallbackRequest, open_callback) == 1
    assert _count(db_url, EVENTS, closed) == 0 and _count(db_url, RedFlagEvent, closed) == 0
    assert "held back" in retention.describe_counts(counts)


def test_purge_refuses_zero_or_negative_days(db_url):
    with session_scope(db_url) as s:
        for days in (0, -3):
            with pytest.raises(retention.RetentionError):
                retention.purge_older_than(s, days, "x")


def test_forget_deletes_one_person_and_nothing_else(db_url):
    gone, kept = new_sender("gone"), new_sender("kept")
    [mid] = store_conversation(db_url, gone, [user("I can't control my bladder"), bot("Go to the ER.")])
    [kept_mid] = store_conversation(db_url, kept, [user("hello")])
    add_red_flag(db_url, gone, mid)
    add_callback(db_url, gone)
    add_red_flag(db_url, kept, kept_mid)
    event_id = [t.event_id for t in _turns(db_url, gone) if t.kind == "user"][0]
    with session_scope(db_url) as s:
        annotations.save(s, gone, event_id, "greet", "ann", intents=["greet"])
        counts = retention.forget_sender(s, gone, "admin-y", ip="10.1.1.1")
    assert counts["red_flags"] == 1 and counts["callbacks"] == 1 and counts["annotations"] == 1
    assert counts["events"] >= 5
    for table in (EVENTS, RedFlagEvent, CallbackRequest, Annotation):
        assert _count(db_url, table, gone) == 0
    assert _count(db_url, EVENTS, kept) > 0 and _count(db_url, RedFlagEvent, kept) == 1
    row = audit_rows(db_url, "logs.forget", actor="admin-y")[-1]
    assert json.loads(row.detail) == counts and row.target.startswith("forgotten-")
    # the record of what was done stays, under the same pseudonym; the id (perhaps a phone number) goes
    assert audit_rows(db_url, "annotation.save", target=row.target)
    assert not audit_rows(db_url, "annotation.save", target=gone) and not audit_rows(db_url, "logs.forget", target=gone)


# --- staff accounts ------------------------------------------------------------------------------

def _new_user(url, role="staff"):
    from console_support import STRONG_PASSWORD, add_user

    return add_user(url, role), STRONG_PASSWORD


def test_passwords_are_argon2_hashes_and_short_ones_are_refused(db_url):
    name, password = _new_user(db_url)
    with session_scope(db_url) as s:
        stored = staff.find_user(s, name).password_hash
        assert stored.startswith("$argon2id$") and password not in stored
        with pytest.raises(staff.StaffError):
            staff.create_user(s, "shorty", "elevenchars", "staff")
        with pytest.raises(staff.StaffError):
            staff.create_user(s, name, password, "staff")  # duplicate


def test_repeated_failures_lock_the_account_for_fifteen_minutes(db_url):
    name, password = _new_user(db_url)
    now = datetime(2030, 1, 1, 12, 0)
    limit = staff.MAX_FAILED_LOGINS
    with session_scope(db_url) as s:
        outcomes = [staff.authenticate(s, name, "wrong password!", now=now).outcome for _ in range(limit)]
        assert outcomes == ["invalid"] * (limit - 1) + ["locked"]
        assert staff.authenticate(s, name, password, now=now + timedelta(minutes=14)).outcome == "locked"
        assert staff.authenticate(s, name, password, now=now + timedelta(minutes=16)).outcome == "ok"
        assert staff.find_user(s, name).failed_logins == 0


def test_hashing_waits_for_a_free_slot_and_says_busy_when_none_comes(db_url, monkeypatch):
    """argon2 takes 64 MB a hash: at most HASHING_AT_ONCE run at once, the rest wait, then give up."""
    name, password = _new_user(db_url)
    monkeypatch.setattr(staff, "HASHING_WAIT_SECONDS", 0.2)
    taken = [staff._hashing_slots.acquire(timeout=5) for _ in range(staff.HASHING_AT_ONCE)]
    try:
        assert all(taken)
        with session_scope(db_url) as s, pytest.raises(staff.HashingBusy):
            staff.authenticate(s, name, password)
    finally:
        for _ in taken:
            staff._hashing_slots.release()
    with session_scope(db_url) as s:
        assert staff.authenticate(s, name, password).ok
        assert staff.find_user(s, name).failed_logins == 0  # a busy refusal is not a failure


def test_a_success_resets_the_failure_count(db_url):
    name, password = _new_user(db_url)
    with session_scope(db_url) as s:
        for _ in range(4):
            staff.authenticate(s, name, "nope nope nope")
        assert staff.authenticate(s, name, password).ok
        assert [staff.authenticate(s, name, "nope nope nope").outcome for _ in range(4)] == ["invalid"] * 4


def test_sessions_end_when_idle_disabled_or_signed_out(db_url):
    name, _ = _new_user(db_url)
    with session_scope(db_url) as s:
        user_row = staff.find_user(s, name)
        token, row = staff.start_session(s, user_row)
        start = row.created_at
        assert staff.load_session(s, token, now=start + timedelta(minutes=29))[0].username == name
        assert staff.load_session(s, token, now=start + timedelta(minutes=29 + 31)) is None  # idle too long
        token, _ = staff.start_session(s, user_row)
        staff.set_active(s, user_row, False)
        assert staff.load_session(s, token) is None
        staff.set_active(s, user_row, True)
        token, _ = staff.start_session(s, user_row)
        staff.end_session(s, token)
        assert staff.load_session(s, token) is None


def test_the_last_admin_cannot_be_demoted_or_disabled(db_url):
    with session_scope(db_url) as s:
        for other in s.query(StaffUser).filter(StaffUser.role == "admin"):
            other.role = "staff"  # this test needs a single admin; rolled back below
        s.flush()
        admin = staff.create_user(s, f"only-admin-{time.time_ns()}", "a long enough password", "admin")
        with pytest.raises(staff.StaffError):
            staff.set_role(s, admin, "staff")
        with pytest.raises(staff.StaffError):
            staff.set_active(s, admin, False)
        second = staff.create_user(s, f"second-admin-{time.time_ns()}", "a long enough password", "admin")
        staff.set_role(s, admin, "staff")  # with another admin it is allowed
        assert admin.role == "staff" and second.role == "admin"
        s.rollback()
