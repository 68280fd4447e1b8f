"""phases and commentary: watch_phase (each watch's current phase per topic), delivery.phase (a turn's
subject tag), story.event_reports (members that are not commentary)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 18:30:00

A turning point (a ceasefire agreed, in effect, collapsed; an offensive) alerts once per change of state,
so the state per watch and topic is kept across restarts and instances. Existing rows are untouched: no
watch has a phase before this revision, so the first phase each watch sees starts a cycle; existing stories
count as having an event report (before this revision every item alerted like one). Downgrading drops the
table and the columns; phase alerts already queued are then sent as plain first alerts or updates, and
commentary rows held for digests (kind `commentary`, seq -1: older code has neither) are removed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watch_phase",
        sa.Column("watch", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("phase", sa.String(length=100), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=True),
        sa.Column("item", sa.String(length=600), nullable=True),
        sa.PrimaryKeyConstraint("watch", "topic"),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phase", sa.String(length=100), nullable=True))
    with op.batch_alter_table("story", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_reports", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    op.execute("DELETE FROM delivery WHERE kind = 'commentary' AND status = 'held'")
    op.execute(
        "UPDATE delivery SET kind = CASE WHEN seq = 0 THEN 'first' ELSE 'update' END WHERE kind = 'phase'"
    )
    # a plain column: dropped in place, as in 0005 (a batch copy breaks the digest foreign key)
    op.execute("ALTER TABLE delivery DROP COLUMN phase")
    op.execute("ALTER TABLE story DROP COLUMN event_reports")
    op.drop_table("watch_phase")
