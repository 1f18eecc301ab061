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

from sqlalchemy import Connection, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storeops.desks.inventory.ledger import stock_levels, take_changed
from storeops.desks.inventory.policy import InventoryPolicy
from storeops.desks.inventory.tables import channel_levels
from storeops.engine.decisions import OutboxMessage
from storeops.engine.outbox import replace_pending, waiting_messages
from storeops.engine.policy import Policy


def shown(available: int, buffer: int) -> int:
    """What a channel with ``buffer`` units of safety shows for sale."""
    return max(0, available - buffer)


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
        (payload["channel"], payload["sku"], payload["location"]): message_id
        for message_id, payload in waiting_messages(
            conn, connector="channels", action="stock.set", subjects=[f"sku:{sku}" for sku, _ in pairs], now=now
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
    replaced = replace_pending(
        conn, [(queued, message.payload) for queued, message in candidates if queued is not None], now=now
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
