"""vendors_desk: suppliers and their catalogues, contracts, the delivery facts scorecards are computed
from, advance shipping notices and suppliers' price changes

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from storeops.storage.types import Json, UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "suppliers",
        sa.Column("supplier", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("contact_name", sa.String(length=255), nullable=True),
        sa.Column("contact_email", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("supplier", name=op.f("pk_suppliers")),
    )
    op.create_table(
        "supplier_items",
        sa.Column("supplier", sa.String(length=128), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("cost_minor", Id, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("moq", sa.Integer(), nullable=False),
        sa.Column("pack_size", sa.Integer(), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("supplier", "sku", name=op.f("pk_supplier_items")),
    )
    op.create_index(op.f("ix_supplier_items_sku"), "supplier_items", ["sku"], unique=False)
    op.create_table(
        "vendor_contracts",
        sa.Column("contract", sa.String(length=64), nullable=False),
        sa.Column("supplier", sa.String(length=128), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.Column("on_time_target", sa.Float(), nullable=True),
        sa.Column("fill_target", sa.Float(), nullable=True),
        sa.Column("defect_target", sa.Float(), nullable=True),
        sa.Column("lead_time_days", sa.Integer(), nullable=True),
        sa.Column("price_terms", sa.Text(), nullable=False),
        sa.Column("renewal_opened_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("contract", name=op.f("pk_vendor_contracts")),
    )
    op.create_index(op.f("ix_vendor_contracts_supplier"), "vendor_contracts", ["supplier"], unique=False)
    op.create_index(op.f("ix_vendor_contracts_ends_on"), "vendor_contracts", ["ends_on"], unique=False)
    op.create_table(
        "vendor_deliveries",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("supplier", sa.String(length=128), nullable=False),
        sa.Column("purchase_order", sa.String(length=64), nullable=True),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("ordered", sa.Integer(), nullable=True),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("damaged", sa.Integer(), nullable=False),
        sa.Column("cost_minor", Id, nullable=True),
        sa.Column("catalogue_cost_minor", Id, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("ordered_at", UTCDateTime(), nullable=True),
        sa.Column("deadline", UTCDateTime(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("late_minutes", sa.Integer(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("short", sa.Boolean(), nullable=False),
        sa.Column("alerted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_deliveries")),
        sa.UniqueConstraint("reference", name=op.f("uq_vendor_deliveries_reference")),
    )
    op.create_index(
        op.f("ix_vendor_deliveries_supplier_received_at"),
        "vendor_deliveries",
        ["supplier", "received_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_vendor_deliveries_purchase_order_sku_location"),
        "vendor_deliveries",
        ["purchase_order", "sku", "location"],
        unique=False,
    )
    op.create_table(
        "vendor_shipment_notices",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("supplier", sa.String(length=128), nullable=False),
        sa.Column("purchase_order", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("expected_at", UTCDateTime(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=True),
        sa.Column("notified_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_shipment_notices")),
        sa.UniqueConstraint("reference", name=op.f("uq_vendor_shipment_notices_reference")),
    )
    op.create_index(
        op.f("ix_vendor_shipment_notices_purchase_order_sku"),
        "vendor_shipment_notices",
        ["purchase_order", "sku"],
        unique=False,
    )
    op.create_table(
        "supplier_price_changes",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("supplier", sa.String(length=128), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("old_cost_minor", Id, nullable=True),
        sa.Column("cost_minor", Id, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("facts", Json, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_price_changes")),
    )
    op.create_index(
        op.f("ix_supplier_price_changes_supplier_at"), "supplier_price_changes", ["supplier", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("supplier_price_changes")
    op.drop_table("vendor_shipment_notices")
    op.drop_table("vendor_deliveries")
    op.drop_table("vendor_contracts")
    op.drop_table("supplier_items")
    op.drop_table("suppliers")
