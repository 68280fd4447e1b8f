"""Every query the program makes. Callers get plain values back, never a live session."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Subquery, case, func, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.alerts.policy import WatchState
from monitor.alerts.routing import Disposition
from monitor.core import instance
from monitor.core.clock import as_utc
from monitor.core.errors import MonitorError
from monitor.db.tables import AlertState, Delivery, FeedState, ItemRow, Story, StoryItem

QUEUED = ("pending", "sent", "dead")  # rows that went, or will go, out as a message (count for rate limits)


class ConcurrentUpdate(MonitorError):
    """Another writer changed the same rows first; nothing was stored, the next poll retries the item."""


@dataclass(frozen=True)
class NewItem:
    """An item to store with its match result."""

    key: str
    guid: str | None
    link: str | None
    title: str
    summary: str
    published_at: datetime | None
    match: dict[str, Any] | None


@dataclass(frozen=True)
class StoryView:
    id: int
    items: int
    sources: int  # independent outlets
    topics: list[str]
    created: bool
    reprint: bool  # the item joined is a copy of an earlier-published member


@dataclass(frozen=True)
class WindowItem:
    """An item inside the clustering window with the story it joined (to rebuild the in-memory index)."""

    item_id: int
    feed: str
    title: str
    summary: str
    link: str | None
    published_at: datetime | None
    story_id: int
    copy_of: int | None


@dataclass(frozen=True)
class Source:
    outlet: str  # feed title, else feed name
    title: str
    link: str | None
    copy: bool  # a reprint of another member


@dataclass(frozen=True)
class PendingDelivery:
    id: int
    watch: str
    channel: str
    attempts: int
    feed: str
    feed_title: str | None
    title: str
    summary: str
    link: str | None
    published_at: datetime | None
    match: dict[str, Any]
    story_id: int
    seq: int
    kind: str
    reasons: list[str]
    message_id: str | None
    created_at: datetime | None = None
    # a digest row (kind "digest") has no item: feed, title, summary are empty, story_id is 0
    period_start_at: datetime | None = None
    period_end_at: datetime | None = None


@dataclass(frozen=True)
class Claim:
    """A row taken for one send. `attempts` counts the sends started, this one included; `interrupted`
    those of them that never finished (the process stopped while holding the claim). When `exhausted`,
    the row had no sends left (`attempts` is what it had): it is not to be sent but dead-lettered."""

    attempts: int
    interrupted: int
    exhausted: bool = False
    last_error: str | None = None


@dataclass(frozen=True)
class DeadLetter:
    """A dead-lettered delivery the operator has not been told about yet."""

    id: int
    watch: str
    channel: str
    title: str
    attempts: int
    reason: str


@dataclass(frozen=True)
class OutboxEntry:
    """One outbox row as `news-monitor outbox` shows it."""

    id: int
    created_at: datetime | None
    channel: str
    watch: str
    kind: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    title: str
    held_for: str | None = None  # why a held row waits: digest, rate or quiet
    digest_id: int | None = None  # the digest a folded row went out in
    claimed_by: str | None = None  # a pending row's send in progress, or cut short (`monitor.core.instance`)
    interrupted: int = 0  # sends that never finished


DEAD_STATUSES = ("dead", "failed")  # 'failed': rows written before migration 0003, read as dead


@dataclass(frozen=True)
class AlertRecord:
    watch: str
    channel: str
    kind: str
    seq: int
    status: str
    created_at: datetime | None
    sent_at: datetime | None
    reasons: list[str]


@dataclass(frozen=True)
class StorySummary:
    id: int
    title: str
    created_at: datetime | None
    updated_at: datetime | None
    items: int
    sources: int
    topics: list[str]
    members: list[Source]
    alerts: list[AlertRecord]


def channel_token(channel: str) -> str:
    """A short stable token for a channel name (Message-IDs must not reveal configuration)."""
    return hashlib.sha256(channel.encode()).hexdigest()[:12]


def message_id(story_id: int, watch: str, channel: str, seq: int) -> str:
    """The RFC 5322 Message-ID of alert number `seq` about a story: deterministic, so an update can
    reference the first alert without looking it up, and a retried send keeps its id."""
    token = hashlib.sha256(f"{watch}\0{channel}".encode()).hexdigest()[:12]
    return f"<story-{story_id}.{seq}.{token}@news-monitor>"


@dataclass(frozen=True)
class HeldSummary:
    """A channel's held rows: the oldest waiting for the next digest, the earliest release time, and
    when its last scheduled digest was folded (rows decided before it but committed after it are not
    late for it: they wait for the next one)."""

    channel: str
    oldest_for_digest_at: datetime | None
    first_release_at: datetime | None
    last_digest_at: datetime | None = None


@dataclass(frozen=True)
class Fold:
    """What one fold did: the new digest row (or the one row released as itself) and the rows it took."""

    digest_id: int | None
    released_id: int | None
    rows: int


def _digest_title(members: int) -> str:
    return f"digest of {members} alert{'s' if members != 1 else ''}"


class ItemUnit:
    """One item's unit of work: store it, join its story, read and write alert state, queue the outbox
    rows. Everything commits together (or not at all) when the `Store.item_unit` block ends."""

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
                    match=new.match,
                )
                self._session.add(row)
                self._session.flush()
        except IntegrityError:
            return None
        assert row.id is not None
        return row.id

    def join_story(
        self, item_id: int, story_id: int, *, outlet: str, copy_of: int | None, title: str, topics: list[str]
    ) -> StoryView:
        """Put the item into the story (creating it when the item founds it); update its counts."""
        session = self._session
        # Lock the row (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers) so that two
        # instances joining the same story cannot overwrite each other's counts and alert state.
        story = session.get(Story, story_id, with_for_update=True)
        created = story is None
        if story is None:
            story = Story(
                id=story_id, title=title, created_at=self.now, updated_at=self.now, items=0, sources=0
            )
            session.add(story)
            session.flush()
        session.add(
            StoryItem(item_id=item_id, story_id=story_id, outlet=outlet, copy_of=copy_of, joined_at=self.now)
        )
        session.flush()
        ranked = _ranked_members(story_id)
        independent, reprint = session.exec(
            select(
                func.count(func.distinct(case((ranked.c.rank == 1, ranked.c.outlet)))),
                func.count(case(((ranked.c.item_id == item_id) & (ranked.c.rank > 1), 1))),
            )
        ).one()
        story.items += 1
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
        reasons: list[str], holds: Mapping[str, Disposition] | None = None,
    ) -> int:  # fmt: skip
        """Outbox rows for one alert decision (one per channel); returns how many. A channel in `holds`
        gets a held row (until its release time, or the next digest when that is None)."""
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
                    reasons=reasons,
                    message_id=message_id(story_id, watch, channel, seq),
                    created_at=self.now,
                    status="held" if held else "pending",
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


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    # --- feeds -----------------------------------------------------------------------------------

    def sync_feeds(self, feeds: Iterable[tuple[str, str]]) -> None:
        """Create state rows for configured feeds (name, url); a changed URL resets its validators."""
        with self._session() as session:
            for name, url in feeds:
                state = session.get(FeedState, name)
                if state is None:
                    session.add(FeedState(name=name, url=url))
                elif state.url != url:
                    state.url, state.etag, state.last_modified, state.body_hash = url, None, None, None
                    state.error_streak, state.next_due_at = 0, None
                    session.add(state)
            session.commit()

    def feed_state(self, name: str) -> FeedState:
        with self._session() as session:
            state = session.get(FeedState, name)
            if state is None:
                raise KeyError(name)
            return state

    def due_feeds(self, names: Iterable[str], now: datetime) -> list[str]:
        wanted = list(names)
        with self._session() as session:
            rows = session.exec(
                select(FeedState.name).where(
                    col(FeedState.name).in_(wanted),
                    or_(col(FeedState.next_due_at).is_(None), col(FeedState.next_due_at) <= now),
                )
            ).all()
        return [name for name in wanted if name in set(rows)]

    def record_success(
        self,
        name: str,
        *,
        now: datetime,
        next_due_at: datetime,
        etag: str | None,
        last_modified: str | None,
        body_hash: str | None,
        title: str | None,
        forget_body: bool = False,
    ) -> None:
        """`body_hash=None` keeps the stored hash; `forget_body` clears it (the body must be processed again)."""
        with self._session() as session:
            state = session.get_one(FeedState, name)
            state.etag, state.last_modified = etag, last_modified
            state.body_hash = None if forget_body else body_hash or state.body_hash
            state.title = title or state.title
            state.last_polled_at = state.last_success_at = now
            state.next_due_at = next_due_at
            state.error_streak, state.last_error = 0, None
            session.add(state)
            session.commit()

    def record_failure(self, name: str, *, now: datetime, error: str) -> int:
        """Count one more failure in a row; returns the new streak so the caller can back off."""
        with self._session() as session:
            state = session.get_one(FeedState, name)
            state.error_streak += 1
            state.last_error = error
            state.last_polled_at = now
            session.add(state)
            session.commit()
            return state.error_streak

    def set_next_due(self, name: str, next_due_at: datetime) -> None:
        with self._session() as session:
            state = session.get_one(FeedState, name)
            state.next_due_at = next_due_at
            session.add(state)
            session.commit()

    # --- items -----------------------------------------------------------------------------------

    def known_keys(self, feed: str, keys: Iterable[str]) -> set[str]:
        wanted = list(keys)
        known: set[str] = set()
        with self._session() as session:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                known.update(
                    session.exec(
                        select(ItemRow.key).where(ItemRow.feed == feed, col(ItemRow.key).in_(chunk))
                    ).all()
                )
        return known

    def known_links(self, feed: str, links: Iterable[str]) -> set[str]:
        """Canonical links this feed already has: an item re-published under a new guid is the same item."""
        wanted = [link for link in links if link]
        known: set[str] = set()
        with self._session() as session:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                known.update(
                    link
                    for link in session.exec(
                        select(ItemRow.link).where(ItemRow.feed == feed, col(ItemRow.link).in_(chunk))
                    ).all()
                    if link
                )
        return known

    @contextmanager
    def item_unit(self, now: datetime) -> Iterator[ItemUnit]:
        """A transaction for one item and everything decided about it; committed when the block ends.
        Raises ConcurrentUpdate (nothing stored) when another instance changed the same story meanwhile."""
        with self._session() as session:
            try:
                yield ItemUnit(session, now)
                session.commit()
            except IntegrityError as exc:
                session.rollback()
                raise ConcurrentUpdate(
                    "another instance updated the same story; the item is retried"
                ) from exc

    def window_items(self, since: datetime, after_id: int = 0) -> list[WindowItem]:
        """Items first seen since `since` (and with id > after_id) with their story, oldest first."""
        with self._session() as session:
            rows = session.exec(
                select(ItemRow, StoryItem)
                .join(StoryItem, col(StoryItem.item_id) == col(ItemRow.id))
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
            )
            for i, m in rows
        ]

    def story_sources(self, story_id: int) -> list[Source]:
        """Every item of a story with its outlet, in the order they joined."""
        with self._session() as session:
            ranked = _ranked_members(story_id)
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
                                d.status,
                                as_utc(d.created_at),
                                as_utc(d.sent_at),
                                list(d.reasons),
                            )
                            for d in alerts
                        ],
                    )
                )
        return [StorySummary(**{**s.__dict__, "members": self.story_sources(s.id)}) for s in summaries]

    # --- outbox ----------------------------------------------------------------------------------

    def pending_deliveries(self, now: datetime, per_channel: int = 100) -> list[PendingDelivery]:
        """Due rows, oldest first. Per channel only the leading due rows: a row waiting for its retry (or
        claimed by a sender) holds back the later rows of its channel, so they never overtake it. A row
        not yet queued (`queued_at` ahead: released into quiet hours, due when they end) holds back
        nothing, so a critical alert decided meanwhile goes out at once."""
        due: list[PendingDelivery] = []
        with self._session() as session:
            channels = session.exec(
                select(Delivery.channel).where(Delivery.status == "pending").distinct()
            ).all()
            for channel in sorted(channels):
                rows = session.exec(
                    _with_items()
                    .where(Delivery.status == "pending", Delivery.channel == channel)
                    .order_by(col(Delivery.id))
                    .limit(per_channel)
                ).all()
                for d, i, f in rows:
                    next_at = as_utc(d.next_attempt_at)
                    if next_at is not None and next_at > now:
                        queued_at = as_utc(d.queued_at)
                        if queued_at is not None and queued_at > now:
                            continue  # waits for the channel's quiet hours to end, not for a retry
                        break
                    due.append(_pending(d, i, f))
        return sorted(due, key=lambda p: p.id)

    def claim(
        self,
        delivery_id: int,
        now: datetime,
        lease: timedelta,
        *,
        owner: str | None = None,
        max_attempts: int | None = None,
    ) -> Claim | None:
        """Take a due row for one send: only one instance wins it (None for the others), and the send
        counts as an attempt now, so one that crashes the process still counts. `owner` (the process) is
        recorded so a restart on its host can give the row back at once (`recover_claims`); otherwise it
        comes back when the lease ends (at-least-once, a duplicate only for the message in flight). A
        claim left by a process that stopped counts as an interrupted send. A row with `max_attempts`
        sends already started is claimed without a new attempt and returned `exhausted`. `owner`
        defaults to this process; no `max_attempts`, no limit."""
        owner = owner or instance.current().token
        with self._session() as session:
            row = session.exec(
                select(Delivery).where(col(Delivery.id) == delivery_id).with_for_update()
            ).one_or_none()
            due_at = as_utc(row.next_attempt_at) if row is not None else None
            if row is None or row.status != "pending" or (due_at is not None and due_at > now):
                session.rollback()
                return None
            exhausted = max_attempts is not None and row.attempts >= max_attempts
            interrupted = row.interrupted + (1 if row.claimed_by is not None else 0)
            attempts = row.attempts + (0 if exhausted else 1)
            session.execute(
                update(Delivery)
                .where(col(Delivery.id) == delivery_id)
                .values(
                    next_attempt_at=now + lease, claimed_by=owner, attempts=attempts, interrupted=interrupted
                )
            )
            session.commit()
            return Claim(attempts, interrupted, exhausted, row.last_error)

    def recover_claims(self, now: datetime, gone: Callable[[str], bool]) -> int:
        """Make due now the rows claimed by processes that `gone` says no longer run (a restart after a
        crash), so their channels do not wait for the lease; returns how many. Each is released only if
        still held by that process, so a row another instance claimed meanwhile is left alone."""
        with self._session() as session:
            owners = session.exec(
                select(Delivery.claimed_by)
                .where(
                    Delivery.status == "pending",
                    col(Delivery.claimed_by).is_not(None),
                    col(Delivery.next_attempt_at) > now,
                )
                .distinct()
            ).all()
            dead = [owner for owner in owners if owner is not None and gone(owner)]
            if not dead:
                return 0
            released = session.execute(
                update(Delivery)
                .where(
                    Delivery.status == "pending",
                    col(Delivery.claimed_by).in_(dead),
                    col(Delivery.next_attempt_at) > now,
                )
                .values(next_attempt_at=now)  # claimed_by stays: the next claim counts the interruption
            )
            session.commit()
            return int(released.rowcount)

    def mark_sent(self, delivery_id: int, now: datetime) -> None:
        self._update_delivery(delivery_id, status="sent", sent_at=now, last_error=None)

    def mark_retry(self, delivery_id: int, *, error: str, retry_at: datetime) -> None:
        """Record a failed send (counted when it was claimed); the row stays pending until `retry_at`."""
        self._update_delivery(delivery_id, status="pending", last_error=error, next_attempt_at=retry_at)

    def mark_dead(self, delivery_id: int, *, error: str, now: datetime) -> None:
        """Give the row up (dead-letter it) with the reason."""
        self._update_delivery(delivery_id, status="dead", last_error=error, dead_at=now, next_attempt_at=None)

    def _update_delivery(self, delivery_id: int, **values: Any) -> None:
        """Set `values` and end the row's claim: its send is over, whatever the outcome."""
        with self._session() as session:
            row = session.get_one(Delivery, delivery_id)
            row.claimed_by = None
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)
            session.commit()

    def dead_unnotified(self, limit: int = 100) -> list[DeadLetter]:
        """Dead-lettered rows the operator has not been told about, oldest first."""
        with self._session() as session:
            rows = session.exec(
                select(Delivery, ItemRow)
                .outerjoin(ItemRow, col(ItemRow.id) == col(Delivery.item_id))
                .where(col(Delivery.status).in_(DEAD_STATUSES), col(Delivery.operator_notified_at).is_(None))
                .order_by(col(Delivery.id))
                .limit(limit)
            ).all()
            titles = {d.id: i.title if i else self._digest_label(session, d.id) for d, i in rows}
        return [
            DeadLetter(d.id or 0, d.watch, d.channel, titles[d.id], d.attempts, d.last_error or "unknown")
            for d, _i in rows
        ]

    @staticmethod
    def _digest_label(session: Session, digest_id: int | None) -> str:
        members = session.exec(
            select(func.count()).select_from(Delivery).where(Delivery.digest_id == digest_id)
        ).one()
        return _digest_title(int(members))

    def mark_operator_notified(self, delivery_id: int, now: datetime) -> bool:
        """Claim the one operator notice about this dead row before sending it: True only for the caller
        that records it first (the digest job and the tick run on separate threads, instances share the
        database), so the notice is attempted once, never repeated."""
        with self._session() as session:
            claimed = session.execute(
                update(Delivery)
                .where(col(Delivery.id) == delivery_id, col(Delivery.operator_notified_at).is_(None))
                .values(operator_notified_at=now)
            )
            session.commit()
            return claimed.rowcount == 1

    def outbox(self, statuses: Iterable[str] | None = None, limit: int = 50) -> list[OutboxEntry]:
        """Outbox rows with these statuses (all when None), newest first."""
        wanted = [*statuses] if statuses is not None else None
        if wanted is not None and "dead" in wanted:
            wanted.append("failed")
        query = select(Delivery, ItemRow).outerjoin(ItemRow, col(ItemRow.id) == col(Delivery.item_id))
        if wanted is not None:
            query = query.where(col(Delivery.status).in_(wanted))
        with self._session() as session:
            rows = session.exec(query.order_by(col(Delivery.id).desc()).limit(limit)).all()
            titles = {d.id: i.title if i else self._digest_label(session, d.id) for d, i in rows}
        return [
            OutboxEntry(
                id=d.id or 0,
                created_at=as_utc(d.created_at),
                channel=d.channel,
                watch=d.watch,
                kind=d.kind,
                status="dead" if d.status in DEAD_STATUSES else d.status,
                attempts=d.attempts,
                next_attempt_at=as_utc(d.next_attempt_at) if d.status in ("pending", "held") else None,
                last_error=d.last_error,
                title=titles[d.id],
                held_for=d.held_for,
                digest_id=d.digest_id,
                claimed_by=d.claimed_by if d.status == "pending" else None,
                interrupted=d.interrupted,
            )
            for d, _i in rows
        ]

    def retry_delivery(self, delivery_id: int, now: datetime) -> str | None:
        """Put a dead (or waiting) row back in the queue, due now, attempts reset. Returns the status it
        had, or None when there is no such row; a sent row is left alone (resending would duplicate)."""
        with self._session() as session:
            row = session.get(Delivery, delivery_id)
            if row is None:
                return None
            previous = "dead" if row.status in DEAD_STATUSES else row.status
            if previous not in ("sent", "folded"):  # a folded row went (or goes) out in its digest
                row.status, row.attempts, row.interrupted, row.next_attempt_at = "pending", 0, 0, now
                row.claimed_by = None
                row.queued_at = row.queued_at or now
                row.dead_at = row.operator_notified_at = None
                session.add(row)
                session.commit()
            return previous

    # --- held rows and digests ------------------------------------------------------------------

    def held(self) -> list[HeldSummary]:
        """Every channel with held rows: the oldest waiting for a digest, the earliest release time and
        the end of its last scheduled digest."""
        with self._session() as session:
            rows = session.exec(
                select(
                    Delivery.channel,
                    func.min(Delivery.created_at).filter(col(Delivery.next_attempt_at).is_(None)),
                    func.min(Delivery.next_attempt_at),
                )
                .where(Delivery.status == "held")
                .group_by(Delivery.channel)
            ).all()
            if not rows:  # the usual tick: nothing held, no second query
                return []
            last = dict(
                session.exec(
                    select(Delivery.channel, func.max(Delivery.period_end_at))
                    .where(
                        Delivery.kind == "digest",
                        Delivery.held_for == "digest",
                        col(Delivery.channel).in_([r[0] for r in rows]),
                    )
                    .group_by(Delivery.channel)
                ).all()
            )
        return [
            HeldSummary(c, as_utc(oldest), as_utc(release), as_utc(last.get(c)))
            for c, oldest, release in sorted(rows)
        ]

    def fold(self, channel: str, *, now: datetime, send_at: datetime, scheduled: bool) -> Fold:
        """In one transaction, turn a channel's held rows into one digest row due at `send_at` (member
        rows become `folded`). `scheduled` (the digest's cron time) takes every held row; otherwise only
        rows with a release time, and one such row alone is released as itself. Returns what was done;
        nothing when another instance folded the same rows first."""
        with self._session() as session:
            query = select(Delivery).where(Delivery.channel == channel, Delivery.status == "held")
            if not scheduled:
                query = query.where(col(Delivery.next_attempt_at).is_not(None))
            rows = session.exec(query.order_by(col(Delivery.id)).with_for_update()).all()
            if not rows:
                return Fold(None, None, 0)
            ids = [r.id for r in rows]
            if len(rows) == 1 and not scheduled:
                done = session.execute(
                    update(Delivery)
                    .where(col(Delivery.id) == ids[0], col(Delivery.status) == "held")
                    .values(status="pending", next_attempt_at=send_at, queued_at=send_at)
                )
                if done.rowcount != 1:
                    session.rollback()
                    return Fold(None, None, 0)
                session.commit()
                return Fold(None, ids[0], 1)
            previous_end = session.exec(
                select(func.max(Delivery.period_end_at)).where(
                    Delivery.channel == channel, Delivery.kind == "digest"
                )
            ).one()
            start = as_utc(previous_end) or min(as_utc(r.created_at) or now for r in rows)
            digest = Delivery(
                watch="",
                channel=channel,
                kind="digest",
                held_for="digest" if scheduled else None,  # made by the schedule (see `held`)
                reasons=[],
                message_id=f"<digest-{int(now.timestamp())}.{channel_token(channel)}@news-monitor>",
                created_at=now,
                next_attempt_at=send_at,
                queued_at=send_at,
                period_start_at=min(start, now),
                period_end_at=now,
            )
            try:
                session.add(digest)
                session.flush()
                done = session.execute(
                    update(Delivery)
                    .where(col(Delivery.id).in_(ids), col(Delivery.status) == "held")
                    .values(status="folded", digest_id=digest.id)
                )
                if done.rowcount != len(ids):
                    session.rollback()  # another instance folded some of them: its digest has them
                    return Fold(None, None, 0)
                session.commit()
            except IntegrityError:
                session.rollback()  # the same channel folded at the same instant elsewhere
                return Fold(None, None, 0)
            return Fold(digest.id, None, len(ids))

    def digest_members(self, digest_id: int) -> list[PendingDelivery]:
        """The rows folded into a digest, in decision order, with their items."""
        with self._session() as session:
            rows = session.exec(
                _with_items().where(Delivery.digest_id == digest_id).order_by(col(Delivery.id))
            ).all()
        return [_pending(d, i, f) for d, i, f in rows]

    def delivery_counts(self) -> dict[str, int]:
        with self._session() as session:
            rows = session.exec(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
        return dict(rows)


def _with_items() -> Any:
    """Deliveries with their item and its feed (outer joins: a digest row has no item of its own)."""
    return (
        select(Delivery, ItemRow, FeedState)
        .outerjoin(ItemRow, col(ItemRow.id) == col(Delivery.item_id))
        .outerjoin(FeedState, col(FeedState.name) == col(ItemRow.feed))
    )


def _pending(d: Delivery, i: ItemRow | None, f: FeedState | None) -> PendingDelivery:
    return PendingDelivery(
        id=d.id or 0,
        watch=d.watch,
        channel=d.channel,
        attempts=d.attempts,
        feed=i.feed if i else "",
        feed_title=f.title if f else None,
        title=i.title if i else "digest",
        summary=i.summary if i else "",
        link=i.link if i else None,
        published_at=as_utc(i.published_at) if i else None,
        match=(i.match if i else None) or {},
        story_id=d.story_id or 0,
        seq=d.seq,
        kind=d.kind,
        reasons=list(d.reasons or []),
        message_id=d.message_id,
        created_at=as_utc(d.created_at),
        period_start_at=as_utc(d.period_start_at),
        period_end_at=as_utc(d.period_end_at),
    )


def _ranked_members(story_id: int) -> Subquery:
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
