"""channel_reports_waiting: a channel's level reports for items no product has mapped yet, kept
until the product arrives instead of being dropped

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from storeops.storage.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_reports_waiting",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=128), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("available", sa.Integer(), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("channel", "item_id", "location", name=op.f("pk_channel_reports_waiting")),
    )


def downgrade() -> None:
    op.drop_table("channel_reports_waiting")
