#!/usr/bin/env bash
# Rasa Webchat (the npm package rasa-webchat), the widget most Rasa sites embed, for the socket.io test that
# a real Webchat in Chromium receives an emergency reply (tests/test_widget_rasa_webchat.py). Only its
# browser bundle (lib/index.js) is used, so the package tarball is fetched without its dependencies and
# checked against the registry's integrity hash pinned here (the lock for this one file).
# CI (CI=true) must have it; elsewhere a missing npm or registry only warns.
set -uo pipefail

VERSION="1.0.1"
INTEGRITY="sha512-Ld1zVJvTAaTrs6A5p8t70agNNrKYRyXlvqXZRgBoDvKKUXbA0jhJKECi5bdPGlaR6jsmqWtVylHS+YqIqo0x8w=="
DEST="build/webchat/rasa-webchat-$VERSION.js"

say() { printf '[setup] %s\n' "$*"; }
fail() {
    say "$1"
    if [ "${CI:-}" = "true" ]; then exit 1; fi
    say "continuing without it (only tests/test_widget_rasa_webchat.py needs it)"
    exit 0
}

[ -f "$DEST" ] && exit 0
command -v npm >/dev/null 2>&1 || fail "npm is missing: the Rasa Webchat test needs it once to fetch rasa-webchat $VERSION."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
say "fetching rasa-webchat $VERSION for the socket.io browser test (first time only)"
(cd "$tmp" && npm pack "rasa-webchat@$VERSION" --silent >/dev/null 2>"$tmp/npm.log") \
    || { cat "$tmp/npm.log" >&2; fail "npm pack rasa-webchat@$VERSION failed."; }
tarball="$tmp/rasa-webchat-$VERSION.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
[ "$actual" = "$INTEGRITY" ] || fail "rasa-webchat-$VERSION.tgz does not match its pinned integrity hash; not used."
tar -xzf "$tarball" -C "$tmp" package/lib/index.js || fail "rasa-webchat-$VERSION.tgz has no lib/index.js."
mkdir -p "$(dirname "$DEST")"
mv "$tmp/package/lib/index.js" "$DEST"
say "rasa-webchat $VERSION ready: $DEST"
