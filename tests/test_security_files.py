"""Files holding conversations are the owner's only (issue #14, item 6): the running stack's database
(with its -wal and -shm), its folder and its logs."""
from __future__ import annotations

import stat
from pathlib import Path

from bot.stack import sqlite_dirs


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_and_logs_are_readable_by_their_owner_only(stack, chat):
    chat.send(chat.new_sender("files"), "hello")  # something written
    logs = list(stack.cfg.log_dir.iterdir())
    assert logs and mode(stack.cfg.log_dir) == 0o700
    assert all(mode(p) == 0o600 for p in logs if p.is_file()), {p.name: oct(mode(p)) for p in logs}
    for folder in sqlite_dirs(stack.cfg.database_url):
        files = [p for p in folder.iterdir() if p.is_file()]
        assert files and mode(folder) == 0o700
        assert all(mode(p) & 0o077 == 0 for p in files), {p.name: oct(mode(p)) for p in files}
