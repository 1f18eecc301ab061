"""The orders desk's own state: orders and the customers who place them, and the statements that
write them (built once: per-order statement building costs more than running the statements)."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Column, Connection, Float, Index, Integer, String, Table, bindparam, case, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storeops.storage.schema import metadata
from storeops.storage.types import Id, Json, UTCDateTime, row_json


class OrderStatus(enum.StrEnum):
    """Where an order is."""

    HELD = "held"
    """Waiting for a person (see its open handoff)."""
    FULFILLING = "fulfilling"
    """Stock reserved, sent to the warehouse, label made."""
    SHIPPED = "shipped"
    """The carrier has it."""
    DELIVERED = "delivered"
    """Delivered to the customer."""
    CANCELLED = "cancelled"
    """Cancelled by the storefront or rejected by a person; stock released."""


orders = Table(
    "orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subject", String(255), nullable=False, unique=True),
    Column("source", String(64), nullable=False),
    Column("number", String(128), nullable=False),
    Column("customer", String(255), nullable=False),
    # see OrderStatus
    Column("status", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_minor", Id, nullable=False),
    Column("store_total_minor", Id),
    # shipping the customer paid (after shipping discounts), when the storefront said
    Column("shipping_paid_minor", Id),
    Column("lines", Json, nullable=False),
    Column("line_signature", String(512), nullable=False),
    Column("shipping_address", Json),
    Column("billing_address", Json),
    Column("address_key", String(64)),
    Column("address_mismatch", Integer, nullable=False),
    Column("email", String(255)),
    Column("ip", String(64)),
    Column("device", String(128)),
    Column("payment_status", String(32)),
    Column("risk_score", Float),
    Column("risk_model", String(64)),
    Column("features", Json),
    Column("hold_reasons", Json, nullable=False),
    Column("allocation", Json),
    Column("carrier", String(32)),
    Column("service", String(32)),
    Column("tracking_number", String(64)),
    Column("last_scan", String(32)),
    Column("last_scan_at", UTCDateTime),
    # when the carrier first had it (a return window without a delivery scan counts from here)
    Column("shipped_at", UTCDateTime),
    Column("placed_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "customer", "placed_at"),
    Index(None, "ip"),
    Index(None, "device"),
    Index(None, "address_key"),
    Index(None, "shipped_at"),
)

customers = Table(
    "customers",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("email", String(255)),
    Column("tags", Json, nullable=False),
    Column("signed_up_at", UTCDateTime),
    Column("orders_count", Integer, nullable=False),
    Column("lifetime_minor", Id, nullable=False),
    Column("failed_payments", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
"""A customer's record. Orders count themselves on it at the end of the worker's batch
(``engine.writebehind``): read it through ``customer_record``, which writes those first."""


def customer_record(conn: Connection, key: str) -> Any:
    """The customer ``key``'s tags and lifetime spend (a row), or None when never seen."""
    return conn.execute(select(customers.c.tags, customers.c.lifetime_minor).where(customers.c.key == key)).first()


ORDER_JSON_COLUMNS = (
    "subject",
    "source",
    "number",
    "customer",
    "status",
    "currency",
    "total_minor",
    "risk_score",
    "hold_reasons",
    "carrier",
    "service",
    "tracking_number",
    "last_scan",
    "placed_at",
    "updated_at",
)


def list_orders(conn: Connection, limit: int, offset: int) -> list[dict[str, Any]]:
    """Orders newest first, in the API's JSON shape."""
    rows = conn.execute(select(orders).order_by(orders.c.id.desc()).limit(limit).offset(offset))
    return [row_json(dict(row._mapping), ORDER_JSON_COLUMNS) for row in rows]


ORDER_BY_SUBJECT = select(orders).where(orders.c.subject == bindparam("subject"))
INSERT_ORDER = insert(orders)
MARK_FULFILLING = (
    update(orders)
    .where(orders.c.subject == bindparam("b_subject"))
    .values(
        status=OrderStatus.FULFILLING.value,
        carrier=bindparam("b_carrier"),
        service=bindparam("b_service"),
        tracking_number=bindparam("b_tracking"),
        allocation=bindparam("b_allocation", type_=orders.c.allocation.type),
        updated_at=bindparam("b_now"),
    )
)
_UPSERT_CUSTOMER: dict[str, Any] = {}


def upsert_customer_statement(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO UPDATE of a customer, counting the order, built once per dialect."""
    if dialect not in _UPSERT_CUSTOMER:
        statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(customers)
        _UPSERT_CUSTOMER[dialect] = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "email": statement.excluded.email,
                "tags": statement.excluded.tags,
                "orders_count": customers.c.orders_count + 1,
                "lifetime_minor": customers.c.lifetime_minor + statement.excluded.lifetime_minor,
                "failed_payments": customers.c.failed_payments + statement.excluded.failed_payments,
                "updated_at": statement.excluded.updated_at,
            },
        )
    return _UPSERT_CUSTOMER[dialect]


_RECORD_CUSTOMER: dict[str, Any] = {}


def record_customer_statement(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO UPDATE of the storefront's customer record, built once per dialect:
    email, tags and sign-up time as the storefront says; lifetime spend the larger of the
    storefront's figure and the orders storeops counted (a storefront may report none)."""
    if dialect not in _RECORD_CUSTOMER:
        statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(customers)
        excluded = statement.excluded
        _RECORD_CUSTOMER[dialect] = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "email": excluded.email,
                "tags": excluded.tags,
                "signed_up_at": case(
                    (excluded.signed_up_at.is_(None), customers.c.signed_up_at), else_=excluded.signed_up_at
                ),
                "lifetime_minor": case(
                    (excluded.lifetime_minor > customers.c.lifetime_minor, excluded.lifetime_minor),
                    else_=customers.c.lifetime_minor,
                ),
                "updated_at": excluded.updated_at,
            },
        )
    return _RECORD_CUSTOMER[dialect]
