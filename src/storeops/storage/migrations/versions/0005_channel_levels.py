"""inventory: what was last pushed to each sales channel, and channels' ids for SKUs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from storeops.storage.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_levels",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("available", sa.Integer(), nullable=False),
        sa.Column("pushed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "sku", "location", name=op.f("pk_channel_levels")),
    )

    op.create_table(
        "channel_items",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=128), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("channel", "item_id", name=op.f("pk_channel_items")),
    )


def downgrade() -> None:
    op.drop_table("channel_items")
    op.drop_table("channel_levels")
