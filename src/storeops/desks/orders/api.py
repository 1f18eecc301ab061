"""What other desks may ask of the orders desk (its tables are its own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from storeops.desks.orders.events import RefundCreated
from storeops.desks.orders.tables import customer_record, orders

__all__ = [
    "CustomerView",
    "OrderView",
    "PurchaseView",
    "RefundCreated",
    "customer",
    "order_by_number",
    "order_count",
    "purchase",
    "shipped_count",
]


@dataclass(frozen=True)
class OrderView:
    """An order as another desk may see it."""

    subject: str
    number: str
    status: str
    tracking_number: str | None
    carrier: str | None
    email: str | None
    customer: str
    placed_at: datetime
    last_scan: str | None
    last_scan_at: datetime | None
    total_minor: int
    currency: str

    def belongs_to(self, *, email: str | None = None, customer_id: str | None = None) -> bool:
        """Whether the order is the customer's who wrote (their email, or their storefront customer id)."""
        by_email = bool(email and self.email and email.strip().lower() == self.email.strip().lower())
        by_id = bool(customer_id and self.customer.endswith(f":{customer_id}"))
        return by_email or by_id


@dataclass(frozen=True)
class CustomerView:
    """A customer's record as another desk may see it."""

    tags: tuple[str, ...]
    lifetime_minor: int


_BY_NUMBER = (
    select(
        orders.c.subject,
        orders.c.number,
        orders.c.status,
        orders.c.tracking_number,
        orders.c.carrier,
        orders.c.email,
        orders.c.customer,
        orders.c.placed_at,
        orders.c.last_scan,
        orders.c.last_scan_at,
        orders.c.total_minor,
        orders.c.currency,
    )
    .where(orders.c.number == bindparam("number"))
    .order_by(orders.c.id)
    .limit(1)
)


def order_by_number(conn: Connection, number: str) -> OrderView | None:
    """The order the customer knows as ``number`` (``#1001`` or ``1001``), or None."""
    row = conn.execute(_BY_NUMBER, {"number": number.strip().removeprefix("#")}).first()
    return OrderView(**row._mapping) if row is not None else None


def customer(conn: Connection, key: str) -> CustomerView | None:
    """The record of customer ``key`` (``customer:<source>:<id>``), or None when never seen."""
    row = customer_record(conn, key)
    return CustomerView(tuple(row.tags), int(row.lifetime_minor)) if row is not None else None


@dataclass(frozen=True)
class PurchaseView:
    """What a return needs of an order: what was bought and paid, and when it shipped and arrived."""

    subject: str
    source: str
    number: str
    status: str
    customer: str
    email: str | None
    currency: str
    total_minor: int
    store_total_minor: int | None
    """The total in the store's currency (None when no exchange rate was known)."""
    shipping_paid_minor: int | None
    lines: tuple[dict[str, Any], ...]
    shipping_address: dict[str, Any] | None
    address_key: str | None
    placed_at: datetime
    shipped_at: datetime | None
    delivered_at: datetime | None
    warehouses: tuple[str, ...] = ()
    """The warehouses its parcels left from, first parcel first (none when storeops did not ship it)."""

    def belongs_to(self, *, email: str | None = None, customer_id: str | None = None) -> bool:
        """Whether the order is the customer's who asked (their email, or their storefront customer id)."""
        by_email = bool(email and self.email and email.strip().lower() == self.email.strip().lower())
        by_id = bool(customer_id and self.customer.endswith(f":{customer_id}"))
        return by_email or by_id


_PURCHASE = (
    select(
        orders.c.subject,
        orders.c.source,
        orders.c.number,
        orders.c.status,
        orders.c.customer,
        orders.c.email,
        orders.c.currency,
        orders.c.total_minor,
        orders.c.store_total_minor,
        orders.c.shipping_paid_minor,
        orders.c.lines,
        orders.c.shipping_address,
        orders.c.address_key,
        orders.c.placed_at,
        orders.c.shipped_at,
        orders.c.allocation,
        orders.c.last_scan,
        orders.c.last_scan_at,
    )
    .order_by(orders.c.id)
    .limit(1)
)
_PURCHASE_BY_NUMBER = _PURCHASE.where(orders.c.number == bindparam("number"))
_PURCHASE_BY_SUBJECT = _PURCHASE.where(orders.c.subject == bindparam("subject"))


def purchase(conn: Connection, number: str | None = None, *, subject: str | None = None) -> PurchaseView | None:
    """The order the customer knows as ``number`` (``#1001`` or ``1001``), or the order ``subject``,
    as a return sees it; None when there is none."""
    if subject is not None:
        row = conn.execute(_PURCHASE_BY_SUBJECT, {"subject": subject}).first()
    else:
        row = conn.execute(_PURCHASE_BY_NUMBER, {"number": (number or "").strip().removeprefix("#")}).first()
    if row is None:
        return None
    facts = dict(row._mapping)
    last_scan, last_scan_at = facts.pop("last_scan"), facts.pop("last_scan_at")
    allocation = facts.pop("allocation") or []
    return PurchaseView(
        **{**facts, "lines": tuple(facts["lines"] or ())},
        delivered_at=last_scan_at if last_scan == "delivered" else None,
        warehouses=tuple(str(parcel["warehouse"]) for parcel in allocation if parcel.get("warehouse")),
    )


_ORDER_COUNT = select(func.count()).select_from(orders).where(orders.c.customer == bindparam("customer"))


def order_count(conn: Connection, customer_key: str) -> int:
    """How many orders customer ``customer_key`` has placed (any state)."""
    return int(conn.execute(_ORDER_COUNT, {"customer": customer_key}).scalar_one())


_SHIPPED_COUNT = (
    select(func.count())
    .select_from(orders)
    .where(orders.c.shipped_at >= bindparam("since"), orders.c.shipped_at < bindparam("until"))
)


def shipped_count(conn: Connection, since: datetime, until: datetime) -> int:
    """How many orders the carrier first had between ``since`` (included) and ``until`` (excluded):
    what a return rate over that period is a share of."""
    return int(conn.execute(_SHIPPED_COUNT, {"since": since, "until": until}).scalar_one())
