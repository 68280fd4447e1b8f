"""routing: held and folded outbox rows, digest rows (delivery.held_for, digest_id, period_*_at)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 09:00:00

A digest row stands for many stories, so delivery.item_id and delivery.story_id become nullable. Existing
rows keep their values and statuses; nothing is held or folded before this revision. Downgrading keeps
every alert: those that went out in a sent digest count as sent, the rest are sent individually.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.alter_column("item_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("story_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("held_for", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("digest_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("period_start_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("period_end_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_delivery_digest_id"), ["digest_id"], unique=False)
        batch_op.create_foreign_key("fk_delivery_digest_id_delivery", "delivery", ["digest_id"], ["id"])
        batch_op.create_unique_constraint("uq_delivery_channel_period_end_at", ["channel", "period_end_at"])
    op.execute("UPDATE delivery SET queued_at = created_at")  # so old rows count toward rate limits


def downgrade() -> None:
    # A folded row whose digest was sent went out in it: sent (as then), so it is not sent again. Other
    # held and folded rows become pending (sent individually, nothing lost); digest rows go.
    op.execute(
        "UPDATE delivery SET status = 'sent', sent_at = (SELECT d.sent_at FROM delivery AS d "
        "WHERE d.id = delivery.digest_id) WHERE status = 'folded' AND digest_id IN "
        "(SELECT d.id FROM delivery AS d WHERE d.kind = 'digest' AND d.status = 'sent')"
    )
    op.execute("UPDATE delivery SET status = 'pending' WHERE status IN ('held', 'folded')")
    op.execute("UPDATE delivery SET digest_id = NULL")
    op.execute("DELETE FROM delivery WHERE kind = 'digest'")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint("uq_delivery_channel_period_end_at", type_="unique")
        batch_op.drop_constraint("fk_delivery_digest_id_delivery", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_delivery_digest_id"))
        batch_op.drop_column("period_end_at")
        batch_op.drop_column("period_start_at")
        batch_op.drop_column("digest_id")
        batch_op.drop_column("queued_at")
        batch_op.drop_column("held_for")
        batch_op.alter_column("story_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("item_id", existing_type=sa.Integer(), nullable=False)
