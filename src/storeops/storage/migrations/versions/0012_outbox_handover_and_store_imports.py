"""outbox_handover_and_store_imports: the moment an outbox message was handed over for good (so a
killed sender does not send a mail twice), and where `storeops connect` stands in a live store's
import (so an interrupted import resumes)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from storeops.storage.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("handed_over_at", UTCDateTime(), nullable=True))
    op.create_table(
        "store_imports",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", "resource", name=op.f("pk_store_imports")),
    )


def downgrade() -> None:
    op.drop_table("store_imports")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("handed_over_at")
