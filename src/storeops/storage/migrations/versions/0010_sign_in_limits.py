"""sign_in_limits: sign-in failures per client address and per account, and each account's known
addresses, in the database so the limits hold across processes and restarts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from storeops.storage.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_limits",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_sign_in_limits")),
    )
    op.create_index(op.f("ix_sign_in_limits_last_at"), "sign_in_limits", ["last_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sign_in_limits_last_at"), table_name="sign_in_limits")
    op.drop_table("sign_in_limits")
