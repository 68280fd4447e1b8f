"""Stories: the items inside the clustering window, a story's members and outlets, recent stories with
their alert history."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Subquery, func
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from monitor.core.clock import as_utc
from monitor.db.base import StoreBase
from monitor.db.records import AlertRecord, DeliveryStatus, Source, StorySummary, WindowItem
from monitor.db.tables import Delivery, FeedState, ItemRow, Story, StoryItem


class StoryQueries(StoreBase):
    def window_items(self, since: datetime, after_id: int = 0) -> list[WindowItem]:
        """Items first seen since `since` (and with id > after_id) with their story, oldest first."""
        founder = aliased(ItemRow)
        with self._session() as session:
            rows = session.exec(
                select(ItemRow, StoryItem, founder.published_at, founder.first_seen_at)
                .join(StoryItem, col(StoryItem.item_id) == col(ItemRow.id))
                .outerjoin(founder, col(founder.id) == col(StoryItem.story_id))
                .where(col(ItemRow.first_seen_at) >= since, col(ItemRow.id) > after_id)
                .order_by(col(ItemRow.id))
            ).all()
        return [
            WindowItem(
                item_id=i.id or 0,
                feed=i.feed,
                title=i.title,
                summary=i.summary,
                link=i.link,
                published_at=as_utc(i.published_at),
                story_id=m.story_id,
                copy_of=m.copy_of,
                story_started=as_utc(published or seen),
            )
            for i, m, published, seen in rows
        ]

    def story_sources(self, story_id: int) -> list[Source]:
        """Every item of a story with its outlet, in the order they joined."""
        with self._session() as session:
            ranked = ranked_members(story_id)
            rows = session.exec(
                select(ItemRow, FeedState, ranked.c.rank)
                .join(ranked, ranked.c.item_id == col(ItemRow.id))
                .join(FeedState, col(FeedState.name) == col(ItemRow.feed))
                .order_by(col(ItemRow.id))
            ).all()
        return [Source(f.title or f.name, i.title, i.link, rank > 1) for i, f, rank in rows]

    def recent_stories(self, since: datetime, limit: int = 50) -> list[StorySummary]:
        """Stories updated since `since`, newest first, with sources and alert history."""
        with self._session() as session:
            stories = session.exec(
                select(Story)
                .where(col(Story.updated_at) >= since)
                .order_by(col(Story.updated_at).desc(), col(Story.id).desc())
                .limit(limit)
            ).all()
            summaries = []
            for story in stories:
                alerts = session.exec(
                    select(Delivery).where(Delivery.story_id == story.id).order_by(col(Delivery.id))
                ).all()
                summaries.append(
                    StorySummary(
                        id=story.id,
                        title=story.title,
                        created_at=as_utc(story.created_at),
                        updated_at=as_utc(story.updated_at),
                        items=story.items,
                        sources=story.sources,
                        topics=list(story.topics),
                        members=[],
                        alerts=[
                            AlertRecord(
                                d.watch,
                                d.channel,
                                d.kind,
                                d.seq,
                                DeliveryStatus(d.status),
                                as_utc(d.created_at),
                                as_utc(d.sent_at),
                                list(d.reasons),
                            )
                            for d in alerts
                        ],
                    )
                )
        return [replace(s, members=self.story_sources(s.id)) for s in summaries]


def ranked_members(story_id: int) -> Subquery:
    """The story's members with their rank inside their group of copies (a report and its reprints).

    Rank 1 is the group's original: the member published first (seen first when a feed gives no date),
    not the one that arrived first. Feeds are polled in no fixed order, and a reprint stored before the
    wire it copies must not make the wire's later reports count as a second source.
    """
    return (
        select(
            col(StoryItem.item_id).label("item_id"),
            col(StoryItem.outlet).label("outlet"),
            func.row_number()
            .over(
                partition_by=func.coalesce(StoryItem.copy_of, StoryItem.item_id),
                order_by=(func.coalesce(ItemRow.published_at, ItemRow.first_seen_at), col(StoryItem.item_id)),
            )
            .label("rank"),
        )
        .join(ItemRow, col(ItemRow.id) == col(StoryItem.item_id))
        .where(StoryItem.story_id == story_id)
        .subquery()
    )
