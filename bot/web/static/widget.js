/*
 * Clinic chat widget: plain JavaScript, no dependencies, embeddable with one tag:
 *
 *   <script src="https://CHAT-HOST/static/widget.js" data-rasa-url="https://RASA-HOST" defer></script>
 *
 * Optional attributes: data-config-url (default: /widget/config.json next to this script),
 * data-open="true" (start opened), data-storage="local" (keep the conversation across tabs and
 * browser restarts; the default keeps it for this tab only, which is kinder on shared computers).
 *
 * It talks to the Rasa REST channel (POST {rasaUrl}/webhooks/rest/webhook). Replies marked with
 * metadata.tier (emergency, crisis, urgent) are shown as banners; emergency and crisis use
 * role="alert" so screen readers announce them at once.
 */
(function () {
  "use strict";
  if (window.ClinicChat) return; // included twice: keep the first

  var script = document.currentScript;
  var scriptUrl = (script && script.src) || window.location.href;
  var attr = function (name) { return script ? script.getAttribute(name) : null; };
  var options = {
    rasaUrl: attr("data-rasa-url"),
    configUrl: attr("data-config-url") || new URL("/widget/config.json", scriptUrl).href,
    cssUrl: new URL("widget.css", scriptUrl).href,
    startOpen: attr("data-open") === "true",
    storageKind: attr("data-storage") === "local" ? "localStorage" : "sessionStorage",
  };
  var STORAGE_KEY = "clinic-chat-v1";
  var MAX_ENTRIES = 300;
  var REQUEST_TIMEOUT_MS = 45000;

  // Words used until /widget/config.json arrives (or if it cannot be fetched). No contact details here:
  // those come only from the clinic's configuration.
  var text = {
    title: "Clinic assistant",
    subtitle: "Automated assistant - not a person",
    launcher: "Chat with us",
    disclaimer: "I'm an automated assistant, not a doctor or nurse. I give general information, not medical advice. If you think this is an emergency, call your local emergency number or go to the nearest emergency room now.",
    input_label: "Type your message",
    input_placeholder: "Type your question…",
    send: "Send",
    new_conversation: "New conversation",
    close: "Close chat",
    conversation_label: "Conversation with the assistant",
    suggestions_label: "Suggested replies",
    you_said: "You said:",
    assistant_said: "Assistant said:",
    typing: "The assistant is typing…",
    emergency_heading: "Emergency - act now",
    crisis_heading: "Help is available right now",
    urgent_heading: "Contact the clinic today",
    connection_error: "Sorry, I couldn't reach the assistant just now. Your message is back in the box, so you can try again. If this is an emergency, call your local emergency number now.",
  };
  var config = { rasaUrl: options.rasaUrl, maxMessageChars: 20000, emergencyNumber: "", crisisLine: "" };

  // ---- storage (falls back to memory when the browser blocks storage) ----------------------------
  var memory = {};
  function store() {
    try { var s = window[options.storageKind]; s.setItem("clinic-chat-probe", "1"); s.removeItem("clinic-chat-probe"); return s; }
    catch (e) { return null; }
  }
  function load() {
    var raw = null;
    try { raw = store() ? store().getItem(STORAGE_KEY) : memory[STORAGE_KEY]; } catch (e) { raw = null; }
    try { var parsed = raw ? JSON.parse(raw) : null; if (parsed && parsed.sender && Array.isArray(parsed.entries)) return parsed; }
    catch (e) { /* unreadable: start again */ }
    return { sender: newSenderId(), entries: [], open: false };
  }
  function save() {
    state.entries = state.entries.slice(-MAX_ENTRIES);
    var raw = JSON.stringify(state);
    try { if (store()) store().setItem(STORAGE_KEY, raw); else memory[STORAGE_KEY] = raw; } catch (e) { memory[STORAGE_KEY] = raw; }
  }
  function newSenderId() {
    // crypto.getRandomValues works on plain-http pages too (randomUUID needs a secure context).
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return "web-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // ---- DOM helpers ---------------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) node.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function srOnly(words) { return el("span", { className: "cc-sr", text: words + " " }); }

  function escapeRegExp(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  // Turns reply text into nodes: text stays text (never HTML); web addresses, e-mail addresses and
  // phone numbers become links with safe schemes only; **bold** becomes <strong>.
  function richText(value) {
    var fragment = document.createDocumentFragment();
    var shortNumbers = [config.emergencyNumber, config.crisisLine].filter(function (n) { return /^\d{3,4}$/.test(n || ""); });
    var patterns = [
      "(https?:\\/\\/[^\\s<>\"']+)",
      "([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+)",
      "((?:\\+?1[\\s.-]?)?\\(?\\d{3}\\)?[\\s.-]?\\d{3}[\\s.-]\\d{4})",
      "\\*\\*([^*]+)\\*\\*",
      // the emergency and crisis numbers (911, 988) standing alone; no look-behind: older Safari lacks it
      shortNumbers.length ? "(^|[\\s(])(" + shortNumbers.map(escapeRegExp).join("|") + ")(?=$|[\\s.,;:!?)])" : "(?!)()()",
    ];
    var re = new RegExp(patterns.join("|"), "g");
    var last = 0, m;
    value = value || "";
    while ((m = re.exec(value)) !== null) {
      if (m[0] === "") { re.lastIndex++; continue; }
      var token = m[0], start = m.index;
      if (m[6]) { token = m[6]; start = m.index + m[5].length; }
      if (m[1]) { // a web address: trailing punctuation belongs to the sentence
        var trail = token.match(/[.,;:!?)]+$/);
        if (trail) { token = token.slice(0, -trail[0].length); }
      }
      fragment.appendChild(document.createTextNode(value.slice(last, start)));
      if (m[1]) fragment.appendChild(el("a", { href: token, target: "_blank", rel: "noopener noreferrer", text: token }));
      else if (m[2]) fragment.appendChild(el("a", { href: "mailto:" + token, text: token }));
      else if (m[3]) fragment.appendChild(el("a", { href: "tel:" + token.replace(/[^\d+]/g, ""), text: token }));
      else if (m[4]) fragment.appendChild(el("strong", { text: m[4] }));
      else fragment.appendChild(el("a", { href: "tel:" + token, text: token }));
      last = start + token.length;
      re.lastIndex = last;
    }
    fragment.appendChild(document.createTextNode(value.slice(last)));
    return fragment;
  }

  // ---- the widget ----------------------------------------------------------------------------------
  var state = load();
  var host = el("div", { id: "clinic-chat-widget" });
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var ui = {};
  var queue = Promise.resolve();
  var pending = 0;

  function build() {
    var stylesheet = el("link", { rel: "stylesheet", href: options.cssUrl });
    host.hidden = true; // no flash of unstyled widget
    stylesheet.addEventListener("load", function () { host.hidden = false; if (state.open) render(); });
    setTimeout(function () { host.hidden = false; }, 3000);

    ui.launcher = el("button", { type: "button", className: "cc-launcher", "aria-expanded": "false", "aria-controls": "cc-panel" });
    ui.title = el("h2", { className: "cc-title", id: "cc-title" });
    ui.subtitle = el("p", { className: "cc-subtitle" });
    ui.newButton = el("button", { type: "button", className: "cc-tool" });
    ui.closeButton = el("button", { type: "button", className: "cc-tool cc-close" }, [el("span", { "aria-hidden": "true", text: "✕" })]);
    ui.log = el("div", { className: "cc-log", role: "log", "aria-live": "polite", tabindex: "0" });
    ui.typing = el("div", { className: "cc-typing", role: "status", hidden: true });
    ui.input = el("textarea", { id: "cc-input", className: "cc-input", rows: "1", autocomplete: "off", enterkeyhint: "send" });
    ui.label = el("label", { className: "cc-sr", for: "cc-input" });
    ui.send = el("button", { type: "submit", className: "cc-send" });
    ui.form = el("form", { className: "cc-form" }, [ui.label, ui.input, ui.send]);
    ui.panel = el("section", { id: "cc-panel", className: "cc-panel", "aria-labelledby": "cc-title", hidden: true }, [
      el("header", { className: "cc-header" }, [
        el("div", { className: "cc-heading" }, [ui.title, ui.subtitle]),
        el("div", { className: "cc-tools" }, [ui.newButton, ui.closeButton]),
      ]),
      ui.log, ui.typing, ui.form,
    ]);
    root.appendChild(stylesheet);
    root.appendChild(ui.launcher);
    root.appendChild(ui.panel);

    ui.launcher.addEventListener("click", function () { setOpen(true); });
    ui.closeButton.addEventListener("click", function () { setOpen(false); });
    ui.newButton.addEventListener("click", newConversation);
    ui.panel.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });
    ui.form.addEventListener("submit", function (e) { e.preventDefault(); sendTyped(); });
    ui.input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendTyped(); }
    });
    ui.input.addEventListener("input", autoGrow);
    document.addEventListener("click", function (e) {
      var opener = e.target && e.target.closest && e.target.closest("[data-clinic-chat-open]");
      if (opener) { e.preventDefault(); setOpen(true); }
    });
    applyText();
  }

  function applyText() {
    ui.launcher.textContent = text.launcher;
    ui.title.textContent = text.title;
    ui.subtitle.textContent = text.subtitle;
    ui.newButton.textContent = text.new_conversation;
    ui.closeButton.setAttribute("aria-label", text.close);
    ui.closeButton.setAttribute("title", text.close);
    ui.log.setAttribute("aria-label", text.conversation_label);
    ui.label.textContent = text.input_label;
    ui.input.setAttribute("placeholder", text.input_placeholder);
    ui.input.setAttribute("maxlength", String(config.maxMessageChars));
    ui.send.textContent = text.send;
    ui.typing.replaceChildren(srOnly(text.typing), el("span", { className: "cc-dots", "aria-hidden": "true" }, [el("i"), el("i"), el("i")]));
    render();
  }

  function autoGrow() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight, 140) + "px";
  }

  function setOpen(open, quiet) {
    state.open = open;
    save();
    ui.panel.hidden = !open;
    ui.launcher.hidden = open;
    ui.launcher.setAttribute("aria-expanded", String(open));
    host.classList.toggle("cc-is-open", open);
    if (open) render(); // lays out and scrolls now that the panel is visible
    if (quiet) return; // restoring after a reload: don't move the reader's focus
    if (open) ui.input.focus(); else ui.launcher.focus();
  }

  function scrollToEnd() { ui.log.scrollTop = ui.log.scrollHeight; }

  function bannerFor(tier) {
    var heading = { emergency: text.emergency_heading, crisis: text.crisis_heading, urgent: text.urgent_heading }[tier];
    var attrs = { className: "cc-banner cc-" + tier };
    if (tier !== "urgent") attrs.role = "alert"; // emergency and crisis interrupt; urgent is read in turn
    return el("div", attrs, [el("p", { className: "cc-banner-title" }, [el("span", { "aria-hidden": "true", text: "⚠ " }), document.createTextNode(heading)])]);
  }

  // Rebuilds the transcript from state (cheap: a conversation is short) so a reload shows the same.
  function render() {
    var nodes = [el("p", { className: "cc-disclaimer" }, [richText(text.disclaimer)])];
    var banner = null, bannerTier = null, lastUser = null;
    state.entries.forEach(function (entry, index) {
      if (entry.kind === "user") {
        banner = null;
        lastUser = el("div", { className: "cc-msg cc-user" }, [srOnly(text.you_said), document.createTextNode(entry.text)]);
        nodes.push(lastUser);
        return;
      }
      if (entry.kind === "error") {
        banner = null;
        nodes.push(el("div", { className: "cc-msg cc-error", role: "alert" }, [richText(entry.text)]));
        return;
      }
      var body = el("div", { className: "cc-msg cc-bot" }, [srOnly(text.assistant_said), richText(entry.text)]);
      if (entry.image && /^https?:\/\//.test(entry.image)) body.appendChild(el("img", { src: entry.image, alt: "" }));
      if (entry.tier) {
        if (!banner || bannerTier !== entry.tier || entry.turnStart) { banner = bannerFor(entry.tier); bannerTier = entry.tier; nodes.push(banner); }
        banner.appendChild(body);
      } else {
        banner = null;
        nodes.push(body);
      }
      var isLatest = index === state.entries.length - 1 || state.entries.slice(index + 1).every(function (e) { return e.kind === "bot"; });
      if (entry.buttons && entry.buttons.length && isLatest) nodes.push(quickReplies(entry.buttons));
    });
    ui.log.replaceChildren.apply(ui.log, nodes);
    // Show the latest exchange from its start: a long reply (an emergency one above all) must not
    // open scrolled past its first, most important line.
    var waiting = state.entries.length && state.entries[state.entries.length - 1].kind === "user";
    if (lastUser && !waiting) ui.log.scrollTop = lastUser.offsetTop - 8; else scrollToEnd();
  }

  function quickReplies(buttons) {
    return el("div", { className: "cc-quick", role: "group", "aria-label": text.suggestions_label }, buttons.map(function (b) {
      var button = el("button", { type: "button", className: "cc-quick-button", text: b.title || b.payload });
      button.addEventListener("click", function () { send(b.payload || b.title, b.title || b.payload, false); ui.input.focus(); });
      return button;
    }));
  }

  function add(entry) { state.entries.push(entry); save(); render(); }

  function sendTyped() {
    var value = ui.input.value.trim();
    if (!value) { ui.input.focus(); return; }
    ui.input.value = "";
    autoGrow();
    send(value, value, true);
  }

  function send(payload, shown, typed) {
    add({ kind: "user", text: shown });
    var sender = state.sender;
    queue = queue.then(function () { return post(sender, payload, typed); });
  }

  function setTyping(delta) {
    pending += delta;
    ui.typing.hidden = pending <= 0;
  }

  function post(sender, payload, typed) {
    setTyping(1);
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    var url = String(config.rasaUrl || "").replace(/\/+$/, "") + "/webhooks/rest/webhook";
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: sender, message: payload, metadata: { channel: "web" } }),
      signal: controller ? controller.signal : undefined,
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        if (sender !== state.sender) return; // a new conversation was started meanwhile
        if (!response.ok || !Array.isArray(data)) {
          failed(data && data.message, typed ? payload : null);
          return;
        }
        data.forEach(function (m, i) {
          var tier = (m.metadata && m.metadata.tier) || (m.custom && m.custom.tier) || null;
          if (!m.text && !m.buttons && !m.quick_replies && !m.image) return;
          state.entries.push({ kind: "bot", text: m.text || "", buttons: m.buttons || m.quick_replies || null,
                               image: m.image || null, tier: tier, turnStart: i === 0 });
        });
        save();
        render();
      });
    }).catch(function () {
      if (sender === state.sender) failed(null, typed ? payload : null);
    }).then(function () {
      if (timer) clearTimeout(timer);
      setTyping(-1);
    });
  }

  // Nothing is lost: the typed words go back into the box, and the person is told what to do.
  function failed(reason, typedText) {
    if (typedText && !ui.input.value) { ui.input.value = typedText; autoGrow(); }
    add({ kind: "error", text: reason || text.connection_error });
  }

  function newConversation() {
    state = { sender: newSenderId(), entries: [], open: true };
    save();
    render();
    ui.input.value = "";
    ui.input.focus();
  }

  function loadConfig() {
    return fetch(options.configUrl, { credentials: "omit" }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (c) {
        if (!c) return;
        Object.keys(c.text || {}).forEach(function (k) { text[k] = c.text[k]; });
        config.maxMessageChars = c.maxMessageChars || config.maxMessageChars;
        config.emergencyNumber = c.emergencyNumber || "";
        config.crisisLine = c.crisisLine || "";
        if (!config.rasaUrl) config.rasaUrl = c.rasaUrl;
        applyText();
      }).catch(function () { /* keep the built-in words */ });
  }

  function start() {
    build();
    document.body.appendChild(host);
    if (state.open || options.startOpen) setOpen(true, true);
    loadConfig();
  }

  window.ClinicChat = {
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    newConversation: newConversation,
  };
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
