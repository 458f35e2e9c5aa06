"""Engine and session for the product's tables. One DATABASE_URL for SQLite and PostgreSQL."""
from __future__ import annotations

import contextlib
from functools import lru_cache
from typing import Any, Iterator, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from bot.paths import default_database_url


def make_engine(url: Any = None, future: bool = True, **engine_kwargs: Any) -> sa.engine.Engine:
    """An engine whose pooled connections are tested before use (the database may have restarted).

    SQLite: connections are kept open between transactions (SQLAlchemy 1.4 would open and close the
    file for each one), and the file uses a write-ahead log so that the Rasa server, the action
    server and the console (separate processes) can read while one of them writes."""
    url = url or default_database_url()
    if str(url).startswith("sqlite"):
        _ensure_sqlite_dir(str(url))
        engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=4, max_overflow=4, pool_pre_ping=True,
                                  connect_args={"check_same_thread": False, "timeout": 30}, future=future)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA secure_delete=ON")  # deleted text is overwritten, not left in free pages
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, future=future, **engine_kwargs)


def _ensure_sqlite_dir(url: str) -> None:
    from pathlib import Path

    path = sa.engine.make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=8)
def engine_for(url: str) -> sa.engine.Engine:
    return make_engine(url)


@contextlib.contextmanager
def session_scope(url: Optional[str] = None) -> Iterator[Session]:
    """A transaction: commit on success, roll back on error."""
    session = sessionmaker(bind=engine_for(url or default_database_url()), future=True)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
