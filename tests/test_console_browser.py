"""The console with the whole product running: real conversations through the REST channel, then a
staff member in headless Chromium signs in, filters EMERGENCY, opens the transcript and acknowledges."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.store.db import session_scope
from bot.store.models import RedFlagEvent
from console_support import STRONG_PASSWORD, add_user, audit_rows, signed_in

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EMERGENCY_MESSAGE = "since this morning I can't control my bladder"


def test_a_script_sent_through_the_chat_is_shown_as_text(stack, chat, database_url):
    sender = chat.new_sender("xss")
    chat.send(sender, "<script>alert(1)</script>")
    client = signed_in(stack.cfg.console_url, database_url)
    page = client.get(f"/conversations/{sender}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make setup` as root (scripts/setup.d/chromium.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def test_staff_signs_in_filters_emergency_opens_the_transcript_and_acknowledges(
        stack, chat, database_url, browser, artifacts_dir):
    from playwright.sync_api import expect

    emergency, calm = chat.new_sender("browser-em"), chat.new_sender("browser-calm")
    chat.send(calm, "hi")
    chat.send(emergency, "hi")
    assert chat.joined(emergency, EMERGENCY_MESSAGE), "the assistant did not answer"
    chat.send(emergency, "<script>alert(1)</script>")
    with session_scope(database_url) as s:  # written by the tracker store's red-flag recorder
        flags = s.query(RedFlagEvent).filter_by(sender_id=emergency).order_by(RedFlagEvent.id).all()
        assert flags and flags[0].tier == "EMERGENCY", [(f.tier, f.category) for f in flags]
        flag_id = flags[0].id
    name = add_user(database_url, "staff")

    context = browser.new_context()
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(stack.cfg.console_url + "/")
    expect(page).to_have_url(stack.cfg.console_url + "/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()

    page.get_by_label("EMERGENCY").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"badge=EMERGENCY"))
    expect(page.get_by_role("link", name=emergency)).to_be_visible()
    expect(page.get_by_role("link", name=calm)).to_have_count(0)

    page.get_by_role("link", name=emergency).click()
    expect(page.get_by_role("heading", name=f"Conversation {emergency}")).to_be_visible()
    expect(page.locator("mark").first).to_contain_text("bladder")
    expect(page.get_by_text("<script>alert(1)</script>", exact=True)).to_be_visible()  # shown, never run
    page.get_by_role("button", name="Acknowledge").first.click()  # the first red flag of the conversation
    expect(page.get_by_role("status")).to_have_text(f"Marked acknowledged by {name}.")
    expect(page.locator(".by").first).to_contain_text(f"by {name}")
    page.screenshot(path=str(artifacts_dir / "console_transcript_acknowledged.png"), full_page=True)
    context.close()

    assert dialogs == []
    with session_scope(database_url) as s:
        row = s.get(RedFlagEvent, flag_id)
        assert (row.status, row.status_by) == ("acknowledged", name)
    assert [r.actor for r in audit_rows(database_url, "transcript.view", target=emergency)] == [name, name]
    assert audit_rows(database_url, "red_flag.status", target=emergency)[0].actor == name
    assert audit_rows(database_url, "login.success", actor=name)
