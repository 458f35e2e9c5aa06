"""The chat widget in a real browser (Debian's headless Chromium driven by Playwright) against the
running stack: what a visitor sees, with a keyboard only, on a phone-sized screen, after a reload.
"""
from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List

import pytest
import yaml
from playwright.sync_api import expect, sync_playwright

from bot.paths import ROOT
from bot.stack import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
REPLY_TIMEOUT_MS = 30_000
BLADDER_RED_FLAG = "I suddenly can't control my bladder"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run `make setup` as root (scripts/setup.d/chromium.sh)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visitor:
    """One browser tab on the chat page, recording script errors."""

    def __init__(self, browser, stack, width: int = 1280, height: int = 800) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.errors: List[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.url = stack.cfg.web_url + "/"
        expect.set_options(timeout=REPLY_TIMEOUT_MS)

    def open_page(self) -> "Visitor":
        self.page.goto(self.url)
        return self

    def open_chat(self) -> "Visitor":
        self.page.get_by_role("button", name="Chat with us").click()
        expect(self.textbox).to_be_focused()
        return self

    @property
    def textbox(self):
        return self.page.get_by_role("textbox", name="Type your message")

    @property
    def log(self):
        return self.page.get_by_role("log")

    @property
    def bot_messages(self):
        return self.log.locator(".cc-bot")

    def say(self, text: str) -> str:
        """Types a message, sends it with the Send button and returns the new reply text."""
        before = self.bot_messages.count()
        self.textbox.fill(text)
        self.page.get_by_role("button", name="Send").click()
        return self.wait_reply(before)

    def wait_reply(self, before: int) -> str:
        expect(self.bot_messages).not_to_have_count(before)
        expect(self.page.get_by_role("status")).to_be_hidden()  # typing indicator gone: the whole reply is in
        return "\n".join(self.bot_messages.all_inner_texts()[before:])

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visitor(browser, stack):
    v = Visitor(browser, stack).open_page()
    yield v
    v.close()
    assert not v.errors, v.errors


@pytest.fixture(scope="module")
def greet_buttons() -> List[Dict[str, str]]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    return domain["responses"]["utter_greet"][0].get("buttons") or []


def test_page_is_the_clinics_and_the_widget_has_accessible_names(visitor, clinic_values):
    page = visitor.page
    assert clinic_values["clinic_name"] in page.title()
    expect(page.get_by_role("banner")).to_contain_text(clinic_values["clinic_name"])
    launcher = page.get_by_role("button", name="Chat with us")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    visitor.open_chat()
    expect(page.get_by_role("region", name=clinic_values["clinic_name"])).to_be_visible()
    expect(visitor.log).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    expect(page.get_by_role("button", name="New conversation")).to_be_visible()
    expect(page.get_by_role("button", name="Close chat")).to_be_visible()
    # The disclaimer is there before anyone types, with the emergency number from clinic.yml.
    disclaimer = visitor.log.locator(".cc-disclaimer")
    expect(disclaimer).to_contain_text("not medical advice")
    expect(disclaimer).to_contain_text(clinic_values["emergency_number"])
    # The message box accepts exactly what the server accepts.
    from bot.channels.inbound import MAX_MESSAGE_CHARS

    expect(visitor.textbox).to_have_attribute("maxlength", str(MAX_MESSAGE_CHARS))


def test_asking_a_question_shows_the_answer_with_working_links(visitor, clinic_values):
    visitor.open_chat()
    reply = visitor.say("how can I contact the clinic?")
    assert clinic_values["clinic_phone"] in reply
    expect(visitor.log.locator(".cc-user")).to_have_text(re.compile("how can I contact the clinic"))
    phone_link = visitor.log.get_by_role("link", name=clinic_values["clinic_phone"]).first
    expect(phone_link).to_have_attribute("href", "tel:" + re.sub(r"[^\d+]", "", clinic_values["clinic_phone"]))
    email_link = visitor.log.get_by_role("link", name=clinic_values["clinic_email"]).first
    expect(email_link).to_have_attribute("href", "mailto:" + clinic_values["clinic_email"])


def test_a_quick_reply_button_sends_its_choice(visitor, greet_buttons, clinic_values):
    visitor.open_chat()
    visitor.say("hello")
    group = visitor.page.get_by_role("group", name="Suggested replies")
    for button in greet_buttons:
        expect(group.get_by_role("button", name=button["title"])).to_be_visible()
    contact = next(b for b in greet_buttons if "contact" in b["title"].lower())
    before = visitor.bot_messages.count()
    group.get_by_role("button", name=contact["title"]).click()
    reply = visitor.wait_reply(before)
    assert clinic_values["clinic_phone"] in reply
    expect(visitor.log.locator(".cc-user").last).to_have_text(re.compile(re.escape(contact["title"])))
    expect(visitor.page.get_by_role("group", name="Suggested replies")).to_have_count(0)  # used up
    expect(visitor.textbox).to_be_focused()


def test_bladder_red_flag_shows_the_emergency_banner(visitor, clinic_values):
    visitor.open_chat()
    visitor.say("hi")
    visitor.say(BLADDER_RED_FLAG)
    banner = visitor.page.get_by_role("alert")
    expect(banner).to_have_count(1)
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("emergency room")
    expect(banner).to_contain_text(clinic_values["emergency_number"])
    # It is the first thing of the reply, straight after the person's message.
    assert visitor.log.locator(".cc-user").last.evaluate("el => el.nextElementSibling.getAttribute('role')") == "alert"
    color = banner.evaluate("el => getComputedStyle(el).backgroundColor")
    red, green, blue = (int(x) for x in re.findall(r"\d+", color)[:3])
    assert red > 150 and green < 80 and blue < 80, f"the banner is not red: {color}"


def test_reload_keeps_the_transcript_and_new_conversation_starts_over(visitor):
    visitor.open_chat()
    visitor.say("hi")
    visitor.say("what is post-laminectomy syndrome?")
    before = visitor.log.text_content()
    assert "post-laminectomy" in before.lower()
    visitor.page.reload()
    expect(visitor.log).to_be_visible()  # still open after the reload
    expect(visitor.log).to_have_text(before)
    visitor.page.get_by_role("button", name="New conversation").click()
    expect(visitor.log.locator(".cc-msg")).to_have_count(0)
    expect(visitor.log.locator(".cc-disclaimer")).to_be_visible()
    expect(visitor.textbox).to_be_focused()
    assert visitor.say("hello")


def test_keyboard_only(visitor):
    page = visitor.page
    page.get_by_role("button", name="Chat with us").focus()
    page.keyboard.press("Enter")
    expect(visitor.textbox).to_be_focused()
    before = visitor.bot_messages.count()
    page.keyboard.type("hello")
    page.keyboard.press("Enter")
    visitor.wait_reply(before)
    expect(visitor.textbox).to_be_focused()
    # Shift+Tab from the message box reaches the suggested replies; Enter picks one.
    page.keyboard.press("Shift+Tab")
    focused = page.evaluate("() => document.activeElement.shadowRoot.activeElement.textContent")
    before = visitor.bot_messages.count()
    page.keyboard.press("Enter")
    visitor.wait_reply(before)
    expect(visitor.log.locator(".cc-user").last).to_have_text(re.compile(re.escape(focused)))
    # Escape closes the chat and gives focus back to the launcher.
    visitor.textbox.focus()
    page.keyboard.press("Escape")
    launcher = page.get_by_role("button", name="Chat with us")
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_typing_indicator_shows_while_the_assistant_is_answering(visitor):
    visitor.open_chat()
    held = []
    visitor.page.route("**/webhooks/rest/webhook", lambda route: held.append(route))
    visitor.textbox.fill("hello")
    visitor.page.get_by_role("button", name="Send").click()
    typing = visitor.page.get_by_role("status")
    expect(typing).to_be_visible()
    expect(typing).to_contain_text("typing")
    assert held, "the message was not sent"
    held[0].continue_()
    expect(visitor.bot_messages).to_have_count(1)
    expect(typing).to_be_hidden()


def test_markup_in_messages_is_shown_as_text(visitor):
    visitor.open_chat()
    visitor.say("<img src=x onerror=\"document.title='owned'\"> <b>hi</b>")
    expect(visitor.log.locator(".cc-user").last).to_contain_text("<img src=x")
    assert visitor.log.locator("img").count() == 0
    assert visitor.page.title() != "owned"


def test_when_the_server_cannot_be_reached_the_message_is_kept(browser, stack, clinic_values):
    v = Visitor(browser, stack).open_page()
    v.page.route("**/webhooks/rest/webhook", lambda route: route.abort())
    v.open_chat()
    v.textbox.fill("my back hurts")
    v.page.get_by_role("button", name="Send").click()
    error = v.log.get_by_role("alert")
    expect(error).to_contain_text(clinic_values["emergency_number"])
    expect(v.textbox).to_have_value("my back hurts")
    v.page.unroute("**/webhooks/rest/webhook")
    assert v.say("my back hurts")  # trying again works
    v.close()


def test_one_script_tag_embeds_the_widget_on_another_site(browser, stack, clinic_values):
    """A page on a different origin with only the documented <script> tag gets a working widget."""
    host_page = (
        "<!doctype html><html lang=en><head><title>Another site</title></head><body><p>Hello</p>"
        f'<script src="{stack.cfg.web_url}/static/widget.js" data-rasa-url="{stack.cfg.rasa_url}"></script>'
        "</body></html>"
    )
    # Another origin (other host name and port) served by a real server, as a clinic's own site would be.
    with another_site({"/": (host_page.encode(), "text/html; charset=utf-8")}) as port:
        v = Visitor(browser, stack)
        try:
            v.page.goto(f"http://localhost:{port}/")
            v.open_chat()
            expect(v.page.get_by_role("region", name=clinic_values["clinic_name"])).to_be_visible()  # config fetched cross-origin
            assert clinic_values["clinic_name"] in v.say("hello")
            assert not v.errors, v.errors
        finally:
            v.close()


WEBCHAT_JS = ROOT / "build" / "webchat" / "rasa-webchat-1.0.1.js"  # scripts/setup.d/webchat.sh


def test_rasa_webchat_in_chromium_receives_the_emergency_reply_over_socketio(browser, stack):
    """Rasa Webchat (npm rasa-webchat), the widget a Rasa user expects to work with this server, talks
    socket.io: the emergency reply reaches it, and its opening (no init payload) shows no error."""
    if not WEBCHAT_JS.exists():
        pytest.fail("rasa-webchat is not installed: run `make setup` (scripts/setup.d/webchat.sh)")
    page_html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Webchat</title></head><body>"
        '<div id="webchat"></div><script src="/webchat.js"></script><script>'
        f'WebChat.default({{selector: "#webchat", socketUrl: "{stack.cfg.rasa_url}", socketPath: "/socket.io/", '
        'initPayload: null, title: "Clinic", embedded: true, showMessageDate: false, params: {storage: "session"}}, null);'
        "</script></body></html>"
    )
    pages = {"/": (page_html.encode(), "text/html; charset=utf-8"),
             "/webchat.js": (WEBCHAT_JS.read_bytes(), "application/javascript")}
    with another_site(pages) as port:
        context = browser.new_context()
        page = context.new_page()
        try:
            page.goto(f"http://localhost:{port}/")
            box = page.locator(".rw-new-message")
            expect(box).to_be_visible(timeout=REPLY_TIMEOUT_MS)
            box.fill(BLADDER_RED_FLAG)
            box.press("Enter")
            replies = page.locator(".rw-response")
            expect(replies.first).to_contain_text("Please go to the nearest emergency room now", timeout=REPLY_TIMEOUT_MS)
            expect(replies).to_have_count(3, timeout=REPLY_TIMEOUT_MS)
            texts = replies.all_inner_texts()
            assert "required" not in " ".join(texts)  # no "Field 'message' is required" from the empty opening
            assert texts[1].startswith("You told me about loss of bladder control")
        finally:
            context.close()


@contextmanager
def another_site(pages: Dict[str, tuple]):
    """A real HTTP server on another port: path -> (body, content type)."""

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            # anything else (the browser's /favicon.ico) is empty, not an error in the page's console
            body, kind = pages.get(self.path.split("?")[0], (b"", "text/plain"))
            self.send_response(200 if body else 204)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


def test_phone_screen_360px(browser, stack, artifacts_dir):
    v = Visitor(browser, stack, width=360, height=740).open_page()
    v.open_chat()
    panel = v.page.get_by_role("region")
    box = panel.bounding_box()
    assert box["x"] >= 0 and box["width"] <= 360, box
    v.say("hi")
    v.say(BLADDER_RED_FLAG)
    assert v.page.evaluate("() => document.documentElement.scrollWidth") <= 360, "the page scrolls sideways"
    for button in [v.page.get_by_role("button", name="Send"), v.page.get_by_role("button", name="New conversation")]:
        b = button.bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= 360 and b["height"] >= 32, b
    path = artifacts_dir / "widget-360px.png"
    v.page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    assert not v.errors, v.errors
    v.close()


def test_no_contact_detail_is_written_into_the_web_files(clinic_values):
    """Contact details reach the page only from clinic.yml."""
    web = ROOT / "bot" / "web"
    files = [web / "static" / "widget.js", web / "static" / "widget.css", web / "widget_text.yml",
             *sorted((web / "templates").glob("*.html"))]
    for path in files:
        content = path.read_text()
        for key in ("clinic_phone", "clinic_email", "clinic_address"):
            assert clinic_values[key] not in content, f"{key} written into {path.name}"
