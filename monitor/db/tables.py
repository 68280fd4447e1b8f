"""SQLModel tables. Every arrow of the pipeline that crosses a crash boundary is a row here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from monitor.db.records import DeliveryStatus


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
    """Outbox row, one per (watch, story, channel, alert number): written in the transaction that decided
    the alert, delivered later, marked when done. `seq` 0 is the first alert, 1.. the updates.

    Routing may hold a row (`held`, with `held_for` saying why) until `next_attempt_at`, or, when that is
    NULL, until the channel's next digest. Folding turns held rows into `folded` ones pointing at one new
    `digest` row (no item or story of its own; unique per channel and `period_end_at`), which is then
    delivered like any other row."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("watch", "story_id", "channel", "seq", name="uq_delivery_watch_story_channel_seq"),
        UniqueConstraint("channel", "period_end_at", name="uq_delivery_channel_period_end_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int | None = Field(default=None, foreign_key="item.id", index=True)  # what triggered it
    story_id: int | None = Field(default=None, foreign_key="story.id", index=True)  # None for a digest
    watch: str = Field(max_length=200)  # "" for a digest
    channel: str = Field(max_length=200)
    seq: int = 0
    kind: str = Field(default="first", max_length=10)  # first | update | phase | digest | commentary
    # the turn a message announces, as its subject tag ("CEASEFIRE IN EFFECT"); a first alert or update
    # that is also a turn carries it too; None otherwise
    phase: str | None = Field(default=None, max_length=100)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    message_id: str | None = Field(default=None, max_length=200)  # RFC 5322 Message-ID, for threading
    # a `DeliveryStatus`: pending | sent | dead | held (routing waits) | folded (part of the digest `digest_id`)
    status: str = Field(default=DeliveryStatus.PENDING, index=True, max_length=20)
    # why a held row waits: digest | rate | quiet; on a digest row "digest" when the schedule made it
    held_for: str | None = Field(default=None, max_length=10)
    # when it is due to go out (held rows: not yet); ahead of now on a row released into quiet hours,
    # which waits for their end without holding back the channel's later rows (a critical alert)
    queued_at: datetime | None = _utc_column()
    digest_id: int | None = Field(default=None, foreign_key="delivery.id", index=True)
    period_start_at: datetime | None = _utc_column()  # a digest's span
    period_end_at: datetime | None = _utc_column()
    attempts: int = 0  # sends started (counted when claimed, so a send cut short by a crash counts too)
    interrupted: int = 0  # sends that never finished: the process stopped while it held the claim
    # the process holding the claim of a send in progress (`monitor.core.instance` token); NULL when no one
    # does. Set with the lease in `next_attempt_at`; cleared when the send is marked.
    claimed_by: str | None = Field(default=None, max_length=200)
    last_error: str | None = None  # scrubbed reason of the last failure; never the channel URL
    created_at: datetime | None = _utc_column(nullable=False)
    next_attempt_at: datetime | None = _utc_column()
    sent_at: datetime | None = _utc_column()
    dead_at: datetime | None = _utc_column()  # when it was given up (dead-lettered)
    operator_notified_at: datetime | None = _utc_column()  # the one operator notice was attempted


class Story(SQLModel, table=True):
    """One event reported by one or more outlets; its id is the id of the item that founded it."""

    __tablename__ = "story"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    title: str  # headline of the founding item
    created_at: datetime | None = _utc_column(nullable=False, index=True)
    updated_at: datetime | None = _utc_column(nullable=False)
    items: int = 1
    sources: int = 1  # independent outlets (syndicated copies do not count)
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    event_reports: int = 0  # members that are event reports, not commentary (events_only waits for one)


class StoryItem(SQLModel, table=True):
    """Story membership: which story an item joined, from which outlet, and its group of copies."""

    __tablename__ = "story_item"

    item_id: int = Field(primary_key=True, foreign_key="item.id", sa_column_kwargs={"autoincrement": False})
    story_id: int = Field(foreign_key="story.id", index=True)
    outlet: str = Field(max_length=200)
    # the item this one was found to copy (the first of its group to arrive); which member of a group is
    # the original (the first published) and which are reprints is decided when counting
    # (`monitor.db.stories.ranked_members`)
    copy_of: int | None = None
    joined_at: datetime | None = _utc_column(nullable=False)


class AlertState(SQLModel, table=True):
    """What a watch has seen of a story and what it has already told people: the memory behind
    "one alert, then an update only when it matters", across restarts and instances."""

    __tablename__ = "alert_state"

    watch: str = Field(primary_key=True, max_length=200)
    story_id: int = Field(primary_key=True, foreign_key="story.id")
    level: str | None = Field(default=None, max_length=20)  # highest severity seen on matching items
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # seen
    alerted_level: str | None = Field(default=None, max_length=20)  # as of the last alert; None: never
    alerted_topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    alerted_sources: int = 0
    alerts: int = 0  # first alert + updates
    first_alert_at: datetime | None = _utc_column()
    last_alert_at: datetime | None = _utc_column()


class WatchPhase(SQLModel, table=True):
    """A watch's current phase of one topic (a ceasefire in effect, an offensive): the memory behind
    "a turning point alerts once", across restarts and instances (see `monitor.alerts.phases`)."""

    __tablename__ = "watch_phase"

    watch: str = Field(primary_key=True, max_length=200)
    topic: str = Field(primary_key=True, max_length=200)
    phase: str = Field(max_length=100)
    since: datetime | None = _utc_column(nullable=False)  # when this phase became the state
    last_seen: datetime | None = _utc_column(nullable=False)  # when it was last reported
    story_id: int | None = None  # the story and item (feed key) that opened it
    item: str | None = Field(default=None, max_length=600)
