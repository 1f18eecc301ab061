"""The inventory desk's handlers: every stock fact becomes a ledger movement; the unusual goes to a person.

- Movements, receipts and counts update the ledger. A count further from the ledger than
  ``[inventory] count_tolerance_units``, a channel drifting beyond ``channel_drift_units`` and
  available stock below zero (without backorders) are ``stock_anomaly`` handoffs.
- Catalogue facts: a SKU first seen after the catalogue import is ``new_sku`` (not reordered
  until a person sets its supplier and lead time); a changed supplier, cost or lead time is
  ``supplier_change``.
- A daily timer runs the reorder maths (``reorder.py``) and drafts one purchase order per
  supplier; each draft is a ``reorder_confirmation`` handoff. Confirmed, it goes to the supplier
  through the outbox and its quantities count as on-order stock until received.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from storeops.desks.inventory.anomaly import sales_anomalies
from storeops.desks.inventory.channels import shown
from storeops.desks.inventory.events import (
    ChannelStockReported,
    DeliveryReceived,
    ProductUpdated,
    PurchaseOrderDrafted,
    SalesAnomalyFound,
    StockAdjusted,
    StockCounted,
)
from storeops.desks.inventory.ledger import Cause, level, levels, move, on_hand_as_of
from storeops.desks.inventory.policy import InventoryPolicy
from storeops.desks.inventory.reasons import InventoryReason
from storeops.desks.inventory.reorder import PoState, draft_purchase_orders, plan_reorders
from storeops.desks.inventory.tables import channel_items, channel_reports_waiting, products, purchase_orders
from storeops.engine.context import HandlerContext
from storeops.engine.decisions import Decision, HandoffRequest, OutboxMessage
from storeops.engine.events import Event, NewEvent
from storeops.engine.inbox import get_handoff, supersede_handoffs
from storeops.engine.scheduler import schedule
from storeops.errors import InvalidInput
from storeops.money import Money
from storeops.storage.schema import handoffs

REORDER_TIMER = "inventory:reorder"
ROLE = "procurement"


def _reference(event: Event) -> str:
    return f"event:{event.source}:{event.external_id}"


def lock_keys(event: Event) -> Sequence[str]:
    """The SKU whose level a stock event changes; the same key the orders desk takes for its lines."""
    sku = event.payload.get("sku")
    return (f"stock:{sku}",) if isinstance(sku, str) else ()


def _negative(conn: Connection, sku: str, location: str, policy: InventoryPolicy) -> dict[str, Any] | None:
    current = level(conn, sku, location)
    if current is None or policy.allow_backorders or current.available >= 0:
        return None
    return {"on_hand": current.on_hand, "reserved": current.reserved, "available": current.available}


def _anomaly(action: str, evidence: dict[str, Any], suggestion: str) -> Decision:
    return Decision(
        action=action,
        reasons=(InventoryReason.STOCK_ANOMALY,),
        evidence=evidence,
        handoff=HandoffRequest(role=ROLE, suggestion=suggestion),
    )


def stock_adjusted(event: Event, ctx: HandlerContext) -> Decision:
    """Apply a movement with its cause; stock going below zero is an anomaly."""
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
    evidence: dict[str, Any] = {
        "sku": adjusted.sku,
        "location": adjusted.location,
        "delta": adjusted.quantity_delta,
        "cause": adjusted.cause,
    }
    negative = _negative(ctx.conn, adjusted.sku, adjusted.location, ctx.settings(InventoryPolicy))
    if negative:
        return _anomaly(
            "stock.negative",
            {**evidence, **negative, "kind": "negative_stock", "expected_range": [0, None]},
            "Stock went below zero: count the shelf and correct the ledger.",
        )
    return Decision(action="stock.record", evidence=evidence, task="inventory.movement")


def delivery_received(event: Event, ctx: HandlerContext) -> Decision:
    """A supplier delivery is a receipt; it also fills the purchase order it answers."""
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
    filled = _receive_on_po(ctx.conn, delivery) if delivery.purchase_order else None
    return Decision(
        action="stock.receive",
        evidence={
            "sku": delivery.sku,
            "location": delivery.location,
            "quantity": delivery.quantity,
            "supplier": delivery.supplier,
            "purchase_order": delivery.purchase_order,
            "purchase_order_state": filled,
        },
        task="inventory.movement",
    )


def _receive_on_po(conn: Connection, delivery: DeliveryReceived) -> str | None:
    row = conn.execute(select(purchase_orders).where(purchase_orders.c.number == delivery.purchase_order)).first()
    if row is None or row.state != PoState.CONFIRMED:
        return None
    lines = [dict(line) for line in row.lines]
    left = delivery.quantity
    for line in lines:
        if line["sku"] == delivery.sku and line["location"] == delivery.location and left > 0:
            take = min(left, int(line["quantity"]) - int(line.get("received", 0)))
            line["received"] = int(line.get("received", 0)) + max(0, take)
            left -= max(0, take)
    state = PoState.RECEIVED if all(int(line["received"]) >= int(line["quantity"]) for line in lines) else row.state
    conn.execute(update(purchase_orders).where(purchase_orders.c.id == row.id).values(lines=lines, state=state))
    return str(state)


def stock_counted(event: Event, ctx: HandlerContext) -> Decision:
    """A count sets on hand; the difference is the movement. Far from the ledger, a person looks."""
    count = event.parsed(StockCounted)
    policy = ctx.settings(InventoryPolicy)
    # A new count of the same shelf replaces the one a person was asked to look at.
    supersede_handoffs(
        ctx.conn,
        desk=ctx.desk,
        subject=event.subject,
        why=f"a new count of {count.sku} at {count.location} replaced it",
        actor="automation:inventory",
        event_id=event.id,
        now=min(event.occurred_at, ctx.now),
        reasons=[InventoryReason.STOCK_ANOMALY.value],
        matching=lambda found: (
            found.get("kind") in ("shrinkage", "surplus") and found.get("location") == count.location
        ),
    )
    # Judged against the ledger as of the count's own time: a sale, receipt or count dated after
    # it that was decided first is not on the shelf the counter saw. The movement lands at that
    # time too, so what came later still applies on top of the count.
    before = on_hand_as_of(ctx.conn, count.sku, count.location, min(event.occurred_at, ctx.now)) or 0
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
    evidence: dict[str, Any] = {
        "sku": count.sku,
        "location": count.location,
        "ledger": before,
        "counted": count.counted,
        "difference": difference,
        "tolerance": policy.count_tolerance_units,
        "expected_range": [before - policy.count_tolerance_units, before + policy.count_tolerance_units],
    }
    if abs(difference) > policy.count_tolerance_units and not count.backfill:
        kind = "shrinkage" if difference < 0 else "surplus"
        return _anomaly(
            "stock.count_mismatch",
            {**evidence, "kind": kind},
            f"The count is {abs(difference)} units {'below' if difference < 0 else 'above'} the ledger: "
            "look for theft, damage or a missed receipt; the ledger now follows the count.",
        )
    return Decision(action="stock.count", evidence=evidence, task="inventory.movement")


def channel_stock_reported(event: Event, ctx: HandlerContext) -> Decision | None:
    """A channel's absolute level: a difference from the ledger is an unexplained movement. The
    first level of a SKU at a location opens its stock (there is no ledger to differ from), and a
    report for an item no product has mapped yet waits for that product."""
    report = event.parsed(ChannelStockReported)
    policy = ctx.settings(InventoryPolicy)
    sku = report.sku or _sku_of_item(ctx.conn, report.channel, report.inventory_item_id)
    location = policy.channel_locations.get(report.channel) if report.location == "*" else report.location
    if sku is None:
        evidence: dict[str, Any] = {
            "channel": report.channel,
            "inventory_item_id": report.inventory_item_id,
            "location": location,
            "available": report.available,
        }
        if report.inventory_item_id is not None and location is not None:
            _wait_for_product(ctx.conn, report, location, event)
            evidence["waiting"] = "applied when a product names this item"
        return Decision(action="stock.channel_unmapped", evidence=evidence)
    if location is None:
        return Decision(
            action="stock.channel_unmapped",
            evidence={
                "channel": report.channel,
                "sku": sku,
                "available": report.available,
                "problem": f"set [inventory] channel_locations for {report.channel}",
            },
        )
    return _apply_channel_level(
        ctx,
        channel=report.channel,
        sku=sku,
        location=location,
        available=report.available,
        reference=_reference(event),
        at=event.occurred_at,
        backfill=report.backfill,
    )


def _apply_channel_level(
    ctx: HandlerContext,
    *,
    channel: str,
    sku: str,
    location: str,
    available: int,
    reference: str,
    at: datetime,
    backfill: bool,
) -> Decision:
    """Bring the ledger to a channel's reported level; beyond the drift tolerance, a person looks —
    unless it is the SKU's first level at the location (opening stock) or part of an import."""
    policy = ctx.settings(InventoryPolicy)
    current = level(ctx.conn, sku, location)
    ledger = current.available if current else 0
    buffer = policy.channels.get(channel, 0)
    expected = shown(ledger, buffer)
    difference = available - expected
    evidence: dict[str, Any] = {
        "sku": sku,
        "location": location,
        "channel": channel,
        "ledger_available": ledger,
        "buffer": buffer,
        "expected": expected,
        "channel_available": available,
        "difference": difference,
        "tolerance": policy.channel_drift_units,
    }
    if current is None:
        # Nothing to differ from: the channel's figure is the opening stock, not an anomaly.
        if available:
            move(ctx.conn, sku=sku, location=location, cause=Cause.COUNT, reference=reference, at=at, on_hand=available)
        return Decision(
            action="stock.import" if backfill else "stock.open",
            evidence={**evidence, "opening": True},
            task="inventory.movement",
            subject=f"sku:{sku}",
        )
    if difference:
        move(
            ctx.conn, sku=sku, location=location, cause=Cause.ADJUSTMENT, reference=reference, at=at, on_hand=difference
        )
    if abs(difference) > policy.channel_drift_units and not backfill:
        anomaly = _anomaly(
            "stock.channel_drift",
            {
                **evidence,
                "kind": "unexplained",
                "expected_range": [expected - policy.channel_drift_units, expected + policy.channel_drift_units],
            },
            f"{channel} shows {available}, the ledger says {expected}: find the unexplained movement.",
        )
        return replace(anomaly, subject=f"sku:{sku}")
    return Decision(
        action="stock.import" if backfill else "stock.channel_sync",
        evidence=evidence,
        task="inventory.movement",
        subject=f"sku:{sku}",
    )


def _wait_for_product(conn: Connection, report: ChannelStockReported, location: str, event: Event) -> None:
    """Keep the newest report of an unmapped item at a location until a product maps the item."""
    key = {"channel": report.channel, "item_id": str(report.inventory_item_id), "location": location}
    newer = conn.execute(
        select(channel_reports_waiting.c.reported_at).where(
            *(getattr(channel_reports_waiting.c, column) == value for column, value in key.items())
        )
    ).scalar()
    if newer is not None and newer > event.occurred_at:
        return
    conn.execute(
        delete(channel_reports_waiting).where(
            *(getattr(channel_reports_waiting.c, column) == value for column, value in key.items())
        )
    )
    conn.execute(
        insert(channel_reports_waiting).values(
            **key, available=report.available, reported_at=event.occurred_at, reference=_reference(event)
        )
    )


def _apply_waiting(ctx: HandlerContext, sku: str, items: dict[str, str]) -> list[dict[str, Any]]:
    """Apply the level reports that waited for this product's channel items (see ``_wait_for_product``)."""
    applied = []
    for channel, item_id in items.items():
        match = (channel_reports_waiting.c.channel == channel, channel_reports_waiting.c.item_id == item_id)
        for row in ctx.conn.execute(
            select(channel_reports_waiting).where(*match).order_by(channel_reports_waiting.c.location)
        ).all():
            decision = _apply_channel_level(
                ctx,
                channel=channel,
                sku=sku,
                location=row.location,
                available=row.available,
                reference=row.reference,
                at=row.reported_at,
                backfill=True,  # a person sees the product's own decision; the level only catches up
            )
            applied.append({"location": row.location, "available": row.available, "action": decision.action})
        ctx.conn.execute(delete(channel_reports_waiting).where(*match))
    return applied


def _sku_of_item(conn: Connection, channel: str, item_id: str | None) -> str | None:
    if item_id is None:
        return None
    return conn.execute(
        select(channel_items.c.sku).where(channel_items.c.channel == channel, channel_items.c.item_id == item_id)
    ).scalar()


def _remember_items(conn: Connection, sku: str, items: dict[str, str]) -> None:
    for channel, item_id in items.items():
        conn.execute(
            delete(channel_items).where(channel_items.c.channel == channel, channel_items.c.item_id == item_id)
        )
        conn.execute(insert(channel_items).values(channel=channel, item_id=item_id, sku=sku))


CATALOGUE_FACTS = ("supplier", "cost_minor", "lead_time_days", "moq", "case_pack")


def product_updated(event: Event, ctx: HandlerContext) -> Decision:
    """Catalogue facts of a SKU: new after the import → new_sku; supplier/cost/lead time → supplier_change."""
    product = event.parsed(ProductUpdated)
    policy = ctx.settings(InventoryPolicy)
    at = event.occurred_at
    _ensure_reorder_timer(ctx.conn, at, policy)
    _remember_items(ctx.conn, product.sku, product.channel_items)
    stock: dict[str, Any] = {}
    waited = _apply_waiting(ctx, product.sku, product.channel_items)
    if waited:
        stock["levels_that_waited"] = waited
    if product.storefront_quantity is not None:
        stock.update(_open_from_storefront(ctx, product, event.source, _reference(event), at))
    row = ctx.conn.execute(select(products).where(products.c.sku == product.sku)).first()
    given = {key: getattr(product, key) for key in CATALOGUE_FACTS if getattr(product, key) is not None}
    if row is None:
        complete = product.supplier is not None and product.lead_time_days is not None
        ctx.conn.execute(
            products.insert().values(
                sku=product.sku,
                title=product.title,
                moq=product.moq or 1,
                case_pack=product.case_pack or 1,
                supplier=product.supplier,
                cost_minor=product.cost_minor,
                lead_time_days=product.lead_time_days,
                reorder=bool(product.backfill and complete),
                first_seen_at=at,
                updated_at=at,
            )
        )
        evidence = {"sku": product.sku, "title": product.title, **given, **stock}
        if product.backfill:
            return Decision(action="sku.import", evidence=evidence, task="inventory.catalogue")
        return Decision(
            action="sku.new",
            reasons=(InventoryReason.NEW_SKU,),
            evidence=evidence,
            handoff=HandoffRequest(
                role=ROLE,
                suggestion="A heads-up, orders for it go ahead: set the supplier, cost, lead time, MOQ and case "
                "pack (modify with them as JSON), then approve to let automation reorder it.",
            ),
        )
    previous = {key: getattr(row, key) for key in CATALOGUE_FACTS}
    changed = {key: {"from": previous[key], "to": value} for key, value in given.items() if previous[key] != value}
    ctx.conn.execute(
        update(products)
        .where(products.c.sku == product.sku)
        .values(**given, title=product.title or row.title, updated_at=at)
    )
    interesting = {key: value for key, value in changed.items() if key in ("supplier", "cost_minor", "lead_time_days")}
    if interesting and not product.backfill and any(previous[key] is not None for key in interesting):
        return Decision(
            action="sku.supplier_change",
            reasons=(InventoryReason.SUPPLIER_CHANGE,),
            evidence={"sku": product.sku, "changes": changed, "previous": previous},
            handoff=HandoffRequest(
                role=ROLE,
                suggestion="Check the new terms; approve to keep them, reject to go back to the previous ones.",
            ),
        )
    return Decision(
        action="sku.update", evidence={"sku": product.sku, "changes": changed, **stock}, task="inventory.catalogue"
    )


def _open_from_storefront(
    ctx: HandlerContext, product: ProductUpdated, channel: str, reference: str, at: datetime
) -> dict[str, Any]:
    """Open a SKU's stock from the storefront's store-wide figure when no level of it is known at
    any location, at the location ``[inventory] channel_locations`` names for the channel. Once a
    level exists the figure is only evidence: the per-location levels are the truth."""
    assert product.storefront_quantity is not None
    policy = ctx.settings(InventoryPolicy)
    figure = {"storefront_quantity": product.storefront_quantity}
    if levels(ctx.conn, [product.sku]):
        return figure
    location = policy.channel_locations.get(channel)
    if location is None:
        return {
            **figure,
            "stock_not_counted": f"no level yet; set [inventory] channel_locations for {channel} to open the "
            "stock from this figure, or import the store's inventory levels",
        }
    opening = max(0, product.storefront_quantity)
    if opening:
        move(
            ctx.conn, sku=product.sku, location=location, cause=Cause.COUNT, reference=reference, at=at, on_hand=opening
        )
    return {**figure, "opened": {"location": location, "on_hand": opening}}


def _ensure_reorder_timer(conn: Connection, at: datetime, policy: InventoryPolicy) -> None:
    first = at.replace(hour=policy.reorder_hour_utc, minute=0, second=0, microsecond=0)
    if first <= at:
        first += timedelta(days=1)
    schedule(
        conn,
        key=REORDER_TIMER,
        kind="clock.tick",
        subject=REORDER_TIMER,
        at=first,
        payload={"desk": "inventory", "task": "reorder"},
        every_minutes=24 * 60,
        replace=False,
    )


def timer_fired(event: Event, ctx: HandlerContext) -> Decision | None:
    """The daily reorder run: plan, draft one purchase order per supplier, queue each for a person."""
    if event.payload.get("task") != "reorder":
        return None
    policy = ctx.settings(InventoryPolicy)
    as_of = event.occurred_at
    lines, looked_at = plan_reorders(ctx.conn, policy, as_of)
    drafts = draft_purchase_orders(ctx.conn, lines, at=as_of, currency=ctx.policy.store.currency)
    anomalies = sales_anomalies(ctx.conn, policy, as_of)
    follow_ups = [
        NewEvent(
            source="storeops.inventory",
            external_id=f"{draft['number']}:drafted",
            kind="purchase_order.drafted",
            subject=f"po:{draft['number']}",
            occurred_at=as_of,
            payload={"number": draft["number"]},
        )
        for draft in drafts
    ] + [
        NewEvent(
            source="storeops.inventory",
            external_id=f"{found.sku}@{found.location}:{found.kind}:{found.day}",
            kind="stock.sales_anomaly",
            subject=f"sku:{found.sku}",
            occurred_at=as_of,
            payload=asdict(found),
        )
        for found in anomalies
    ]
    return Decision(
        follow_ups=tuple(follow_ups),
        action="inventory.reorder_run",
        evidence={
            "as_of": as_of.isoformat(),
            "sku_locations": looked_at,
            "lines": len(lines),
            "purchase_orders": [draft["number"] for draft in drafts],
            "sales_anomalies": len(anomalies),
        },
        task="inventory.reorder_run",
    )


def sales_anomaly(event: Event, ctx: HandlerContext) -> Decision:
    """Sales left the forecast interval: a person looks (a viral product, a broken listing, a price error)."""
    found = event.parsed(SalesAnomalyFound)
    low, high = found.expected_range
    what = (
        f"sold {found.sold:g} on {found.day}, expected {found.expected:g} (up to {high:g})"
        if found.kind == "sales_spike"
        else f"sold nothing in the week from {found.day}, expected {found.expected:g} (at least {low:g})"
    )
    return _anomaly(
        "stock.sales_anomaly",
        event.payload,
        f"{found.sku} at {found.location} {what}: check the listing, the price and the stock.",
    )


def purchase_order_drafted(event: Event, ctx: HandlerContext) -> Decision | None:
    """A draft purchase order waits for a person: the lines, the forecast and the maths."""
    number = event.parsed(PurchaseOrderDrafted).number
    row = ctx.conn.execute(select(purchase_orders).where(purchase_orders.c.number == number)).first()
    if row is None or row.state != PoState.DRAFT:
        return None
    total = sum(int(line["quantity"]) * int(line["cost_minor"]) for line in row.lines)
    soonest = min((line["stockout_date"] for line in row.lines if line.get("stockout_date")), default=None)
    return Decision(
        action="po.draft",
        reasons=(InventoryReason.REORDER_CONFIRMATION,),
        evidence={
            "number": number,
            "supplier": row.supplier,
            "total_minor": total,
            "first_stockout_date": soonest,
            "lines": row.lines,
        },
        handoff=HandoffRequest(
            role=ROLE,
            suggestion=f"Order {sum(int(line['quantity']) for line in row.lines)} units from {row.supplier}"
            + (f" before {soonest}, when stock runs out" if soonest else "")
            + '. Approve, or modify with {"quantities": {"SKU@LOCATION": units}}.',
            amount=Money(total, row.currency),
        ),
    )


def handoff_resolved(event: Event, ctx: HandlerContext) -> Decision | None:
    """A person decided on an inventory handoff; carry it out."""
    reasons = set(event.payload.get("reasons") or [])
    resolution = str(event.payload.get("resolution"))
    changes: dict[str, Any] = dict(event.payload.get("changes") or {})
    if InventoryReason.REORDER_CONFIRMATION in reasons:
        return _said(_resolve_po(event, ctx, resolution, changes))
    if InventoryReason.NEW_SKU in reasons:
        return _said(_resolve_new_sku(event, ctx, resolution, changes))
    if InventoryReason.SUPPLIER_CHANGE in reasons:
        return _said(_resolve_supplier_change(event, ctx, resolution))
    return _resolve_anomaly(event, ctx, resolution)


def _said(decision: Decision | None) -> Decision | None:
    """The resolution's decision with what it did (or why it did nothing) in words."""
    if decision is None:
        return None
    ev = decision.evidence
    effects: list[str] = []
    refused = None
    if decision.action == "po.confirm":
        effects = [f"purchase order {ev['number']} sent to the supplier, expected {ev['expected_at'][:10]}"]
    elif decision.action == "po.cancel":
        effects = [f"purchase order {ev['number']} cancelled"]
    elif decision.action == "po.resolution_ignored":
        refused = f"purchase order {ev['number']} is {ev['state'] or 'gone'}, no longer a draft"
    elif decision.action == "sku.setup":
        set_up = ", ".join(f"{key} {value}" for key, value in ev["facts"].items()) or "nothing new"
        then = (
            "reordered automatically from now on"
            if ev["reorder"]
            else "not reordered until its supplier and lead time are set"
        )
        effects = [f"{ev['sku']}: {set_up}", then]
    elif decision.action in ("sku.setup_refused", "sku.setup_ignored"):
        refused = ev.get("error") or f"{ev['sku']} is not in the catalogue"
    elif decision.action == "sku.supplier_change_accept":
        effects = [f"{ev['sku']}: the new terms stand"]
    elif decision.action == "sku.supplier_change_revert":
        effects = [f"{ev['sku']}: the previous terms are back"]
    return replace(decision, evidence={**ev, "effects": effects, "refused": refused})


COUNTED_KINDS = ("shrinkage", "surplus", "unexplained")
"""Anomalies where the ledger already followed a count or a channel: a reject puts it back."""


def _resolve_anomaly(event: Event, ctx: HandlerContext, resolution: str) -> Decision:
    """Approve accepts what was counted (the ledger already follows it); reject keeps the ledger as
    it was — the difference goes back — and asks the warehouse for a recount."""
    handoff_id = int(event.payload["handoff_id"])
    evidence = dict(get_handoff(ctx.conn, handoff_id)["evidence"])
    kind, sku, location = evidence.get("kind"), evidence.get("sku"), evidence.get("location")
    difference = int(evidence.get("difference") or 0)
    if resolution == "approve" or kind not in COUNTED_KINDS or not sku or not location:
        said = {
            "shrinkage": f"the count stands: {evidence.get('counted')} of {sku} at {location}",
            "surplus": f"the count stands: {evidence.get('counted')} of {sku} at {location}",
            "unexplained": f"the channel's {evidence.get('channel_available')} of {sku} stands",
        }.get(str(kind), "noted; nothing to change")
        return Decision(
            action=f"stock.anomaly_{resolution}",
            evidence={"resolution": resolution, "effects": [said], "refused": None},
        )
    move(
        ctx.conn,
        sku=str(sku),
        location=str(location),
        cause=Cause.ADJUSTMENT,
        reference=f"handoff:{handoff_id}:reject",
        at=min(event.occurred_at, ctx.now),
        on_hand=-difference,
    )
    ledger = evidence.get("ledger", evidence.get("ledger_available"))
    return Decision(
        action="stock.recount_asked",
        evidence={
            "resolution": resolution,
            "reverted": -difference,
            "effects": [f"the ledger is back at {ledger} of {sku} at {location}", f"a recount asked of {location}"],
            "refused": None,
        },
        outbox=(
            OutboxMessage(
                "warehouse",
                "count.request",
                {"sku": sku, "location": location, "why": "a count far from the ledger was rejected"},
                f"{event.subject}:handoff:{handoff_id}:recount",
            ),
        ),
    )


def _resolve_po(event: Event, ctx: HandlerContext, resolution: str, changes: dict[str, Any]) -> Decision | None:
    number = event.subject.removeprefix("po:")
    row = ctx.conn.execute(select(purchase_orders).where(purchase_orders.c.number == number)).first()
    if row is None or row.state != PoState.DRAFT:
        return Decision(
            action="po.resolution_ignored", evidence={"number": number, "state": row.state if row else None}
        )
    if resolution == "reject":
        ctx.conn.execute(update(purchase_orders).where(purchase_orders.c.id == row.id).values(state=PoState.CANCELLED))
        return Decision(action="po.cancel", evidence={"number": number})
    lines = [dict(line) for line in row.lines]
    edited = _quantities(changes, lines) if resolution == "modify" else {}
    for line in lines:
        key = f"{line['sku']}@{line['location']}"
        if key in edited:
            line["quantity"] = edited[key]
    lines = [line for line in lines if int(line["quantity"]) > 0]
    if not lines:
        ctx.conn.execute(update(purchase_orders).where(purchase_orders.c.id == row.id).values(state=PoState.CANCELLED))
        return Decision(action="po.cancel", evidence={"number": number, "edited": edited})
    lead = max(int(line["lead_time_days"]) for line in lines)
    expected = event.occurred_at + timedelta(days=lead)
    ctx.conn.execute(
        update(purchase_orders)
        .where(purchase_orders.c.id == row.id)
        .values(state=PoState.CONFIRMED, lines=lines, confirmed_at=event.occurred_at, expected_at=expected)
    )
    message = {
        "number": number,
        "supplier": row.supplier,
        "currency": row.currency,
        "expected_at": expected.isoformat(),
        "lines": [
            {
                "sku": line["sku"],
                "location": line["location"],
                "quantity": line["quantity"],
                "cost_minor": line["cost_minor"],
            }
            for line in lines
        ],
    }
    return Decision(
        action="po.confirm",
        evidence={"number": number, "edited": edited, "expected_at": expected.isoformat()},
        outbox=(OutboxMessage(connector="suppliers", action="purchase_order.send", payload=message),),
    )


def _quantities(changes: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, int]:
    """``{"quantities": {"SKU@LOCATION" or "SKU": units}}`` → per line key; bad input changes nothing."""
    raw = changes.get("quantities")
    if not isinstance(raw, dict):
        return {}
    out: dict[str, int] = {}
    for key, value in raw.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            continue
        for line in lines:
            full = f"{line['sku']}@{line['location']}"
            if key in (full, line["sku"]):
                out[full] = value
    return out


def _resolve_new_sku(event: Event, ctx: HandlerContext, resolution: str, changes: dict[str, Any]) -> Decision:
    sku = event.subject.removeprefix("sku:")
    facts = {key: changes[key] for key in CATALOGUE_FACTS if key in changes}
    try:
        _check_facts(facts)
    except InvalidInput as exc:
        return Decision(action="sku.setup_refused", evidence={"sku": sku, "error": exc.message})
    row = ctx.conn.execute(select(products).where(products.c.sku == sku)).first()
    if row is None:
        return Decision(action="sku.setup_ignored", evidence={"sku": sku})
    if facts:
        ctx.conn.execute(update(products).where(products.c.sku == sku).values(**facts, updated_at=event.occurred_at))
    ready = (
        resolution != "reject"
        and (facts.get("supplier") or row.supplier)
        and (facts.get("lead_time_days") or row.lead_time_days)
    )
    ctx.conn.execute(update(products).where(products.c.sku == sku).values(reorder=bool(ready)))
    return Decision(action="sku.setup", evidence={"sku": sku, "facts": facts, "reorder": bool(ready)})


def _check_facts(facts: dict[str, Any]) -> None:
    for key in ("cost_minor", "lead_time_days", "moq", "case_pack"):
        if key in facts and (not isinstance(facts[key], int) or isinstance(facts[key], bool) or facts[key] < 0):
            raise InvalidInput(f"{key} must be a whole number ≥ 0", field=key)
    if "supplier" in facts and not (isinstance(facts["supplier"], str) and facts["supplier"].strip()):
        raise InvalidInput("supplier must be a name", field="supplier")


def _resolve_supplier_change(event: Event, ctx: HandlerContext, resolution: str) -> Decision:
    sku = event.subject.removeprefix("sku:")
    if resolution != "reject":
        return Decision(action="sku.supplier_change_accept", evidence={"sku": sku})
    handoff_id = event.payload.get("handoff_id")
    evidence = ctx.conn.execute(select(handoffs.c.evidence).where(handoffs.c.id == handoff_id)).scalar() or {}
    previous = {key: value for key, value in (evidence.get("previous") or {}).items() if key in CATALOGUE_FACTS}
    if previous:
        ctx.conn.execute(update(products).where(products.c.sku == sku).values(**previous, updated_at=event.occurred_at))
    return Decision(action="sku.supplier_change_revert", evidence={"sku": sku, "restored": previous})


__all__ = [
    "channel_stock_reported",
    "delivery_received",
    "handoff_resolved",
    "lock_keys",
    "product_updated",
    "purchase_order_drafted",
    "sales_anomaly",
    "stock_adjusted",
    "stock_counted",
    "timer_fired",
]
