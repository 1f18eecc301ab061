"""The orders desk's own state: orders and the customers who place them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Float, Index, Integer, String, Table, select

from storeops.engine.writebehind import flush
from storeops.storage.schema import metadata
from storeops.storage.types import Id, Json, UTCDateTime, row_json

orders = Table(
    "orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subject", String(255), nullable=False, unique=True),
    Column("source", String(64), nullable=False),
    Column("number", String(128), nullable=False),
    Column("customer", String(255), nullable=False),
    # see orders.state.OrderStatus
    Column("status", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_minor", Id, nullable=False),
    Column("store_total_minor", Id),
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
    Column("placed_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "customer", "placed_at"),
    Index(None, "ip"),
    Index(None, "device"),
    Index(None, "address_key"),
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
    flush(conn)
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
