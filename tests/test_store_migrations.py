"""Product tables are created by Alembic migrations, idempotently, on SQLite and PostgreSQL."""
import uuid

import pytest
import sqlalchemy as sa

from bot.store import migrate
from bot.store.db import session_scope
from bot.store.models import AuditEntry

EXPECTED = {"red_flag_events", "callback_requests", "staff_users", "audit_log", "annotations", "alembic_version"}
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    name = f"t_migr_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        from bot.store.db import engine_for

        engine_for.cache_clear()
        with admin.connect() as c:
            c.execute(sa.text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def test_upgrade_creates_the_product_tables_and_is_idempotent(fresh_url):
    migrate.upgrade(fresh_url)
    migrate.upgrade(fresh_url)
    tables = set(sa.inspect(sa.create_engine(fresh_url)).get_table_names())
    assert EXPECTED <= tables


def test_rows_round_trip_through_the_session(fresh_url):
    migrate.upgrade(fresh_url)
    with session_scope(fresh_url) as s:
        s.add(AuditEntry(actor="cli:test", action="test", target="x"))
    with session_scope(fresh_url) as s:
        assert s.query(AuditEntry).filter_by(actor="cli:test").count() == 1


def test_a_failed_transaction_is_rolled_back(fresh_url):
    migrate.upgrade(fresh_url)
    with pytest.raises(RuntimeError):
        with session_scope(fresh_url) as s:
            s.add(AuditEntry(actor="cli:rollback", action="test"))
            s.flush()
            raise RuntimeError("boom")
    with session_scope(fresh_url) as s:
        assert s.query(AuditEntry).filter_by(actor="cli:rollback").count() == 0
