"""outbox: index by subject, so a batch finds its SKUs' waiting channel pushes without
scanning every pending message (the pending set grows while a connector is down)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_outbox_subject_status"), "outbox", ["subject", "status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_subject_status"), table_name="outbox")
