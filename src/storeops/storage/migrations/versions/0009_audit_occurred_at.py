"""audit_log: the time a row's fact happened (occurred_at) beside the time it was recorded (at),
so a replayed or imported history is charted and reported on its own days

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from storeops.storage.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("occurred_at", UTCDateTime(), nullable=True))
    # Rows written before this column existed only know when they were recorded.
    op.execute("UPDATE audit_log SET occurred_at = at")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("occurred_at", existing_type=UTCDateTime(), nullable=False)
        batch_op.drop_index(batch_op.f("ix_audit_log_desk_at"))
        batch_op.create_index(batch_op.f("ix_audit_log_desk_occurred_at"), ["desk", "occurred_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_desk_occurred_at"))
        batch_op.create_index(batch_op.f("ix_audit_log_desk_at"), ["desk", "at"], unique=False)
        batch_op.drop_column("occurred_at")
