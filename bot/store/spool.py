"""Turns that could not be saved because the database was down, kept on local disk until it is back.

While the database is unreachable Rasa goes on answering from an in-memory tracker (so a person
with a red flag still gets the emergency reply), but those turns, and the red flags in them, would
never reach the database, and staff would never see them. Each failed save therefore writes the
conversation's events to one file here (atomically, readable by this user only); once the database
answers again, the files are replayed: events the database does not already hold are appended in
their order, the red-flag recorder sees their messages as it would have, and the file is deleted.

An event counts as already stored when the database holds an event with exactly the same
serialised content (the content includes its timestamp to the microsecond), so a replay that is
interrupted or repeated never stores anything twice. Several server processes may share the
folder; an exclusive lock lets one of them replay at a time.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple, Type

logger = logging.getLogger(__name__)

# replay(sender_id, events as dicts) -> number of events it stored; raises while the database is down.
Replay = Callable[[str, List[Dict[str, Any]]], int]


class TurnSpool:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._owner = uuid.uuid4().hex[:8]  # this process's files: its own conversations, one file each
        self.pending = self._has_files()  # left by a process that stopped during an outage

    def _has_files(self) -> bool:
        return self.folder.is_dir() and any(self.folder.glob("*.json"))

    @staticmethod
    def _sender_digest(sender_id: str) -> str:
        return hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:32]

    def _path(self, sender_id: str) -> Path:
        return self.folder / f"{self._sender_digest(sender_id)}-{self._owner}.json"

    def forget(self, sender_id: str) -> int:
        """Delete what is kept for one person (staff's "forget"): the number of files removed."""
        paths = list(self.folder.glob(f"{self._sender_digest(sender_id)}-*.json")) if self.folder.is_dir() else []
        for path in paths:
            path.unlink(missing_ok=True)
        return len(paths)

    def write(self, sender_id: str, events: List[Dict[str, Any]]) -> Path:
        """Keep a conversation's unsaved events (the whole in-memory tracker; replay skips what is stored).

        Added to what is already kept for it: during an outage Rasa starts every turn from a fresh
        tracker (its retrieve gets nothing), so each save holds only that turn."""
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        path = self._path(sender_id)
        if path.exists():
            kept = json.loads(path.read_text(encoding="utf-8"))["events"]
            events = kept + events_not_stored(events, [json.dumps(e) for e in kept])
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"sender_id": sender_id, "events": events}, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self.pending = True
        logger.error(
            "The database is unreachable: %d events of one conversation were kept in %s and will be stored "
            "when it is back.", len(events), path,
        )
        return path

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[bool]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False  # another process is replaying right now
                return
            try:
                yield True
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def replay(self, store_events: Replay, transient: Tuple[Type[BaseException], ...] = ()) -> int:
        """Store every kept conversation; a file is deleted only after its events are stored.

        A `transient` error (the database is still down) stops the replay and is raised; any other
        error with one file moves that file aside (`unreadable/`, logged) so it can never block saving."""
        if not self.pending:
            return 0
        stored = 0
        with self._exclusive() as mine:
            if not mine:
                return 0
            for path in sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime):
                try:
                    content = json.loads(path.read_text(encoding="utf-8"))
                    stored += store_events(content["sender_id"], content["events"])
                except transient:
                    raise
                except Exception:
                    aside = self.folder / "unreadable"
                    aside.mkdir(exist_ok=True)
                    os.replace(path, aside / path.name)
                    logger.exception("A kept conversation could not be stored; it was moved to %s for staff", aside)
                    continue
                path.unlink()
            self.pending = self._has_files()
        if stored:
            logger.warning("The database is back: %d events kept during the outage were stored.", stored)
        return stored


def events_not_stored(kept: List[Dict[str, Any]], stored: List[str]) -> List[Dict[str, Any]]:
    """The kept events (in their order) that are not among the stored ones (serialised JSON), counting repeats."""
    remaining = Counter(json.dumps(json.loads(s), sort_keys=True) for s in stored)
    missing = []
    for event in kept:
        key = json.dumps(event, sort_keys=True)
        if remaining[key]:
            remaining[key] -= 1
        else:
            missing.append(event)
    return missing


def default_spool_folder(database_url: Any) -> Path:
    """One folder per database (BOT_SPOOL_DIR or var/spool), so a replay never reaches another database."""
    import sqlalchemy as sa

    from bot.paths import VAR

    url = database_url if isinstance(database_url, sa.engine.URL) else sa.engine.make_url(str(database_url))
    normalised = url.render_as_string(hide_password=False)
    digest = hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:16]
    return Path(os.environ.get("BOT_SPOOL_DIR") or VAR / "spool") / digest

