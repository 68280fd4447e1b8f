"""The unit of work of one item: store it, join its story, read and write alert state, queue the outbox
rows, all in one transaction, so a crash or a concurrent writer leaves either all of it or none."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import case, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.alerts.phases import PhaseState
from monitor.alerts.policy import WatchState
from monitor.alerts.routing import Disposition
from monitor.alerts.threading import message_id
from monitor.core.clock import as_utc
from monitor.db import phases as phase_rows
from monitor.db.records import DeliveryStatus, NewItem, StoryView
from monitor.db.stories import ranked_members
from monitor.db.tables import AlertState, Delivery, ItemRow, Story, StoryItem

# rows that went, or will go, out as a message: they count for a channel's rate limit
QUEUED = (DeliveryStatus.PENDING, DeliveryStatus.SENT, DeliveryStatus.DEAD)


class ItemUnit:
    """One item's unit of work, opened by `Store.item_unit`: everything commits together (or not at
    all) when that block ends."""

    def __init__(self, session: Session, now: datetime) -> None:
        self._session = session
        self.now = now

    def add_item(self, feed: str, new: NewItem) -> int | None:
        """The new item's id, or None when another writer stored it first (its alerts are theirs)."""
        try:
            with self._session.begin_nested():
                row = ItemRow(
                    feed=feed,
                    key=new.key,
                    guid=new.guid,
                    link=new.link,
                    title=new.title,
                    summary=new.summary,
                    published_at=new.published_at,
                    first_seen_at=self.now,
                    match=new.match.to_json() if new.match is not None else None,
                )
                self._session.add(row)
                self._session.flush()
        except IntegrityError:
            return None
        assert row.id is not None
        return row.id

    def join_story(
        self,
        item_id: int,
        story_id: int,
        *,
        outlet: str,
        copy_of: int | None,
        title: str,
        topics: list[str],
        event_report: bool = True,
    ) -> StoryView:
        """Put the item into the story (creating it when the item founds it); update its counts
        (`event_report`: the item is not commentary)."""
        session = self._session
        # Lock the row (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers) so that two
        # instances joining the same story cannot overwrite each other's counts and alert state.
        story = session.get(Story, story_id, with_for_update=True)
        created = story is None
        if story is None:
            story = Story(
                id=story_id,
                title=title,
                created_at=self.now,
                updated_at=self.now,
                items=0,
                sources=0,
                event_reports=0,
            )
            session.add(story)
            session.flush()
        session.add(
            StoryItem(item_id=item_id, story_id=story_id, outlet=outlet, copy_of=copy_of, joined_at=self.now)
        )
        session.flush()
        ranked = ranked_members(story_id)
        independent, reprint = session.exec(
            select(
                func.count(func.distinct(case((ranked.c.rank == 1, ranked.c.outlet)))),
                func.count(case(((ranked.c.item_id == item_id) & (ranked.c.rank > 1), 1))),
            )
        ).one()
        story.items += 1
        story.event_reports += int(event_report)
        story.sources = max(int(independent), 1)
        story.topics = list(dict.fromkeys([*story.topics, *topics]))
        story.updated_at = self.now
        session.add(story)
        session.flush()
        return StoryView(
            id=story_id,
            items=story.items,
            sources=story.sources,
            topics=story.topics,
            created=created,
            reprint=bool(reprint),
            event_reports=story.event_reports,
        )

    def watch_states(self, story_id: int) -> dict[str, WatchState]:
        """What each watch following this story has seen and alerted so far."""
        rows = self._session.exec(select(AlertState).where(AlertState.story_id == story_id)).all()
        return {
            row.watch: WatchState(
                level=row.level,
                topics=tuple(row.topics or ()),
                alerted_level=row.alerted_level,
                alerted_topics=tuple(row.alerted_topics or ()),
                alerted_sources=row.alerted_sources or 0,
                alerts=row.alerts or 0,
            )
            for row in rows
        }

    def watch_item(self, story_id: int, watch: str, *, events: bool = False) -> tuple[int, str, str] | None:
        """The (id, key, title) of the story's latest item that matched `watch` (with `events`, the latest
        such event report, not commentary): what an alert shows when the item completing the story (a
        corroborating source) did not itself match the watch."""
        rows = self._session.exec(
            select(ItemRow.id, ItemRow.key, ItemRow.title, ItemRow.match)
            .join(StoryItem, col(StoryItem.item_id) == col(ItemRow.id))
            .where(StoryItem.story_id == story_id, col(ItemRow.match).is_not(None))
            .order_by(col(ItemRow.id).desc())
        ).all()
        for item_id, key, title, match in rows:
            if events and (match or {}).get("genre"):
                continue
            if any(hit.get("name") == watch for hit in (match or {}).get("watches", [])):
                return item_id or 0, key, title
        return None

    def has_delivery(self, watch: str, story_id: int, channel: str, *, seq: int) -> bool:
        """Whether the story already has that outbox row for the watch and channel."""
        row = self._session.exec(
            select(Delivery.id).where(
                Delivery.watch == watch,
                Delivery.story_id == story_id,
                Delivery.channel == channel,
                Delivery.seq == seq,
            )
        ).first()
        return row is not None

    def recent_first_alerts(self, watch: str, since: datetime) -> int:
        """How many stories the watch sent a first alert about since `since` (the busy rule's count)."""
        count = self._session.exec(
            select(func.count()).where(AlertState.watch == watch, col(AlertState.first_alert_at) >= since)
        ).one()
        return int(count)

    def phases(self, watch: str) -> dict[str, PhaseState]:
        """The watch's current phase per topic (locked until this unit ends, on PostgreSQL)."""
        return phase_rows.load(self._session, watch)

    def save_phases(self, watch: str, states: Mapping[str, PhaseState]) -> None:
        """Store the watch's changed phase states."""
        phase_rows.save(self._session, watch, states)

    def save_state(self, watch: str, story_id: int, state: WatchState, *, alerted: bool) -> None:
        row = self._session.get(AlertState, (watch, story_id)) or AlertState(watch=watch, story_id=story_id)
        row.level, row.topics = state.level, list(state.topics)
        row.alerted_level, row.alerted_topics = state.alerted_level, list(state.alerted_topics)
        row.alerted_sources, row.alerts = state.alerted_sources, state.alerts
        if alerted:
            row.first_alert_at = row.first_alert_at or self.now
            row.last_alert_at = self.now
        self._session.add(row)

    def queue(
        self, *, watch: str, story_id: int, item_id: int, channels: Iterable[str], seq: int, kind: str,
        reasons: list[str], holds: Mapping[str, Disposition] | None = None, phase: str | None = None,
    ) -> int:  # fmt: skip
        """Outbox rows for one alert decision (one per channel); returns how many. A channel in `holds`
        gets a held row (until its release time, or the next digest when that is None). `phase`: the turn
        the alert announces, as its subject tag."""
        count = 0
        for channel in channels:
            hold = (holds or {}).get(channel)
            held = hold is not None and hold.hold
            self._session.add(
                Delivery(
                    item_id=item_id,
                    story_id=story_id,
                    watch=watch,
                    channel=channel,
                    seq=seq,
                    kind=kind,
                    phase=phase,
                    reasons=reasons,
                    message_id=message_id(story_id, watch, channel, seq),
                    created_at=self.now,
                    status=DeliveryStatus.HELD if held else DeliveryStatus.PENDING,
                    held_for=hold.reason if held and hold else None,
                    next_attempt_at=hold.release_at if held and hold else self.now,
                    queued_at=None if held else self.now,
                )
            )
            count += 1
        self._session.flush()  # so the next rate-limit count in this unit sees them
        return count

    def recent_sends(self, channel: str, since: datetime) -> list[datetime]:
        """When the messages queued for `channel` after `since` were queued (for its rate limit)."""
        rows = self._session.exec(
            select(Delivery.queued_at).where(
                Delivery.channel == channel,
                col(Delivery.status).in_(QUEUED),
                col(Delivery.queued_at) > since,
            )
        ).all()
        return [t for t in (as_utc(r) for r in rows) if t is not None]
