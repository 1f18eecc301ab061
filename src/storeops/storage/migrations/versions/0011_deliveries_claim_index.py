"""deliveries_claim_index: the claim walks pending deliveries by their own id, not the event's

A fresh database has no planner statistics until autovacuum's first ANALYZE (a minute or more),
and in that window PostgreSQL took the (status, event_id) index for the claim's "no earlier
pending delivery of this subject" test: a range scan over every pending delivery for each one,
seconds per claim after a bulk import. With (status, id) only the (desk, subject, status,
event_id) index can answer that test, whatever the statistics say.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_status_event_id"))
        batch_op.create_index(batch_op.f("ix_deliveries_status_id"), ["status", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_status_id"))
        batch_op.create_index(batch_op.f("ix_deliveries_status_event_id"), ["status", "event_id"], unique=False)
