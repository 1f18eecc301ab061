"""The Alembic migrations build exactly the schema the code expects, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, insert, inspect

from storeops.desks import builtin_desks
from storeops.engine.audit import read_audit
from storeops.storage.db import create_db_engine
from storeops.storage.migrate import downgrade, upgrade
from storeops.storage.schema import POSTGRESQL_ONLY_INDEXES, audit_log, metadata

builtin_desks()  # registers the desks' own tables in the metadata


def _differences(conn: Connection) -> list[Any]:
    """What Alembic finds between the database and the model (an index the model makes for
    PostgreSQL only is not expected on SQLite)."""
    skipped = POSTGRESQL_ONLY_INDEXES if conn.dialect.name != "postgresql" else frozenset()
    options = {"include_object": lambda _obj, name, type_, *_: not (type_ == "index" and name in skipped)}
    return list(compare_metadata(MigrationContext.configure(conn, opts=options), metadata))


def test_upgrade_matches_the_model_and_downgrade_removes_everything(db_url: str) -> None:
    engine = create_db_engine(db_url)
    # given an empty database, when migrated to head
    upgrade(engine)
    # then the schema is the model, column for column and index for index
    with engine.connect() as conn:
        diff = _differences(conn)
    assert diff == []
    # and downgrading to base leaves only Alembic's own table, and upgrading again works
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade(engine)
    assert {
        "events",
        "audit_log",
        "handoffs",
        "outbox",
        "timers",
        "policy_versions",
        "sim_truth",
        "orders",
        "customers",
        "stock_levels",
        "stock_movements",
    } <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_upgrade_twice_is_a_no_op(db_url: str) -> None:
    engine = create_db_engine(db_url)
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as conn:
        assert _differences(conn) == []
    engine.dispose()


def test_audit_rows_written_before_0009_happened_when_they_were_recorded(db_url: str) -> None:
    engine = create_db_engine(db_url)
    # given an audit row written by a storeops that knew only the recording time
    upgrade(engine, "0006")
    recorded = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    with engine.begin() as conn:
        # only the columns audit_log had before 0009
        conn.execute(
            insert(audit_log).values(
                at=recorded,
                actor="user:ana",
                desk="orders",
                subject="order:1",
                action="handoff.approve",
                outcome="human",
                reasons=[],
                evidence={},
            )
        )
    # when migrated
    upgrade(engine)
    # then it happened when it was recorded, and reads as both
    with engine.connect() as conn:
        [row] = read_audit(conn)
    assert row["occurred_at"] == row["recorded_at"] == row["at"] == recorded.isoformat()
    downgrade(engine, "0006")
    upgrade(engine)
    engine.dispose()
