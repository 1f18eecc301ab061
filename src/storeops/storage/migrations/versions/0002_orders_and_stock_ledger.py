"""orders and stock ledger

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from storeops.storage.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column(
            "tags", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("signed_up_at", UTCDateTime(), nullable=True),
        sa.Column("orders_count", sa.Integer(), nullable=False),
        sa.Column("lifetime_minor", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("failed_payments", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_customers")),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=128), nullable=False),
        sa.Column("customer", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_minor", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store_total_minor", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "lines", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("line_signature", sa.String(length=512), nullable=False),
        sa.Column(
            "shipping_address",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "billing_address",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("address_key", sa.String(length=64), nullable=True),
        sa.Column("address_mismatch", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("device", sa.String(length=128), nullable=True),
        sa.Column("payment_status", sa.String(length=32), nullable=True),
        sa.Column("risk_score", sa.Float(), nullable=True),
        sa.Column("risk_model", sa.String(length=64), nullable=True),
        sa.Column(
            "features", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column(
            "hold_reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "allocation", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("carrier", sa.String(length=32), nullable=True),
        sa.Column("service", sa.String(length=32), nullable=True),
        sa.Column("tracking_number", sa.String(length=64), nullable=True),
        sa.Column("last_scan", sa.String(length=32), nullable=True),
        sa.Column("last_scan_at", UTCDateTime(), nullable=True),
        sa.Column("placed_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("subject", name=op.f("uq_orders_subject")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_address_key"), ["address_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_customer_placed_at"), ["customer", "placed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_device"), ["device"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_ip"), ["ip"], unique=False)

    op.create_table(
        "stock_levels",
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sku", "location", name=op.f("pk_stock_levels")),
    )
    op.create_table(
        "stock_movements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("on_hand_delta", sa.Integer(), nullable=False),
        sa.Column("reserved_delta", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
    )
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_movements_reference"), ["reference"], unique=False)
        batch_op.create_index(batch_op.f("ix_stock_movements_sku_location_id"), ["sku", "location", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_movements_sku_location_id"))
        batch_op.drop_index(batch_op.f("ix_stock_movements_reference"))

    op.drop_table("stock_movements")
    op.drop_table("stock_levels")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_ip"))
        batch_op.drop_index(batch_op.f("ix_orders_device"))
        batch_op.drop_index(batch_op.f("ix_orders_customer_placed_at"))
        batch_op.drop_index(batch_op.f("ix_orders_address_key"))

    op.drop_table("orders")
    op.drop_table("customers")
