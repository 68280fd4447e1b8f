"""SQLModel tables. Every arrow of the pipeline that crosses a crash boundary is a row here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel


def _utc_column(**kwargs: Any) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), **kwargs))


class FeedState(SQLModel, table=True):
    """Per-feed HTTP validators, schedule and error streak; survives restarts so backoff does too."""

    __tablename__ = "feed_state"

    name: str = Field(primary_key=True, max_length=200)
    url: str
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = Field(default=None, max_length=64)
    next_due_at: datetime | None = _utc_column(index=True)
    last_polled_at: datetime | None = _utc_column()
    last_success_at: datetime | None = _utc_column()
    error_streak: int = 0
    last_error: str | None = None


class ItemRow(SQLModel, table=True):
    """An item as first seen; `(feed, key)` is unique so it is matched and alerted at most once."""

    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("feed", "key", name="uq_item_feed_key"),)

    id: int | None = Field(default=None, primary_key=True)
    feed: str = Field(foreign_key="feed_state.name", index=True, max_length=200)
    key: str = Field(max_length=600)
    guid: str | None = None
    link: str | None = None
    title: str
    summary: str = ""
    published_at: datetime | None = _utc_column()
    first_seen_at: datetime | None = _utc_column(nullable=False)
    match: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class Delivery(SQLModel, table=True):
    """Outbox row: written with the item in one transaction, delivered later, marked when done."""

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("item_id", "watch", "channel", name="uq_delivery_item_watch_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    watch: str = Field(max_length=200)
    channel: str = Field(max_length=200)
    status: str = Field(default="pending", index=True, max_length=20)  # pending | sent | failed
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime | None = _utc_column(nullable=False)
    next_attempt_at: datetime | None = _utc_column()
    sent_at: datetime | None = _utc_column()
