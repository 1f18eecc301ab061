"""The vendors desk's own state: suppliers and their catalogues, contracts, and the delivery facts
scorecards and the drop detector are computed from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, Connection, Date, Float, Index, Integer, String, Table, Text, select

from storeops.storage.schema import metadata
from storeops.storage.types import Id, Json, UTCDateTime, row_json

suppliers = Table(
    "suppliers",
    metadata,
    # the name the catalogue and deliveries use (products.supplier, delivery.received's supplier)
    Column("supplier", String(128), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("contact_name", String(255)),
    Column("contact_email", String(255)),
    Column("phone", String(64)),
    Column("currency", String(3), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

supplier_items = Table(
    "supplier_items",
    metadata,
    Column("supplier", String(128), primary_key=True),
    Column("sku", String(128), primary_key=True),
    Column("cost_minor", Id, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("moq", Integer, nullable=False),
    Column("pack_size", Integer, nullable=False),
    Column("lead_time_days", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "sku"),
)
"""The supplier catalogue: what each supplier sells, at what cost, minimum and lead time (the
alternatives a renewal shows are the other suppliers' rows for the same SKUs)."""

vendor_contracts = Table(
    "vendor_contracts",
    metadata,
    Column("contract", String(64), primary_key=True),
    Column("supplier", String(128), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("notice_days", Integer, nullable=False),
    # SLA targets; null: the policy's default
    Column("on_time_target", Float),
    Column("fill_target", Float),
    Column("defect_target", Float),
    Column("lead_time_days", Integer),
    Column("price_terms", Text, nullable=False),
    # when the contract_renewal_due handoff was opened (never twice for one end date)
    Column("renewal_opened_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "supplier"),
    Index(None, "ends_on"),
)

vendor_deliveries = Table(
    "vendor_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # the delivery event's source and external id: one row, and one alert, per delivery
    Column("reference", String(255), nullable=False, unique=True),
    Column("supplier", String(128), nullable=False),
    Column("purchase_order", String(64)),
    Column("sku", String(128), nullable=False),
    Column("location", String(64), nullable=False),
    # units still open on the purchase order line before this delivery (null: no purchase order)
    Column("ordered", Integer),
    Column("received", Integer, nullable=False),
    Column("damaged", Integer, nullable=False),
    Column("cost_minor", Id),
    Column("catalogue_cost_minor", Id),
    Column("currency", String(3)),
    Column("ordered_at", UTCDateTime),
    Column("deadline", UTCDateTime),
    Column("received_at", UTCDateTime, nullable=False),
    # minutes past the deadline (negative: early); null when there is no deadline
    Column("late_minutes", Integer),
    Column("on_time", Boolean),
    Column("short", Boolean, nullable=False),
    Column("alerted", Boolean, nullable=False),
    Index(None, "supplier", "received_at"),
    Index(None, "purchase_order", "sku", "location"),
)

shipment_notices = Table(
    "vendor_shipment_notices",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("reference", String(255), nullable=False, unique=True),
    Column("supplier", String(128), nullable=False),
    Column("purchase_order", String(64), nullable=False),
    Column("sku", String(128), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("expected_at", UTCDateTime, nullable=False),
    Column("deadline", UTCDateTime),
    Column("notified_at", UTCDateTime, nullable=False),
    Index(None, "purchase_order", "sku"),
)
"""Advance shipping notices: what a supplier announced, against the deadline it had then."""

price_changes = Table(
    "supplier_price_changes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("supplier", String(128), nullable=False),
    Column("sku", String(128), nullable=False),
    Column("old_cost_minor", Id),
    Column("cost_minor", Id, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("facts", Json, nullable=False),
    Index(None, "supplier", "at"),
)

SUPPLIER_JSON_COLUMNS = ("supplier", "name", "contact_name", "contact_email", "currency", "updated_at")


def list_suppliers(conn: Connection, limit: int, offset: int) -> list[dict[str, Any]]:
    """Suppliers by name, in the API's JSON shape."""
    rows = conn.execute(select(suppliers).order_by(suppliers.c.supplier).limit(limit).offset(offset))
    return [row_json(dict(row._mapping), SUPPLIER_JSON_COLUMNS) for row in rows]
