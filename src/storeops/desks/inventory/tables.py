"""The inventory desk's own state besides the ledger: the catalogue's reorder facts and purchase orders."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table

from storeops.storage.schema import metadata
from storeops.storage.types import Id, Json, UTCDateTime

products = Table(
    "products",
    metadata,
    Column("sku", String(128), primary_key=True),
    Column("title", String(255)),
    Column("supplier", String(128)),
    Column("cost_minor", Id),
    Column("lead_time_days", Integer),
    Column("moq", Integer, nullable=False, default=1),
    Column("case_pack", Integer, nullable=False, default=1),
    # False until a person has set the supplier and reorder facts of a new SKU (new_sku handoff)
    Column("reorder", Boolean, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

channel_levels = Table(
    "channel_levels",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("sku", String(128), primary_key=True),
    Column("location", String(64), primary_key=True),
    # what storeops last pushed to the channel (available minus the channel's buffer, at least 0)
    Column("available", Integer, nullable=False),
    Column("pushed_at", UTCDateTime, nullable=False),
)

channel_items = Table(
    "channel_items",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("item_id", String(128), primary_key=True),
    Column("sku", String(128), nullable=False),
)

# A channel's level report for an item no product has mapped to a SKU yet (Shopify may deliver an
# inventory_levels/update before the products/create that names its item): kept, latest first,
# and applied when the product arrives, instead of being lost.
channel_reports_waiting = Table(
    "channel_reports_waiting",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("item_id", String(128), primary_key=True),
    Column("location", String(64), primary_key=True),
    Column("available", Integer, nullable=False),
    Column("reported_at", UTCDateTime, nullable=False),
    Column("reference", String(255), nullable=False),
)

purchase_orders = Table(
    "purchase_orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("number", String(64), nullable=False, unique=True),
    Column("supplier", String(128), nullable=False),
    # draft → confirmed → received | cancelled; see inventory.reorder.PoState
    Column("state", String(16), nullable=False),
    # [{"sku", "location", "quantity", "received", "cost_minor", …the maths behind the quantity}]
    Column("lines", Json, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime),
    Column("expected_at", UTCDateTime),
    Index(None, "state", "supplier"),
)
