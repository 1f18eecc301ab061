"""What other desks may ask of the inventory desk (its tables are its own): which SKUs the store
sells, stock levels, and the ledger movements an order causes — reserving, releasing, selling."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from storeops.desks.inventory.ledger import (
    Cause,
    Level,
    levels,
    move,
    release_reference,
    reserve_all,
    reserve_committed,
)
from storeops.desks.inventory.tables import products, purchase_orders

__all__ = [
    "Cause",
    "Level",
    "PurchaseOrderView",
    "catalogue_skus",
    "levels",
    "purchase_order",
    "purchase_orders_of",
    "record_return",
    "record_sale",
    "release_reference",
    "reserve_all",
    "reserve_committed",
    "supplier_count",
    "suppliers",
    "titles",
]

_IN_CATALOGUE = select(products.c.sku).where(products.c.sku.in_(bindparam("skus", expanding=True)))


def catalogue_skus(conn: Connection, skus: Sequence[str]) -> set[str]:
    """Which of ``skus`` the store's catalogue has (a storefront sells them), stocked or not."""
    if not skus:
        return set()
    return {str(sku) for sku in conn.execute(_IN_CATALOGUE, {"skus": sorted(set(skus))}).scalars()}


_TITLES = select(products.c.sku, products.c.title).where(
    products.c.sku.in_(bindparam("skus", expanding=True)), products.c.title.is_not(None)
)


def titles(conn: Connection, skus: Sequence[str]) -> dict[str, str]:
    """The catalogue's title of each of ``skus`` that has one."""
    if not skus:
        return {}
    return {str(sku): str(title) for sku, title in conn.execute(_TITLES, {"skus": sorted(set(skus))}) if title}


_SUPPLIERS = select(products.c.sku, products.c.supplier).where(products.c.sku.in_(bindparam("skus", expanding=True)))


def suppliers(conn: Connection, skus: Sequence[str]) -> dict[str, str]:
    """The supplier of each of ``skus`` the catalogue names one for."""
    if not skus:
        return {}
    return {str(sku): str(name) for sku, name in conn.execute(_SUPPLIERS, {"skus": sorted(set(skus))}) if name}


def record_sale(conn: Connection, *, sku: str, location: str, quantity: int, reference: str, at: datetime) -> None:
    """Units that left the shelf in a sale nobody reserved first (the storefront fulfilled it)."""
    move(conn, sku=sku, location=location, cause=Cause.SALE, reference=reference, at=at, on_hand=-quantity)


def record_return(conn: Connection, *, sku: str, location: str, quantity: int, reference: str, at: datetime) -> None:
    """Units a customer sent back in sellable condition: on the shelf again at ``location``."""
    move(conn, sku=sku, location=location, cause=Cause.RETURN, reference=reference, at=at, on_hand=quantity)


@dataclass(frozen=True)
class PurchaseOrderView:
    """A purchase order as the vendors desk reads it: who, when ordered and expected, each line."""

    number: str
    supplier: str
    state: str
    currency: str
    created_at: datetime
    confirmed_at: datetime | None
    expected_at: datetime | None
    lines: list[dict[str, Any]]
    """``{"sku", "location", "quantity", "cost_minor", "lead_time_days", …}`` per line."""

    @property
    def total_minor(self) -> int:
        """What the order costs: quantity × unit cost over its lines."""
        return sum(int(line["quantity"]) * int(line.get("cost_minor") or 0) for line in self.lines)


def _po_view(row: Any) -> PurchaseOrderView:
    return PurchaseOrderView(
        number=row.number,
        supplier=row.supplier,
        state=row.state,
        currency=row.currency,
        created_at=row.created_at,
        confirmed_at=row.confirmed_at,
        expected_at=row.expected_at,
        lines=[dict(line) for line in row.lines],
    )


def purchase_order(conn: Connection, number: str) -> PurchaseOrderView | None:
    """The purchase order ``number`` (None when there is none)."""
    row = conn.execute(select(purchase_orders).where(purchase_orders.c.number == number)).first()
    return _po_view(row) if row is not None else None


def purchase_orders_of(
    conn: Connection, supplier: str, *, since: datetime, until: datetime, confirmed_only: bool = True
) -> list[PurchaseOrderView]:
    """A supplier's purchase orders confirmed (sent) between ``since`` and ``until``, oldest first:
    its spend and its price history."""
    query = select(purchase_orders).where(purchase_orders.c.supplier == supplier)
    if confirmed_only:
        query = query.where(
            purchase_orders.c.confirmed_at >= since,
            purchase_orders.c.confirmed_at < until,
            purchase_orders.c.state.in_(("confirmed", "received")),
        )
    else:
        query = query.where(purchase_orders.c.created_at >= since, purchase_orders.c.created_at < until)
    return [_po_view(row) for row in conn.execute(query.order_by(purchase_orders.c.id))]


def supplier_count(conn: Connection) -> int:
    """How many suppliers the catalogue names (for a store that has not imported any yet)."""
    return int(conn.execute(select(func.count(func.distinct(products.c.supplier)))).scalar_one())
