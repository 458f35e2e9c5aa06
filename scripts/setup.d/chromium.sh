#!/usr/bin/env bash
# Headless Chromium for the widget's browser tests (tests/test_widget_browser.py), from Debian's
# packages: Playwright drives /usr/bin/chromium; it never downloads a browser of its own.
# CI (CI=true) must have it, so there a missing browser that cannot be installed fails the setup.
# Elsewhere it only warns, so `make run` keeps working on a machine without root.
set -uo pipefail

say() { printf '[setup] %s\n' "$*"; }

[ -x /usr/bin/chromium ] && exit 0

fail() {
    say "$1"
    say "The browser tests need Debian's chromium: as root run  apt-get update && apt-get install -y chromium"
    if [ "${CI:-}" = "true" ] || [ "${REQUIRE_CHROMIUM:-}" = "1" ]; then exit 1; fi
    say "continuing without it (only tests/test_widget_browser.py needs it)"
    exit 0
}

[ "$(id -u)" = "0" ] || fail "chromium is missing and this user is not root, so it cannot be installed here."
command -v apt-get >/dev/null 2>&1 || fail "chromium is missing and apt-get is not available on this system."

say "installing Debian's chromium for the browser tests (first time only)"
mkdir -p var
if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-liberation; } >var/apt-chromium.log 2>&1; then
    tail -n 20 var/apt-chromium.log >&2
    fail "installing chromium with apt-get failed (full log: var/apt-chromium.log)."
fi
[ -x /usr/bin/chromium ] || fail "apt-get finished but /usr/bin/chromium is still missing."
say "chromium installed: $(/usr/bin/chromium --version 2>/dev/null | head -n 1)"
