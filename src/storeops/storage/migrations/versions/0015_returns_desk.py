"""returns_desk: the returns desk's returns and refunds, and what a return needs of an order (the
shipping paid, when it shipped)

Orders stored before this have no shipping paid (nothing of it is refunded) and no ship date (their
return window counts from the delivery scan, else from ordering plus the margin).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from storeops.storage.types import Json, UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("shipping_paid_minor", Id, nullable=True))
        batch.add_column(sa.Column("shipped_at", UTCDateTime(), nullable=True))
        batch.create_index(batch.f("ix_orders_shipped_at"), ["shipped_at"], unique=False)
    op.create_table(
        "returns",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("rma", sa.String(length=64), nullable=False),
        sa.Column("order_subject", sa.String(length=255), nullable=True),
        sa.Column("order_number", sa.String(length=128), nullable=False),
        sa.Column("customer", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("address_key", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason_text", sa.Text(), nullable=False),
        sa.Column("reason_category", sa.String(length=32), nullable=True),
        sa.Column("reason_confidence", sa.Float(), nullable=True),
        sa.Column("reason_corrected", sa.String(length=32), nullable=True),
        sa.Column("lines", Json, nullable=False),
        sa.Column("refund_minor", Id, nullable=False),
        sa.Column("shipping_refund_minor", Id, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("settlement", sa.String(length=16), nullable=False),
        sa.Column("returnless", sa.Boolean(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("condition", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("hold_reasons", Json, nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=True),
        sa.Column("refunded_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
        sa.UniqueConstraint("rma", name=op.f("uq_returns_rma")),
    )
    op.create_index(op.f("ix_returns_order_subject"), "returns", ["order_subject"], unique=False)
    op.create_index(op.f("ix_returns_customer"), "returns", ["customer"], unique=False)
    op.create_index(
        op.f("ix_returns_address_key_requested_at"), "returns", ["address_key", "requested_at"], unique=False
    )
    op.create_index(op.f("ix_returns_requested_at"), "returns", ["requested_at"], unique=False)
    op.create_table(
        "refunds",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("order_subject", sa.String(length=255), nullable=False),
        sa.Column("amount_minor", Id, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("reference", name=op.f("uq_refunds_reference")),
    )
    op.create_index(op.f("ix_refunds_order_subject"), "refunds", ["order_subject"], unique=False)


def downgrade() -> None:
    op.drop_table("refunds")
    op.drop_table("returns")
    with op.batch_alter_table("orders") as batch:
        batch.drop_index(batch.f("ix_orders_shipped_at"))
        batch.drop_column("shipped_at")
        batch.drop_column("shipping_paid_minor")
