"""stories: story, story membership, per-(watch, story) alert state; the outbox keys on the story

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 06:10:00

Existing alerts are carried over: every item that had outbox rows becomes a one-item story (id = item id)
whose alert state records that the watch already alerted, so nothing is sent again after the upgrade.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _json(literal: str) -> str:
    """A JSON literal in SQL: PostgreSQL wants a cast, SQLite stores the text."""
    return f"CAST('{literal}' AS JSON)" if op.get_bind().dialect.name == "postgresql" else f"'{literal}'"


def upgrade() -> None:
    op.create_table(
        "story",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("sources", sa.Integer(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("story", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_created_at"), ["created_at"], unique=False)

    op.create_table(
        "story_item",
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("outlet", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("copy_of", sa.Integer(), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.ForeignKeyConstraint(["story_id"], ["story.id"]),
        sa.PrimaryKeyConstraint("item_id"),
    )
    with op.batch_alter_table("story_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_item_story_id"), ["story_id"], unique=False)

    op.create_table(
        "alert_state",
        sa.Column("watch", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("alerted_level", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("alerted_topics", sa.JSON(), nullable=False),
        sa.Column("alerted_sources", sa.Integer(), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.Column("first_alert_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_alert_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["story_id"], ["story.id"]),
        sa.PrimaryKeyConstraint("watch", "story_id"),
    )

    # Carry existing alerts over: one story per alerted item, already alerted for its watches.
    empty = _json("[]")
    op.execute(
        "INSERT INTO story (id, title, created_at, updated_at, items, sources, topics) "
        f"SELECT id, title, first_seen_at, first_seen_at, 1, 1, {empty} FROM item "
        "WHERE id IN (SELECT item_id FROM delivery)"
    )
    op.execute(
        "INSERT INTO story_item (item_id, story_id, outlet, copy_of, joined_at) "
        "SELECT id, id, feed, NULL, first_seen_at FROM item WHERE id IN (SELECT item_id FROM delivery)"
    )
    op.execute(
        "INSERT INTO alert_state (watch, story_id, level, topics, alerted_level, alerted_topics, "
        "alerted_sources, alerts, first_alert_at, last_alert_at) "
        f"SELECT watch, item_id, 'critical', {empty}, 'critical', {empty}, 1, 1, MIN(created_at), MIN(created_at) "
        "FROM delivery GROUP BY watch, item_id"
    )

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("story_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column(
                "kind", sqlmodel.sql.sqltypes.AutoString(length=10), server_default="first", nullable=False
            )
        )
        batch_op.add_column(sa.Column("reasons", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
    op.execute(f"UPDATE delivery SET story_id = item_id, reasons = {empty}")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.alter_column("story_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("reasons", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_constraint("uq_delivery_item_watch_channel", type_="unique")
        batch_op.create_unique_constraint(
            "uq_delivery_watch_story_channel_seq", ["watch", "story_id", "channel", "seq"]
        )
        batch_op.create_index(batch_op.f("ix_delivery_story_id"), ["story_id"], unique=False)
        batch_op.create_foreign_key("fk_delivery_story_id_story", "story", ["story_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint("fk_delivery_story_id_story", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_delivery_story_id"))
        batch_op.drop_constraint("uq_delivery_watch_story_channel_seq", type_="unique")
    op.execute("DELETE FROM delivery WHERE seq > 0")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_delivery_item_watch_channel", ["item_id", "watch", "channel"])
        batch_op.drop_column("message_id")
        batch_op.drop_column("reasons")
        batch_op.drop_column("kind")
        batch_op.drop_column("seq")
        batch_op.drop_column("story_id")
    op.drop_table("alert_state")
    with op.batch_alter_table("story_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_story_item_story_id"))
    op.drop_table("story_item")
    with op.batch_alter_table("story", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_story_created_at"))
    op.drop_table("story")
