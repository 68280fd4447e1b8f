"""dead letters: delivery.dead_at and delivery.operator_notified_at; status 'failed' becomes 'dead'

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 09:00:00

Rows given up before this revision (status 'failed') become dead letters. They predate operator notices,
so they are recorded as already notified: an upgrade does not flood the operator with old failures.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dead_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("operator_notified_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE delivery SET status = 'dead', dead_at = created_at, operator_notified_at = created_at "
        "WHERE status = 'failed'"
    )


def downgrade() -> None:
    op.execute("UPDATE delivery SET status = 'failed' WHERE status = 'dead'")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("operator_notified_at")
        batch_op.drop_column("dead_at")
