"""The console over HTTP (the real server process) on SQLite and PostgreSQL: access control, CSRF,
escaping, roles, follow-up, exports and the audit rows they leave."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest

from bot.store.db import session_scope
from bot.store.models import RedFlagEvent, StaffSession, StaffUser, utcnow
from bot.store.conversations import EVENTS
from bot.web.console import LOGIN_REFUSED
from console_support import (STRONG_PASSWORD, ConsoleClient, add_callback, add_red_flag, add_user, audit_rows, bot,
                             console_url, db_url, new_sender, signed_in, store_conversation, token, user)

# Every page and form of the console (path, method). {sid} is replaced by a real conversation id.
PAGES = [
    ("/", "GET"), ("/conversations", "GET"), ("/conversations/{sid}", "GET"), ("/red-flags", "GET"),
    ("/callbacks", "GET"), ("/annotations", "GET"), ("/users", "GET"), ("/audit", "GET"), ("/retention", "GET"),
    ("/export/conversations.csv", "GET"), ("/export/annotations.yml", "GET"),
    ("/logout", "POST"), ("/annotate", "POST"), ("/red-flags/1/status", "POST"), ("/callbacks/1/status", "POST"),
    ("/users", "POST"), ("/users/1", "POST"), ("/retention/purge", "POST"), ("/retention/forget", "POST"),
]
ADMIN_ONLY = [
    ("/users", "GET"), ("/audit", "GET"), ("/retention", "GET"), ("/export/conversations.csv", "GET"),
    ("/export/annotations.yml", "GET"), ("/users", "POST"), ("/users/1", "POST"), ("/retention/purge", "POST"),
    ("/retention/forget", "POST"),
]


@pytest.fixture
def conversation(db_url):
    """A conversation with an emergency red flag and a callback request."""
    sender = new_sender("web")
    [mid] = store_conversation(db_url, sender, [user("I can't control my bladder since this morning", "symptom_check"),
                                                bot("Go to the nearest emergency room now.", "utter_red_flag_emergency")])
    return {"sender": sender, "red_flag": add_red_flag(db_url, sender, mid), "callback": add_callback(db_url, sender)}


def test_every_page_redirects_to_login_when_signed_out(console_url, conversation):
    client = ConsoleClient(console_url)
    for path, method in PAGES:
        path = path.replace("{sid}", conversation["sender"])
        response = client.get(path) if method == "GET" else client.post(path, {"status": "closed"})
        assert response.status_code == 303, (path, method, response.status_code)
        assert response.headers["location"].startswith("/login"), (path, response.headers["location"])
    # after signing in, the person lands on the page they asked for
    response = client.get(f"/conversations/{conversation['sender']}")
    assert response.headers["location"] == f"/login?next=%2Fconversations%2F{conversation['sender']}"


def test_login_page_form_and_a_successful_sign_in(console_url, db_url):
    client = ConsoleClient(console_url)
    page = client.get("/login").text
    assert re.search(r'<label for="username">Username</label>', page)
    assert re.search(r'<label for="password">Password</label>', page)
    assert '<button type="submit">Sign in</button>' in page
    name = add_user(db_url)
    response = client.login(name)
    assert response.status_code == 303 and response.headers["location"] == "/conversations"
    cookie = response.headers["set-cookie"]
    assert "console_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/conversations").status_code == 200
    [row] = audit_rows(db_url, "login.success", actor=name)
    assert row.ip == "127.0.0.1"


def test_wrong_password_is_refused_and_audited(console_url, db_url):
    client = ConsoleClient(console_url)
    name = add_user(db_url)
    response = client.login(name, "not the password at all")
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert "console_session" not in response.headers.get("set-cookie", "")
    assert client.get("/conversations").status_code == 303
    response = client.login("nobody-" + name, "not the password at all")
    assert "Wrong username or password." in response.text  # same answer: no user enumeration
    [row] = audit_rows(db_url, "login.failure", target=name)
    assert json.loads(row.detail) == {"reason": "wrong password"} and row.ip == "127.0.0.1"


def test_five_wrong_passwords_from_one_address_pause_that_name_until_an_admin_unlocks_it(console_url, db_url):
    client = ConsoleClient(console_url)
    name = add_user(db_url)
    for _ in range(5):
        response = client.login(name, "wrong wrong wrong")
        assert response.status_code == 401 and LOGIN_REFUSED in response.text
    response = client.login(name)  # the right password, while paused: refused the same way, not checked
    assert response.status_code == 401 and LOGIN_REFUSED in response.text
    assert len(audit_rows(db_url, "login.failure", target=name)) == 5
    assert len(audit_rows(db_url, "login.throttled", target=name)) == 1
    colleague = add_user(db_url)
    assert client.login(colleague).status_code == 303  # the name is paused, not the machine
    with session_scope(db_url) as s:
        user = s.query(StaffUser).filter_by(username=name).one()
        user_id, failed = user.id, user.failed_logins
    assert failed == 5  # far from the account-wide lock: one address cannot lock a colleague out

    admin = signed_in(console_url, db_url, "admin")
    assert admin.submit(f"/users/{user_id}", {"action": "unlock"}, page="/users").status_code == 303
    assert ConsoleClient(console_url).login(name).status_code == 303
    assert audit_rows(db_url, "user.update", target=name)[-1].actor == admin.username


def test_signing_in_as_someone_else_ends_the_first_session(console_url, db_url):
    client = signed_in(console_url, db_url)
    first_cookie = client.http.cookies.get("console_session")
    other = add_user(db_url)  # signed in, /login redirects: the token comes from the page the person is on
    response = client.post("/login", {"username": other, "password": STRONG_PASSWORD, "csrf_token": client.csrf()})
    assert response.status_code == 303
    assert client.http.cookies.get("console_session") != first_cookie
    replay = ConsoleClient(console_url)
    replay.http.cookies.set("console_session", first_cookie)
    assert replay.get("/conversations").status_code == 303  # to the sign-in page: that session is over


def test_a_locked_account_and_an_unknown_name_get_the_same_answer(console_url, db_url):
    name = add_user(db_url)
    with session_scope(db_url) as s:
        s.query(StaffUser).filter_by(username=name).one().locked_until = utcnow() + timedelta(minutes=10)
    locked = ConsoleClient(console_url).login(name)
    unknown = ConsoleClient(console_url).login("nobody-" + name)
    wrong = ConsoleClient(console_url).login(add_user(db_url), "not the password at all")
    assert locked.status_code == unknown.status_code == wrong.status_code == 401
    messages = {re.search(r'role="alert">([^<]*)<', r.text).group(1) for r in (locked, unknown, wrong)}
    assert messages == {LOGIN_REFUSED}
    assert len(audit_rows(db_url, "login.locked", target=name)) == 1  # staff still see why


def test_a_post_without_the_csrf_token_is_refused(console_url, db_url, conversation):
    client = signed_in(console_url, db_url)
    path = f"/red-flags/{conversation['red_flag']}/status"
    assert client.post(path, {"status": "acknowledged"}).status_code == 403
    assert client.post(path, {"status": "acknowledged", "csrf_token": "forged"}).status_code == 403
    other = signed_in(console_url, db_url)  # another person's valid token is not this session's
    assert client.post(path, {"status": "acknowledged", "csrf_token": other.csrf()}).status_code == 403
    cross_site = client.post(path, {"status": "acknowledged", "csrf_token": client.csrf()},
                             headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403
    null_origin = client.post(path, {"status": "acknowledged", "csrf_token": client.csrf()}, headers={"Origin": "null"})
    assert null_origin.status_code == 403
    with session_scope(db_url) as s:
        assert s.get(RedFlagEvent, conversation["red_flag"]).status == "new"
    # what a browser sends from the console's own page is accepted
    own_page = client.post(path, {"status": "acknowledged", "csrf_token": client.csrf()}, headers={"Origin": console_url})
    assert own_page.status_code == 303
    # the login form is protected too
    anonymous = ConsoleClient(console_url)
    assert anonymous.post("/login", {"username": client.username, "password": STRONG_PASSWORD}).status_code == 403


def test_script_in_a_transcript_is_shown_as_text(console_url, db_url):
    sender = new_sender("xss")
    store_conversation(db_url, sender, [user('<script>alert(1)</script><img src=x onerror="alert(2)">', "greet")])
    client = signed_in(console_url, db_url)
    page = client.get(f"/conversations/{sender}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in page
    assert "<script" not in page and "<img" not in page


def test_staff_cannot_reach_admin_pages(console_url, db_url):
    client = signed_in(console_url, db_url, "staff")
    token_value = client.csrf()
    for path, method in ADMIN_ONLY:
        response = client.get(path) if method == "GET" else client.post(
            path, {"csrf_token": token_value, "days": "1", "confirm": "PURGE", "username": "x", "password": "y" * 20})
        assert response.status_code == 403, (path, method)
    assert "/users" not in client.get("/conversations").text.split("<main>")[0]  # no admin links in the menu


def test_staff_purge_attempt_changes_nothing(console_url, db_url, conversation):
    client = signed_in(console_url, db_url, "staff")
    response = client.submit("/retention/forget", {"sender_id": conversation["sender"], "confirm": conversation["sender"]})
    assert response.status_code == 403
    with session_scope(db_url) as s:
        assert s.get(RedFlagEvent, conversation["red_flag"]) is not None
    assert not audit_rows(db_url, "logs.forget", target=conversation["sender"])


def test_acknowledge_and_close_record_who_and_when(console_url, db_url, conversation):
    client = signed_in(console_url, db_url, "staff")
    sender, flag = conversation["sender"], conversation["red_flag"]
    response = client.submit(f"/red-flags/{flag}/status", {"status": "acknowledged", "next": f"/conversations/{sender}"})
    assert response.status_code == 303 and response.headers["location"] == f"/conversations/{sender}"
    page = client.get(f"/conversations/{sender}").text
    assert f"acknowledged</span>\n<span class=\"by\">by {client.username}" in page
    assert f"Marked acknowledged by {client.username}." in page
    client.submit(f"/callbacks/{conversation['callback']}/status", {"status": "contacted"})
    assert "contacted" in client.get("/callbacks?status=contacted").text
    with session_scope(db_url) as s:
        row = s.get(RedFlagEvent, flag)
        assert (row.status, row.status_by) == ("acknowledged", client.username) and row.status_at
    [entry] = audit_rows(db_url, "red_flag.status", target=sender)
    assert entry.actor == client.username and entry.ip == "127.0.0.1"
    assert audit_rows(db_url, "callback.status", target=sender)[0].actor == client.username


def test_red_flag_queue_lists_open_items_with_links(console_url, db_url, conversation):
    client = signed_in(console_url, db_url)
    page = client.get("/red-flags").text
    assert f'href="/conversations/{conversation["sender"]}"' in page
    assert "can&#39;t control my bladder" in page
    assert audit_rows(db_url, "red_flags.view", actor=client.username)


def test_viewing_a_transcript_is_audited(console_url, db_url, conversation):
    client = signed_in(console_url, db_url)
    page = client.get(f"/conversations/{conversation['sender']}").text
    assert "<mark>can&#39;t control my bladder</mark>" in page
    assert "symptom_check" in page and "0.90" in page
    [row] = audit_rows(db_url, "transcript.view", target=conversation["sender"])
    assert row.actor == client.username and row.ip == "127.0.0.1"
    assert client.get("/conversations/no-such-conversation").status_code == 404


def test_list_filters_and_search_through_the_page(console_url, db_url):
    word = token()
    emergency, plain = new_sender("em"), new_sender("pl")
    [mid] = store_conversation(db_url, emergency, [user(f"{word} numb between my legs", "symptom_check")])
    add_red_flag(db_url, emergency, mid, matched_text="numb between my legs")
    store_conversation(db_url, plain, [user(f"{word} what is this syndrome", "greet")])
    client = signed_in(console_url, db_url)
    page = client.get(f"/conversations?q={word}").text
    assert emergency in page and plain in page and "2 conversations" in page
    page = client.get(f"/conversations?q={word}&badge=EMERGENCY").text
    assert emergency in page and plain not in page and "1 conversation," in page
    page = client.get(f"/conversations?q={word}&from=not-a-date").text
    assert "is not a date" in page and emergency in page
    searches = audit_rows(db_url, "conversations.search", actor=client.username)
    assert json.loads(searches[0].detail)["text"] == "(withheld)"  # what was searched may be a name or number
    assert not [r for r in searches if word in (r.detail or "")]


def test_admin_exports_the_current_filter_as_csv_and_it_is_audited(console_url, db_url):
    word = token()
    emergency, plain = new_sender("em"), new_sender("pl")
    [mid] = store_conversation(db_url, emergency, [user(f"{word} I wet myself and can't feel my bum", "symptom_check"),
                                                   bot("Go to the emergency room now.", "utter_red_flag_emergency")])
    add_red_flag(db_url, emergency, mid, matched_text="wet myself")
    store_conversation(db_url, plain, [user(f"{word} hi", "greet")])
    admin = signed_in(console_url, db_url, "admin")
    assert f"/export/conversations.csv?badge=EMERGENCY&amp;q={word}" in admin.get(f"/conversations?badge=EMERGENCY&q={word}").text
    response = admin.get(f"/export/conversations.csv?badge=EMERGENCY&q={word}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["sender_id"], r["speaker"]) for r in rows] == [(emergency, "user"), (emergency, "bot")]
    assert rows[0]["text"] == f"{word} I wet myself and can't feel my bum"
    assert rows[0]["red_flags"] == "EMERGENCY:bladder_bowel"
    [row] = [r for r in audit_rows(db_url, "export.conversations", actor=admin.username)]
    assert json.loads(row.detail)["filter"] == {"badges": ["EMERGENCY"], "from": None, "to": None, "text": "(withheld)"}


def test_annotate_then_admin_exports_nlu_yaml(console_url, db_url):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    sender = new_sender("ann")
    store_conversation(db_url, sender, [user("wen r u open tmrw", "goodbye", 0.31)])
    staff_client = signed_in(console_url, db_url, "staff")
    page = staff_client.get(f"/conversations/{sender}").text
    event_id = re.search(r'name="event_id" value="(\d+)"', page).group(1)
    response = staff_client.submit("/annotate", {"sender_id": sender, "event_id": event_id, "intent": "greet"})
    assert response.status_code == 303
    assert "Corrected to <code>greet</code>" in staff_client.get(f"/conversations/{sender}").text
    staff_client.submit("/annotate", {"sender_id": sender, "event_id": event_id, "intent": "no_such_intent"})
    page = staff_client.get(f"/conversations/{sender}").text
    assert "Choose one of the assistant&#39;s intents." in page and "Corrected to <code>greet</code>" in page
    assert staff_client.get("/export/annotations.yml").status_code == 403
    admin = signed_in(console_url, db_url, "admin")
    response = admin.get("/export/annotations.yml")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    examples = {(m.get("intent"), m.get("text")) for m in RasaYAMLReader().reads(response.text).intent_examples}
    assert ("greet", "wen r u open tmrw") in examples
    assert audit_rows(db_url, "export.annotations", actor=admin.username)
    assert audit_rows(db_url, "annotation.save", target=sender)[0].actor == staff_client.username


def test_sign_out_ends_the_session_even_for_a_copied_cookie(console_url, db_url):
    client = signed_in(console_url, db_url)
    stolen = dict(client.http.cookies)
    assert client.submit("/logout", {}).headers["location"] == "/login"
    replay = ConsoleClient(console_url)
    replay.http.cookies.update(stolen)
    assert replay.get("/conversations").status_code == 303
    with session_scope(db_url) as s:
        user_id = s.query(StaffUser).filter_by(username=client.username).one().id
        assert s.query(StaffSession).filter_by(user_id=user_id).count() == 0
    assert audit_rows(db_url, "logout", actor=client.username)


def test_security_headers_on_every_page(console_url, db_url, conversation):
    client = signed_in(console_url, db_url)
    for path in ("/login", "/conversations", f"/conversations/{conversation['sender']}", "/red-flags"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script" not in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"
    assert "<script" not in client.get("/conversations").text


def test_admin_adds_a_user_who_can_then_sign_in(console_url, db_url):
    admin = signed_in(console_url, db_url, "admin")
    name = "new-" + token()
    short = admin.submit("/users", {"username": name, "password": "short", "role": "staff"}, page="/users")
    assert short.status_code == 303
    assert "at least 12 characters" in admin.get("/users").text
    response = admin.submit("/users", {"username": name, "password": "a brand new password", "role": "staff"}, page="/users")
    assert response.status_code == 303
    assert ConsoleClient(console_url).login(name, "a brand new password").status_code == 303
    [row] = audit_rows(db_url, "user.create", target=name)
    assert row.actor == admin.username and json.loads(row.detail) == {"role": "staff"}


def test_disabling_a_user_signs_them_out_at_once(console_url, db_url):
    admin = signed_in(console_url, db_url, "admin")
    victim = signed_in(console_url, db_url, "staff")
    with session_scope(db_url) as s:
        user_id = s.query(StaffUser).filter_by(username=victim.username).one().id
    assert admin.submit(f"/users/{user_id}", {"action": "deactivate"}, page="/users").status_code == 303
    assert victim.get("/conversations").status_code == 303
    assert victim.login(victim.username).status_code == 401


def test_admin_forgets_and_purges_from_the_console(console_url, db_url, conversation):
    admin = signed_in(console_url, db_url, "admin")
    sender = conversation["sender"]
    wrong = admin.submit("/retention/forget", {"sender_id": sender, "confirm": "not it"}, page="/retention")
    assert wrong.status_code == 303
    with session_scope(db_url) as s:
        assert s.get(RedFlagEvent, conversation["red_flag"]) is not None  # no confirmation, no deletion
    response = admin.submit("/retention/forget", {"sender_id": sender, "confirm": sender}, page="/retention")
    assert response.status_code == 303
    with session_scope(db_url) as s:
        assert s.execute(EVENTS.select().where(EVENTS.c.sender_id == sender)).first() is None
        assert s.get(RedFlagEvent, conversation["red_flag"]) is None
    assert admin.get(f"/conversations/{sender}").status_code == 404
    assert audit_rows(db_url, "logs.forget", actor=admin.username)[-1].target.startswith("forgotten-")
    assert not audit_rows(db_url, "logs.forget", target=sender)

    response = admin.submit("/retention/purge", {"days": "3650", "confirm": "PURGE"}, page="/retention")
    assert response.status_code == 303
    assert "Purged: 0 events" in admin.get("/retention").text
    row = audit_rows(db_url, "logs.purge", actor=admin.username)[-1]
    assert row.target == "older than 3650 days" and row.ip == "127.0.0.1"


def test_huge_numbers_and_dates_get_a_message_not_a_server_error(console_url, db_url):
    """Page numbers, ids, dates and purge days past any sensible range once answered HTTP 500."""
    admin = signed_in(console_url, db_url, "admin")
    huge = "9" * 30
    for path in (f"/conversations?page={huge}", f"/audit?page={huge}", "/conversations?page=-3", "/audit?page=abc"):
        response = admin.get(path)
        assert response.status_code == 400 and "Page must be a whole number from 1 to 10,000." in response.text, path
    listing = admin.get("/conversations?from=9999-12-31&to=0001-01-01")
    assert listing.status_code == 200
    assert "From date &#39;9999-12-31&#39; is outside 2000-2100; it was ignored." in listing.text
    assert "To date &#39;0001-01-01&#39; is outside 2000-2100; it was ignored." in listing.text
    status = admin.submit(f"/red-flags/{huge}/status", {"status": "acknowledged"}, page="/red-flags")
    assert status.status_code == 303
    assert "That item no longer exists" in admin.get(status.headers["location"]).text
    endless = "9" * 4301  # Starlette's int converter once raised on it: a 500 before any sign-in check
    assert ConsoleClient(console_url).post(f"/users/{endless}", {}).status_code in (303, 403)
    assert admin.submit(f"/red-flags/{endless}/status", {"status": "acknowledged"}, page="/red-flags").status_code == 303
    assert admin.get(f"/audit?page={endless}").status_code == 400
    user = admin.submit(f"/users/{huge}", {"action": "unlock"}, page="/users")
    assert user.status_code == 303 and "No such user." in admin.get(user.headers["location"]).text
    purge = admin.submit("/retention/purge", {"days": huge, "confirm": "PURGE"}, page="/retention")
    assert purge.status_code == 303 and "from 1 to 36,500 (100 years)" in admin.get(purge.headers["location"]).text


def test_the_console_on_this_machine_answers_only_its_own_names(console_url):
    """A page elsewhere could reach a loopback console by DNS rebinding (a Host of its own name)."""
    import requests

    assert requests.get(console_url + "/login", headers={"Host": "rebound.attacker.example"}, timeout=30).status_code == 400
    assert requests.get(console_url + "/login", timeout=30).status_code == 200
    port = console_url.rsplit(":", 1)[1]
    assert requests.get(console_url + "/login", headers={"Host": f"localhost:{port}"}, timeout=30).status_code == 200
