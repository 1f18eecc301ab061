"""Creating database engines with the settings each backend needs."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from storeops.errors import DatabaseUnavailable

READONLY = "storeops_readonly"


def create_db_engine(url: str, *, pool_size: int = 5) -> Engine:
    """An engine for ``url``: SQLite in WAL mode with immediate write transactions, or PostgreSQL.

    Raises DatabaseUnavailable for a URL that is malformed or names an unsupported backend.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnavailable(
            f"STOREOPS_DATABASE_URL {url!r} is not a database URL; "
            "use sqlite:///path/to/storeops.db or postgresql+psycopg://user@host/db"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    raise DatabaseUnavailable(
        f"unsupported database {backend!r} in STOREOPS_DATABASE_URL; storeops runs on SQLite or PostgreSQL"
    )


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        parent = Path(database).expanduser().resolve().parent
        if not parent.is_dir():
            raise DatabaseUnavailable(f"cannot create SQLite database {database!r}: folder {parent} does not exist")
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so that BEGIN IMMEDIATE and SAVEPOINT work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        raw = conn.connection.driver_connection
        if conn.get_execution_options().get(READONLY):
            raw.execute("BEGIN")
        else:
            _begin_immediate(raw)

    return engine


WRITE_LOCK_TIMEOUT = 30.0
"""Seconds a writer waits for SQLite's write lock before giving up with 'database is locked'."""


def _begin_immediate(raw: sqlite3.Connection) -> None:
    """Take the write lock up front, retrying every fraction of a millisecond.

    A deferred transaction that later upgrades to a write fails with SQLITE_BUSY instead of
    waiting, so writers begin IMMEDIATE. SQLite's own busy handler would wait too, but it
    backs off to 100 ms sleeps, which lets a busy worker starve a webhook's ingest; polling
    with short sleeps keeps the wait for the lock near the length of the holder's transaction.
    """
    raw.execute("PRAGMA busy_timeout=0")
    deadline = time.monotonic() + WRITE_LOCK_TIMEOUT
    delay = 0.0002
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 1.5, 0.002)
    finally:
        raw.execute("PRAGMA busy_timeout=30000")


def read_only(engine: Engine) -> Engine:
    """The same engine for reads that never write: on SQLite they begin a plain (deferred)
    transaction, so in WAL mode they neither wait for nor block the worker."""
    return engine.execution_options(**{READONLY: True})


def check_database(engine: Engine, *, need_schema: bool = True) -> None:
    """Raise DatabaseUnavailable with a one-line reason when the database cannot be used."""
    try:
        with engine.connect() as conn:
            if need_schema and not inspect(conn).has_table("events"):
                raise DatabaseUnavailable(
                    f"database {engine.url.render_as_string(hide_password=True)} has no storeops schema; "
                    "run 'storeops db upgrade' first"
                )
    except DBAPIError as exc:
        # Unreachable, refused, or not a database at all (a SQLite URL naming some other file).
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        verb = "reach" if isinstance(exc, OperationalError) else "use"
        raise DatabaseUnavailable(
            f"cannot {verb} database {engine.url.render_as_string(hide_password=True)}: {reason}"
        ) from None
