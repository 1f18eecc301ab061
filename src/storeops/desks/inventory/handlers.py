"""The inventory desk's handlers: every stock fact becomes a ledger movement.

Anomaly detection, new-SKU and supplier-change handoffs, forecasting and reorders come with the
inventory-desk issue; until then these handlers keep the ledger the orders desk reserves from.
"""

from __future__ import annotations

from storeops.desks.inventory.events import DeliveryReceived, StockAdjusted, StockCounted
from storeops.desks.inventory.ledger import Cause, level, move
from storeops.engine.context import HandlerContext
from storeops.engine.decisions import Decision
from storeops.engine.events import Event


def _reference(event: Event) -> str:
    return f"event:{event.source}:{event.external_id}"


def stock_adjusted(event: Event, ctx: HandlerContext) -> Decision:
    """Apply a movement with its cause."""
    adjusted = event.parsed(StockAdjusted)
    move(
        ctx.conn,
        sku=adjusted.sku,
        location=adjusted.location,
        cause=Cause(adjusted.cause),
        reference=_reference(event),
        at=event.occurred_at,
        on_hand=adjusted.quantity_delta,
    )
    return Decision(
        action="stock.record",
        evidence={
            "sku": adjusted.sku,
            "location": adjusted.location,
            "delta": adjusted.quantity_delta,
            "cause": adjusted.cause,
        },
        task="inventory.movement",
    )


def delivery_received(event: Event, ctx: HandlerContext) -> Decision:
    """A supplier delivery is a receipt."""
    delivery = event.parsed(DeliveryReceived)
    move(
        ctx.conn,
        sku=delivery.sku,
        location=delivery.location,
        cause=Cause.RECEIPT,
        reference=_reference(event),
        at=event.occurred_at,
        on_hand=delivery.quantity,
    )
    return Decision(
        action="stock.receive",
        evidence={
            "sku": delivery.sku,
            "location": delivery.location,
            "quantity": delivery.quantity,
            "supplier": delivery.supplier,
        },
        task="inventory.movement",
    )


def stock_counted(event: Event, ctx: HandlerContext) -> Decision:
    """A count sets on hand; the difference from the ledger is the movement."""
    count = event.parsed(StockCounted)
    current = level(ctx.conn, count.sku, count.location)
    before = current.on_hand if current else 0
    difference = count.counted - before
    if difference:
        move(
            ctx.conn,
            sku=count.sku,
            location=count.location,
            cause=Cause.COUNT,
            reference=_reference(event),
            at=event.occurred_at,
            on_hand=difference,
        )
    return Decision(
        action="stock.count",
        evidence={
            "sku": count.sku,
            "location": count.location,
            "ledger": before,
            "counted": count.counted,
            "difference": difference,
        },
        task="inventory.movement",
    )
