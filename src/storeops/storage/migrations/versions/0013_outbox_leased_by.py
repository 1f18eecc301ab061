"""outbox_leased_by: which sender holds an outbox message's lease, so `work --until-idle` can take
over the leases of a sender killed on this machine and say who holds the others

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("leased_by", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("leased_by")
