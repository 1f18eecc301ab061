"""Reorders: forecast demand, compute each SKU's reorder point and quantity, draft purchase orders.

Per SKU and location, with d the forecast demand per day, σ its daily standard deviation,
L the supplier's lead time in days and σ_L its spread ([inventory] lead_time_spread × L):

    safety stock    = z(service level) · √(L·σ² + d²·σ_L²)
    reorder point   = d·L + safety stock
    order-up-to     = d·(L + days_of_cover) + safety stock
    position        = on hand − reserved + on order
    order           = order-up-to − position, when position ≤ reorder point,
                      rounded up to the case pack and at least the MOQ

Demand history is the ledger's sales per day, with days the SKU had no stock corrected
(``forecast.correct_stockouts``). Lines are grouped into one draft purchase order per supplier;
each draft is one ``reorder_confirmation`` handoff (a person confirms or edits the quantities).
"""

from __future__ import annotations

import enum
import math
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from statistics import NormalDist
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, insert, select

from storeops.desks.inventory.forecast import correct_stockouts, forecast_many
from storeops.desks.inventory.ledger import Cause, stock_levels, stock_movements
from storeops.desks.inventory.policy import InventoryPolicy
from storeops.desks.inventory.tables import products, purchase_orders


class PoState(enum.StrEnum):
    """Where a purchase order is."""

    DRAFT = "draft"
    """Drafted by automation; waits for a person (reorder_confirmation)."""
    CONFIRMED = "confirmed"
    """Sent to the supplier; its open quantities count as on-order stock."""
    RECEIVED = "received"
    """Every line delivered."""
    CANCELLED = "cancelled"
    """Rejected by a person."""


@dataclass(frozen=True)
class ReorderLine:
    """One SKU at one location to order, with the maths behind the quantity."""

    sku: str
    location: str
    supplier: str
    quantity: int
    cost_minor: int
    forecast_per_day: float
    sigma_per_day: float
    method: str
    pattern: str
    lead_time_days: int
    safety_stock: float
    reorder_point: float
    order_up_to: float
    on_hand: int
    reserved: int
    on_order: int
    position: int
    stockout_date: str | None
    """When available stock runs out at the forecast rate if nothing is ordered."""


def daily_sales(
    conn: Connection, keys: list[tuple[str, str]], as_of: date, days: int
) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """Units sold per day and whether the day closed out of stock, for the ``days`` before ``as_of``.

    Closing stock of a day is today's on hand minus every on-hand movement after that day, so
    one grouped query over the window answers both.
    """
    first = as_of - timedelta(days=days)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    day = func.date(stock_movements.c.at)
    sold: dict[tuple[str, str], np.ndarray] = {key: np.zeros(days) for key in keys}
    delta: dict[tuple[str, str], np.ndarray] = {key: np.zeros(days + 1) for key in keys}
    wanted = set(keys)
    rows = conn.execute(
        select(
            stock_movements.c.sku,
            stock_movements.c.location,
            day,
            stock_movements.c.cause,
            func.sum(stock_movements.c.on_hand_delta),
        )
        .where(stock_movements.c.at >= start)
        .group_by(stock_movements.c.sku, stock_movements.c.location, day, stock_movements.c.cause)
    )
    for sku, location, when, cause, total in rows:
        key = (sku, location)
        if key not in wanted:
            continue
        index = (date.fromisoformat(str(when)[:10]) - first).days
        if not 0 <= index <= days:
            continue
        delta[key][index] += total or 0
        if cause == Cause.SALE.value and index < days:
            sold[key][index] -= total or 0
    on_hand = {
        (row.sku, row.location): row.on_hand
        for row in conn.execute(select(stock_levels.c.sku, stock_levels.c.location, stock_levels.c.on_hand))
        if (row.sku, row.location) in wanted
    }
    out: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    for key in keys:
        after = np.cumsum(delta[key][::-1])[::-1]  # movements on or after each day
        closing = on_hand.get(key, 0) - np.append(after[1:], 0.0)[:days]
        out[key] = (sold[key], closing <= 0)
    return out


def on_order(conn: Connection) -> dict[tuple[str, str], int]:
    """Units ordered from suppliers and not yet received, per SKU and location."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for (lines,) in conn.execute(select(purchase_orders.c.lines).where(purchase_orders.c.state == PoState.CONFIRMED)):
        for line in lines:
            out[(line["sku"], line["location"])] += max(0, int(line["quantity"]) - int(line.get("received", 0)))
    return out


def drafted(conn: Connection) -> set[tuple[str, str]]:
    """SKU and location pairs already on a draft waiting for a person (not drafted twice)."""
    return {
        (line["sku"], line["location"])
        for (lines,) in conn.execute(select(purchase_orders.c.lines).where(purchase_orders.c.state == PoState.DRAFT))
        for line in lines
    }


def round_order(quantity: float, moq: int, case_pack: int) -> int:
    """Up to whole case packs, and at least the minimum order quantity (itself in case packs)."""
    if quantity <= 0:
        return 0
    pack = max(1, case_pack)
    units = max(math.ceil(quantity), moq)
    return math.ceil(units / pack) * pack


@dataclass(frozen=True)
class Targets:
    """The reorder maths for one SKU at one location."""

    safety_stock: float
    reorder_point: float
    order_up_to: float


def targets(demand: float, sigma: float, lead_time_days: int, policy: InventoryPolicy) -> Targets:
    """Safety stock, reorder point and order-up-to level (see the module docstring)."""
    z = NormalDist().inv_cdf(policy.service_level)
    spread = policy.lead_time_spread * lead_time_days
    safety = z * math.sqrt(lead_time_days * sigma**2 + demand**2 * spread**2)
    return Targets(
        safety_stock=safety,
        reorder_point=demand * lead_time_days + safety,
        order_up_to=demand * (lead_time_days + policy.days_of_cover) + safety,
    )


def plan_reorders(conn: Connection, policy: InventoryPolicy, as_of: datetime) -> tuple[list[ReorderLine], int]:
    """Every line to order now, and how many SKU-locations were looked at."""
    catalogue = {
        row.sku: row
        for row in conn.execute(
            select(products).where(
                products.c.reorder.is_(True), products.c.supplier.is_not(None), products.c.lead_time_days.is_not(None)
            )
        )
    }
    levels = {(row.sku, row.location): row for row in conn.execute(select(stock_levels)) if row.sku in catalogue}
    busy = drafted(conn)
    keys = sorted(key for key in levels if key not in busy)
    if not keys:
        return [], 0
    today = as_of.date()
    history = daily_sales(conn, keys, today, policy.history_days)
    corrected = {f"{sku}@{location}": correct_stockouts(*history[(sku, location)]) for sku, location in keys}
    horizon = max(int(catalogue[sku].lead_time_days) for sku, _ in keys) + policy.days_of_cover
    forecasts = forecast_many(corrected, today - timedelta(days=1), max(1, horizon))
    pending = on_order(conn)
    lines: list[ReorderLine] = []
    for sku, location in keys:
        product, level = catalogue[sku], levels[(sku, location)]
        forecast = forecasts[f"{sku}@{location}"]
        lead = int(product.lead_time_days)
        demand = forecast.mean
        maths = targets(demand, forecast.sigma, lead, policy)
        ordered = pending.get((sku, location), 0)
        position = level.on_hand - level.reserved + ordered
        if demand <= 0 or position > maths.reorder_point:
            continue
        quantity = round_order(maths.order_up_to - position, product.moq, product.case_pack)
        if quantity <= 0:
            continue
        available = max(0, level.on_hand - level.reserved)
        stockout = today + timedelta(days=int(available / demand)) if demand > 0 else None
        lines.append(
            ReorderLine(
                sku=sku,
                location=location,
                supplier=str(product.supplier),
                quantity=quantity,
                cost_minor=int(product.cost_minor or 0),
                forecast_per_day=round(demand, 3),
                sigma_per_day=round(forecast.sigma, 3),
                method=forecast.method,
                pattern=forecast.pattern.value,
                lead_time_days=lead,
                safety_stock=round(maths.safety_stock, 2),
                reorder_point=round(maths.reorder_point, 2),
                order_up_to=round(maths.order_up_to, 2),
                on_hand=level.on_hand,
                reserved=level.reserved,
                on_order=ordered,
                position=position,
                stockout_date=stockout.isoformat() if stockout else None,
            )
        )
    return lines, len(keys)


def draft_purchase_orders(
    conn: Connection, lines: list[ReorderLine], *, at: datetime, currency: str
) -> list[dict[str, Any]]:
    """One draft purchase order per supplier; returns them (number, supplier, lines, total)."""
    by_supplier: dict[str, list[ReorderLine]] = defaultdict(list)
    for line in lines:
        by_supplier[line.supplier].append(line)
    drafts = []
    for supplier, supplier_lines in sorted(by_supplier.items()):
        number = f"PO-{at:%Y%m%d}-{_slug(supplier)}"
        taken = conn.execute(select(func.count()).where(purchase_orders.c.number.like(f"{number}%"))).scalar_one()
        if taken:
            number = f"{number}-{taken + 1}"
        payload = [{**asdict(line), "received": 0} for line in supplier_lines]
        conn.execute(
            insert(purchase_orders).values(
                number=number,
                supplier=supplier,
                state=PoState.DRAFT.value,
                lines=payload,
                currency=currency,
                created_at=at,
            )
        )
        drafts.append(
            {
                "number": number,
                "supplier": supplier,
                "lines": payload,
                "total_minor": sum(line.quantity * line.cost_minor for line in supplier_lines),
            }
        )
    return drafts


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.upper())[:24].strip("-") or "SUPPLIER"
