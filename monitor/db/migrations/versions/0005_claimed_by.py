"""claims name their process: delivery.claimed_by and delivery.interrupted

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 10:00:00

A claim records the process holding it, so a restart on the same host releases at once the rows its
crashed predecessor was sending, instead of waiting for their lease. `interrupted` counts sends that never
finished, so a message that crashes the process on every send is dead-lettered, with that reason. Rows
claimed before this revision name no process: they are left to their lease, as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("interrupted", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    # Plain columns: dropped in place (SQLite >= 3.35 can), because copying the table, as a batch
    # operation does, breaks the foreign key of folded rows to their digest row in the same table.
    for column in ("interrupted", "claimed_by"):
        op.execute(f"ALTER TABLE delivery DROP COLUMN {column}")
