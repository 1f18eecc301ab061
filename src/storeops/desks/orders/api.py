"""What other desks may ask of the orders desk (its tables are its own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select

from storeops.desks.orders.tables import customer_record, orders

__all__ = ["CustomerView", "OrderView", "customer", "order_by_number"]


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
