"""The values the store takes and gives back: plain frozen records, never live table rows.

Datetimes in them are timezone-aware UTC (`monitor.core.clock.as_utc` on the way out). This module
imports no database library, so a command can name a record or a status without loading SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from monitor.core import instance
from monitor.match.results import MatchResult


class DeliveryStatus(StrEnum):
    """Where an outbox row is. The values are what `delivery.status` holds and what
    `news-monitor outbox --status` accepts."""

    PENDING = "pending"  # due at `next_attempt_at`; a claimed row is being sent until its lease ends
    HELD = "held"  # routing holds it until its release time, or (none) the channel's next digest
    DEAD = "dead"  # given up (dead-lettered)
    SENT = "sent"
    FOLDED = "folded"  # part of the digest row `digest_id`, which goes out in its place
    FAILED = "failed"  # given up by a version before migration 0003; reads as DEAD

    @classmethod
    def read(cls, stored: str) -> DeliveryStatus:
        """The status a stored value stands for."""
        status = cls(stored)
        return cls.DEAD if status is cls.FAILED else status

    @classmethod
    def current(cls) -> list[DeliveryStatus]:
        """The statuses rows are written with (all but FAILED)."""
        return [status for status in cls if status is not cls.FAILED]

    @property
    def stored_as(self) -> tuple[DeliveryStatus, ...]:
        """The stored values that stand for this status."""
        return (self, DeliveryStatus.FAILED) if self is DeliveryStatus.DEAD else (self,)


@dataclass(frozen=True)
class FeedRecord:
    """A feed's HTTP validators, schedule and error streak."""

    name: str
    url: str
    title: str | None
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    next_due_at: datetime | None
    last_polled_at: datetime | None
    last_success_at: datetime | None
    error_streak: int
    last_error: str | None


@dataclass(frozen=True)
class NewItem:
    """An item to store with its match result (None when it matched nothing) and, matched or not, its
    genre when it is commentary rather than an event report (the events_only rule asks the story)."""

    key: str
    guid: str | None
    link: str | None
    title: str
    summary: str
    published_at: datetime | None
    match: MatchResult | None
    commentary: str | None = None  # e.g. "analysis"; None for an event report


@dataclass(frozen=True)
class StoryView:
    """A story as an item joining it leaves it."""

    id: int
    items: int
    sources: int  # independent outlets
    topics: list[str]
    created: bool
    reprint: bool  # the item joined is a copy of an earlier-published member
    event_reports: int = 1  # members that are event reports rather than commentary


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
    story_started: datetime | None = None  # publication (else first-seen) time of the story's founding item


@dataclass(frozen=True)
class Source:
    """One member of a story as an alert lists it."""

    outlet: str  # feed title, else feed name
    title: str
    link: str | None
    copy: bool  # a reprint of another member


@dataclass(frozen=True)
class PendingDelivery:
    """An outbox row to send, with the item that triggered it and that item's match result."""

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
    match: MatchResult
    story_id: int
    seq: int
    kind: str
    reasons: list[str]
    message_id: str | None
    created_at: datetime | None = None
    # a digest row (kind "digest") has no item: feed, title, summary are empty, story_id is 0
    period_start_at: datetime | None = None
    period_end_at: datetime | None = None
    phase: str | None = None  # the turn the message announces (its subject tag), if any


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


_HELD_FOR = {"digest": "digest mode", "rate": "rate limit", "quiet": "quiet hours"}  # `held_for` in words


@dataclass(frozen=True)
class OutboxEntry:
    """One outbox row as `news-monitor outbox` shows it."""

    id: int
    created_at: datetime | None
    channel: str
    watch: str
    kind: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    title: str
    held_for: str | None = None  # why a held row waits: digest, rate or quiet
    digest_id: int | None = None  # the digest a folded row went out in
    claimed_by: str | None = None  # a pending row's send in progress, or cut short (`monitor.core.instance`)
    interrupted: int = 0  # sends that never finished

    @property
    def note(self) -> str:
        """Why the row waits or where it went; else its last error (stored scrubbed: no URL, no secret).
        A claimed row names the process holding it (host and PID); its TRIES count the send in progress,
        which ends, or a restart of that process frees it."""
        if self.status is DeliveryStatus.HELD:
            return f"held: {_HELD_FOR.get(self.held_for or '', self.held_for or 'routing')}"
        if self.status is DeliveryStatus.FOLDED:
            return f"in digest {self.digest_id}"
        error = " ".join((self.last_error or "").split())[:160]
        if self.status is DeliveryStatus.PENDING and self.interrupted:
            error = "; ".join(filter(None, [f"the daemon stopped during {self.interrupted} send(s)", error]))
        if self.status is DeliveryStatus.PENDING and self.claimed_by:
            who = instance.parse(self.claimed_by)
            error = "; ".join(filter(None, [f"claimed by {who.label if who else self.claimed_by}", error]))
        if self.kind == "digest":
            return f"{self.title}; {error}" if error else self.title
        return error or "-"


@dataclass(frozen=True)
class AlertRecord:
    """One alert of a story's history (an outbox row)."""

    watch: str
    channel: str
    kind: str
    seq: int
    status: DeliveryStatus
    created_at: datetime | None
    sent_at: datetime | None
    reasons: list[str]


@dataclass(frozen=True)
class StorySummary:
    """A story as `news-monitor stories` shows it: counts, members and alert history."""

    id: int
    title: str
    created_at: datetime | None
    updated_at: datetime | None
    items: int
    sources: int
    topics: list[str]
    members: list[Source]
    alerts: list[AlertRecord]


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
