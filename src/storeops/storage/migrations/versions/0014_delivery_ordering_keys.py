"""delivery_ordering_keys: the shared state each pending delivery reads or changes (a SKU's stock,
a customer's record), so deliveries sharing a key are claimed in their events' order whatever the
number of workers; and the keys each subject has declared, for its later events that name none

Deliveries pending when this runs have no keys: they are claimed as before (in order per desk and
subject only).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_keys",
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("desk", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "desk", "key", name=op.f("pk_delivery_keys")),
    )
    op.create_index(op.f("ix_delivery_keys_key_event_id"), "delivery_keys", ["key", "event_id"], unique=False)
    op.create_table(
        "subject_keys",
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("subject", "key", name=op.f("pk_subject_keys")),
    )


def downgrade() -> None:
    op.drop_table("subject_keys")
    op.drop_index(op.f("ix_delivery_keys_key_event_id"), table_name="delivery_keys")
    op.drop_table("delivery_keys")
