"""deliveries: an event is stored once and delivered to each desk that subscribes to its kind;
status, attempts, retries and dead letters move from events to deliveries

Existing events keep their state: a handled, failed or dead event becomes one delivery to the desk
it was routed to. An event still waiting (never tried, so never routed) is routed here by the
kinds the built-in desks defined at this revision (``handoff.resolved`` and ``clock.tick`` by the
desk their payload names); a kind no built-in desk defined goes to the desk named by its prefix
(``probe.step`` → ``probe``), which the worker marks unhandled if no such desk handles it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import json

import sqlalchemy as sa
from alembic import op

from storeops.storage.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BUILTIN_KINDS = {
    "orders": (
        "order.created",
        "order.updated",
        "order.cancelled",
        "order.cancel_requested",
        "order.paid",
        "shipment.scanned",
        "customer.updated",
        "refund.created",
    ),
    "inventory": (
        "stock.adjusted",
        "stock.counted",
        "delivery.received",
        "product.updated",
        "channel.stock_reported",
        "purchase_order.drafted",
        "stock.sales_anomaly",
    ),
    "support": ("ticket.message_received", "return.requested", "ticket.draft_ready"),
}
DESK_OF = {kind: desk for desk, kinds in BUILTIN_KINDS.items() for kind in kinds}
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _desk(kind: str, payload: object) -> str:
    if kind in ("handoff.resolved", "clock.tick"):
        if isinstance(payload, str):
            payload = json.loads(payload)
        return str((payload or {}).get("desk") or "engine") if isinstance(payload, dict) else "engine"
    return DESK_OF.get(kind, kind.split(".")[0][:32])


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("event_id", ID, nullable=False),
        sa.Column("desk", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", UTCDateTime(), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("event_id", "desk", name=op.f("uq_deliveries_event_id_desk")),
    )
    op.execute(
        "INSERT INTO deliveries (event_id, desk, subject, status, attempts, run_after, processed_at, last_error) "
        "SELECT id, desk, subject, status, attempts, run_after, processed_at, last_error "
        "FROM events WHERE desk IS NOT NULL ORDER BY id"
    )
    conn = op.get_bind()
    waiting = conn.execute(
        sa.text("SELECT id, kind, subject, payload, run_after FROM events WHERE desk IS NULL ORDER BY id")
    ).all()
    if waiting:
        deliveries = sa.table(
            "deliveries",
            sa.column("event_id", ID),
            sa.column("desk", sa.String()),
            sa.column("subject", sa.String()),
            sa.column("status", sa.String()),
            sa.column("attempts", sa.Integer()),
            sa.column("run_after", UTCDateTime()),
        )
        conn.execute(
            deliveries.insert(),
            [
                {
                    "event_id": row.id,
                    "desk": _desk(row.kind, row.payload),
                    "subject": row.subject,
                    "status": "pending",
                    "attempts": 0,
                    "run_after": row.run_after,
                }
                for row in waiting
            ],
        )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliveries_status_event_id"), ["status", "event_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_deliveries_desk_subject_status_event_id"),
            ["desk", "subject", "status", "event_id"],
            unique=False,
        )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_status_id"))
        batch_op.drop_index(batch_op.f("ix_events_subject_status_id"))
        for column in ("status", "attempts", "run_after", "processed_at", "desk", "last_error"):
            batch_op.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="pending"))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("run_after", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("processed_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("desk", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    # One delivery's state per event (the first desk's): a store with fan-out loses the others.
    op.execute(
        "UPDATE events SET status = d.status, attempts = d.attempts, run_after = d.run_after, "
        "processed_at = d.processed_at, desk = d.desk, last_error = d.last_error "
        "FROM (SELECT * FROM deliveries WHERE id IN (SELECT min(id) FROM deliveries GROUP BY event_id)) AS d "
        "WHERE d.event_id = events.id"
    )
    op.execute("UPDATE events SET run_after = received_at WHERE run_after IS NULL")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column("run_after", nullable=False)
        batch_op.create_index(batch_op.f("ix_events_status_id"), ["status", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_subject_status_id"), ["subject", "status", "id"], unique=False)
    op.drop_table("deliveries")
