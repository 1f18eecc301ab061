"""The tables of the engine. Desks that need their own tables add them to ``metadata``.

Every table is created by an Alembic migration (``storage/migrations``); this module is the
model those migrations are checked against in the tests.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from storeops.storage.types import Id, Json, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("payload", Json, nullable=False),
    UniqueConstraint("source", "external_id"),
)

# An event's passage to one desk that subscribes to its kind: stored once, delivered to each.
# Claiming, per-subject order, retries and dead letters are per delivery, so a desk that fails or
# lags holds back only itself.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", Id, nullable=False),
    Column("desk", String(32), nullable=False),
    # the event's subject, kept here so a desk's order per subject is read from this table alone
    Column("subject", String(255), nullable=False),
    # pending → done | unhandled | dead; see engine.queue.DeliveryStatus
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("run_after", UTCDateTime, nullable=False),
    Column("processed_at", UTCDateTime),
    Column("last_error", Text),
    UniqueConstraint("event_id", "desk"),
    # The claim walks pending deliveries by id; (status, event_id) would tempt PostgreSQL, before
    # its first statistics, into a range scan for the per-subject order test (migration 0011).
    Index(None, "status", "id"),
    Index(None, "desk", "subject", "status", "event_id"),
    # What a claim may take, by id: PostgreSQL walks this whatever its planner's figures say, never
    # stepping over deliveries already done (migration 0016). SQLite's planner takes (status, id)
    # by itself, so there it would only cost every ingest one more index.
    Index("ix_deliveries_pending", "id", postgresql_where=text("status = 'pending'")).ddl_if(dialect="postgresql"),
)
POSTGRESQL_ONLY_INDEXES = frozenset({"ix_deliveries_pending"})
"""Indexes only PostgreSQL's schema has (``ddl_if``): what a SQLite database lacks on purpose."""

delivery_keys = Table(
    "delivery_keys",
    metadata,
    # The shared state (``stock:<sku>``, ``customer:…``) a pending delivery's decision reads or
    # changes: a delivery is claimable only when no earlier pending one shares a key (engine.queue).
    # Rows exist only while the delivery is pending.
    Column("event_id", Id, primary_key=True),
    Column("desk", String(32), primary_key=True),
    Column("key", String(255), primary_key=True),
    Index(None, "key", "event_id"),
)

subject_keys = Table(
    "subject_keys",
    metadata,
    # Every key a subject's events ever declared: a later event of the subject that names none
    # (an order's cancellation names no SKU) is ordered by its subject's keys.
    Column("subject", String(255), primary_key=True),
    Column("key", String(255), primary_key=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # When the row was written (``recorded_at`` in the JSON) …
    Column("at", UTCDateTime, nullable=False),
    # … and when what it records happened: the event's own time for a decision, the moment of
    # a person's action. Figures, charts and report periods go by this one.
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("desk", String(32), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("action", String(64), nullable=False),
    # automatic | handoff | human | unhandled; see engine.audit.Outcome
    Column("outcome", String(16), nullable=False),
    Column("task", String(64)),
    Column("reasons", Json, nullable=False),
    Column("evidence", Json, nullable=False),
    Column("policy_version", Integer),
    Column("event_id", Id),
    Column("handoff_id", Id),
    Column("latency_ms", Integer),
    Index(None, "subject", "id"),
    Index(None, "desk", "occurred_at"),
)

handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("desk", String(32), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("reasons", Json, nullable=False),
    Column("evidence", Json, nullable=False),
    Column("suggestion", Text, nullable=False),
    Column("role", String(32), nullable=False),
    Column("priority", Integer, nullable=False),
    # open → claimed → resolved | expired; see engine.inbox.HandoffState
    Column("state", String(16), nullable=False),
    Column("amount_minor", Id),
    Column("currency", String(3)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("claimed_by", String(128)),
    Column("claimed_at", UTCDateTime),
    Column("resolved_by", String(128)),
    Column("resolved_at", UTCDateTime),
    Column("resolution", String(16)),
    Column("note", Text),
    Column("event_id", Id),
    Column("policy_version", Integer),
    Index(None, "state", "desk", "id"),
    Index(None, "state", "due_at"),
    Index(None, "subject"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("connector", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("subject", String(255), nullable=False),
    Column("payload", Json, nullable=False),
    # pending → sent | dead; see engine.outbox.OutboxStatus
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("last_error", Text),
    Column("event_id", Id),
    # When an attempt reached its point of no return (an SMTP server given the whole mail): a
    # sender killed after it does not send again by itself; see engine.outbox.OutboxHandovers.
    Column("handed_over_at", UTCDateTime),
    # Who holds the message's lease while next_attempt_at is its end (engine.outbox.lease_owner): a
    # `work --until-idle` takes over the leases of a sender that died on this machine, names the rest.
    Column("leased_by", String(128)),
    Index(None, "status", "next_attempt_at"),
    Index(None, "subject", "status"),
)

store_imports = Table(
    "store_imports",
    metadata,
    # Where `storeops connect` stands in each resource of a live store, so an interrupted import
    # resumes at the page after the last one stored.
    Column("source", String(32), primary_key=True),
    Column("resource", String(32), primary_key=True),
    Column("cursor", Text),
    Column("done", Boolean, nullable=False),
    Column("pages", Integer, nullable=False),
    Column("events", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

timers = Table(
    "timers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(255), nullable=False, unique=True),
    Column("kind", String(64), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("payload", Json, nullable=False),
    Column("fire_at", UTCDateTime, nullable=False),
    Column("interval_minutes", Integer),
    Index(None, "fire_at"),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("digest", String(64), nullable=False, unique=True),
    Column("content", Json, nullable=False),
    Column("source", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(255), nullable=False, unique=True),
    # owner | ops | support | finance | marketing | procurement; see storeops.accounts.Role
    Column("role", String(32), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
)

# Secrets are stored only as SHA-256 digests: a leaked database yields no usable token or session.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("name", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("user_id", Id, nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "user_id"),
)

# Sign-in throttling, shared by every web process and kept across restarts (storeops.accounts):
# failures per client address and per account in a fixed window, and the addresses each account
# has signed in from (scope "known"), which a limit on the account does not shut out.
sign_in_limits = Table(
    "sign_in_limits",
    metadata,
    Column("scope", String(16), primary_key=True),
    Column("key", String(320), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("first_at", UTCDateTime, nullable=False),
    Column("last_at", UTCDateTime, nullable=False),
    Index(None, "last_at"),
)

# Ground truth of simulated situations. Handlers never receive a connection to read it through
# their context; only benchmarks and reports that grade decisions do.
sim_truth = Table(
    "sim_truth",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subject", String(255), nullable=False),
    Column("label", String(64), nullable=False),
    Column("detail", Json, nullable=False),
    Index(None, "subject"),
)
