#!/usr/bin/env bash
# Idempotent setup: a Python 3.10 venv with the locked packages, the project itself,
# and the local spaCy pipeline. Each step is skipped when its stamp is current.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP_DIR=$VENV/.stamps

say() { printf '[setup] %s\n' "$*"; }

is_py310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }

find_python310() {
    local candidate
    # 1. Whatever is on PATH (a pyenv shim only works when it resolves to 3.10).
    for candidate in python3.10 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 && is_py310 "$(command -v "$candidate")"; then
            command -v "$candidate"; return 0
        fi
    done
    # 2. pyenv's installed versions, newest 3.10 first.
    local root=""
    if command -v pyenv >/dev/null 2>&1; then root=$(pyenv root 2>/dev/null || true); fi
    [ -n "$root" ] || root="${PYENV_ROOT:-$HOME/.pyenv}"
    for candidate in $(ls -d "$root"/versions/3.10.*/bin/python 2>/dev/null | sort -rV); do
        if is_py310 "$candidate"; then echo "$candidate"; return 0; fi
    done
    return 1
}

no_python_310() {
    cat >&2 <<'MSG'
[setup] ERROR: Python 3.10 was not found.
  Rasa Open Source 3.6.21 runs on Python 3.8-3.10 only (3.11+ cannot install it).
  Install Python 3.10, for example:  pyenv install 3.10.13
  or your OS package (python3.10 + python3.10-venv), then run this command again.
MSG
    exit 1
}

if [ "${1:-}" = "--find-python" ]; then  # report the interpreter setup would use, and stop
    find_python310 || no_python_310
    exit 0
fi

lock_hash=$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)

if [ ! -x "$VENV/bin/python" ] || ! is_py310 "$VENV/bin/python"; then
    PY=$(find_python310) || no_python_310
    say "creating $VENV with $PY"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
fi

mkdir -p "$STAMP_DIR"
if [ ! -f "$STAMP_DIR/packages-$lock_hash" ]; then
    say "installing locked packages (first time: about 2-3 minutes)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pip==24.0"
    mkdir -p var
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
            -r requirements.lock >var/pip-install.log 2>&1; then
        tail -n 30 var/pip-install.log >&2
        say "ERROR: package install failed (full log: var/pip-install.log)"; exit 1
    fi
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e .
    "$VENV/bin/python" -m pip check >/dev/null || { "$VENV/bin/python" -m pip check; exit 1; }
    rm -f "$STAMP_DIR"/packages-*
    touch "$STAMP_DIR/packages-$lock_hash"
fi

# Local spaCy pipeline (blank English + lookup lemmatizer); no model download needed.
"$VENV/bin/python" -m bot.nlu.spacy_model --if-missing

for extra in scripts/setup.d/*.sh; do
    [ -f "$extra" ] && bash "$extra"
done
say "ready"
