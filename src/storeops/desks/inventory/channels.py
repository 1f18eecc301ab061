"""Channel sync: each sales channel shows the ledger's available stock minus its safety buffer.

Pushes are coalesced twice: the ledger notes which levels changed in a batch's transaction and,
once the batch's handlers have run, one ``stock.set`` per channel, SKU and location is written
— and only when the figure the channel should show changed (``channel_levels`` keeps what was
last pushed). When a message for the same channel, SKU and location is still waiting in the
outbox (not yet leased by a sender), its figure is replaced instead of queueing another: a
burst of 100 sales is one push with the final figure.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storeops.desks.inventory.ledger import stock_levels, take_changed
from storeops.desks.inventory.policy import InventoryPolicy
from storeops.desks.inventory.tables import channel_levels
from storeops.engine.decisions import OutboxMessage
from storeops.engine.outbox import OutboxStatus
from storeops.engine.policy import Policy
from storeops.storage.schema import outbox


def shown(available: int, buffer: int) -> int:
    """What a channel with ``buffer`` units of safety shows for sale."""
    return max(0, available - buffer)


REPLACE_WAITING = (
    update(outbox)
    .where(outbox.c.id == bindparam("queued"), outbox.c.attempts == 0, outbox.c.next_attempt_at <= bindparam("now"))
    .values(payload=bindparam("payload"))
)


def _replace_waiting(updates: list[dict[str, Any]], conn: Connection, now: datetime) -> set[int]:
    """Put the new figures into the still-waiting messages (one statement for all); returns the ids
    that took them. The WHERE re-checks that no sender leased a message meanwhile; a message
    leased after the UPDATE and before the re-read is counted as missed, so its figure is queued
    anew — a second push of the same figure, never a lost one."""
    if not updates:
        return set()
    conn.execute(REPLACE_WAITING, [{**u, "now": now} for u in updates])
    return set(
        conn.execute(
            select(outbox.c.id).where(
                outbox.c.id.in_([u["queued"] for u in updates]), outbox.c.attempts == 0, outbox.c.next_attempt_at <= now
            )
        ).scalars()
    )


def push_changed(conn: Connection, policy: Policy, now: datetime) -> Sequence[OutboxMessage]:
    """One ``stock.set`` per channel for every level changed in this batch whose shown figure moved."""
    changed = take_changed(conn)
    channels = policy.section("inventory", InventoryPolicy).channels
    if not changed or not channels:
        return []
    pairs = sorted(changed)
    current = {
        (row.sku, row.location): row.on_hand - row.reserved
        for row in conn.execute(
            select(stock_levels).where(tuple_(stock_levels.c.sku, stock_levels.c.location).in_(pairs))
        )
    }
    pushed = {
        (row.channel, row.sku, row.location): row.available
        for row in conn.execute(
            select(channel_levels).where(tuple_(channel_levels.c.sku, channel_levels.c.location).in_(pairs))
        )
    }
    waiting = {
        (row.payload["channel"], row.payload["sku"], row.payload["location"]): row.id
        for row in conn.execute(
            select(outbox.c.id, outbox.c.payload).where(
                # As an expression the status cannot steer SQLite (which keeps no statistics) to
                # the (status, next_attempt_at) index, a scan of every pending message; the
                # subject index finds these SKUs' few.
                (outbox.c.status + "") == OutboxStatus.PENDING.value,
                outbox.c.connector == "channels",
                outbox.c.action == "stock.set",
                outbox.c.attempts == 0,
                outbox.c.next_attempt_at <= now,
                outbox.c.subject.in_(sorted({f"sku:{sku}" for sku, _ in pairs})),
            )
        )
    }
    rows = []
    # Each changed figure as the message it would queue, beside the waiting message it may replace.
    candidates: list[tuple[int | None, OutboxMessage]] = []
    for channel, buffer in sorted(channels.items()):
        for sku, location in pairs:
            value = shown(current.get((sku, location), 0), buffer)
            if pushed.get((channel, sku, location)) == value:
                continue
            rows.append({"channel": channel, "sku": sku, "location": location, "available": value, "pushed_at": now})
            message = OutboxMessage(
                connector="channels",
                action="stock.set",
                payload={"channel": channel, "sku": sku, "location": location, "available": value},
                idempotency_key=f"stock.set:{channel}:{sku}:{location}:{uuid.uuid4().hex}",
                subject=f"sku:{sku}",
            )
            candidates.append((waiting.get((channel, sku, location)), message))
    replaced = _replace_waiting(
        [{"queued": queued, "payload": message.payload} for queued, message in candidates if queued is not None],
        conn,
        now,
    )
    messages = [message for queued, message in candidates if queued not in replaced]
    if rows:
        statement = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(channel_levels)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["channel", "sku", "location"],
                set_={"available": statement.excluded.available, "pushed_at": statement.excluded.pushed_at},
            ),
            rows,
        )
    return messages
