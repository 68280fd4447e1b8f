"""The only place that sequences steps: fetch → parse → store new items → match → outbox → deliver.

Every step that crosses a crash boundary goes through the database, so a restart (or `run --once` from
cron) neither loses nor repeats an alert, and one bad feed or channel never stops the others.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog

from monitor.clock import Clock
from monitor.db.store import NewItem, PendingDelivery, Store
from monitor.errors import FeedError, PermanentFeedError
from monitor.fetch import Fetcher, FetchResult
from monitor.match import Matcher
from monitor.notify import Alert, Channel, render
from monitor.parse import parse_feed
from monitor.settings import Config, FeedSettings
from monitor.stories import canonical_url, item_key

MAX_DELIVERY_ATTEMPTS = 8
DELIVERY_RETRY_BASE = timedelta(seconds=30)
DELIVERY_RETRY_CAP = timedelta(hours=1)


@dataclass
class Deps:
    config: Config
    store: Store
    fetcher: Fetcher
    matcher: Matcher
    channels: Mapping[str, Channel]
    clock: Clock
    log: structlog.stdlib.BoundLogger


@dataclass
class PollSummary:
    feeds: int = 0
    not_modified: int = 0
    unchanged: int = 0
    failed: int = 0
    items_seen: int = 0
    items_new: int = 0
    alerts_queued: int = 0


@dataclass
class DeliverySummary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    deferred: int = 0
    channels_down: set[str] = field(default_factory=set)


# --- polling -------------------------------------------------------------------------------------


def poll_feeds(deps: Deps, *, only_due: bool = True) -> PollSummary:
    """Fetch feeds concurrently (I/O only), then store and match each result on this thread."""
    started = time.monotonic()
    feeds = [f for f in deps.config.settings.feeds if f.enabled]
    if only_due:
        due = set(deps.store.due_feeds((f.name for f in feeds), deps.clock.now()))
        feeds = [f for f in feeds if f.name in due]
    summary = PollSummary(feeds=len(feeds))
    if not feeds:
        return summary
    workers = min(deps.config.settings.poll.concurrency, len(feeds))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        futures = {pool.submit(_fetch, deps, feed): feed for feed in feeds}
        for future in as_completed(futures):
            _process(deps, futures[future], future.result(), summary)
    deps.log.info(
        "poll.completed",
        feeds=summary.feeds,
        failed=summary.failed,
        not_modified=summary.not_modified,
        unchanged=summary.unchanged,
        items_seen=summary.items_seen,
        items_new=summary.items_new,
        alerts_queued=summary.alerts_queued,
        duration_ms=round((time.monotonic() - started) * 1000),
    )
    return summary


def _fetch(deps: Deps, feed: FeedSettings) -> FetchResult | FeedError:
    state = deps.store.feed_state(feed.name)
    try:
        return deps.fetcher.fetch(feed.url, etag=state.etag, last_modified=state.last_modified)
    except FeedError as error:
        return error


def _process(deps: Deps, feed: FeedSettings, outcome: FetchResult | FeedError, summary: PollSummary) -> None:
    now = deps.clock.now()
    interval = deps.config.feed_interval(feed)
    log = deps.log.bind(feed=feed.name)
    if isinstance(outcome, FeedError):
        _record_failure(deps, feed, outcome, summary)
        return
    state = deps.store.feed_state(feed.name)
    etag = outcome.etag or state.etag
    last_modified = outcome.last_modified or state.last_modified
    if outcome.not_modified:
        summary.not_modified += 1
        deps.store.record_success(
            feed.name,
            now=now,
            next_due_at=now + interval,
            etag=etag,
            last_modified=last_modified,
            body_hash=None,
            title=None,
        )
        log.debug("feed.not_modified")
        return
    body = outcome.body or b""
    body_hash = hashlib.sha256(body).hexdigest()
    if body_hash == state.body_hash:
        summary.unchanged += 1
        deps.store.record_success(
            feed.name,
            now=now,
            next_due_at=now + interval,
            etag=etag,
            last_modified=last_modified,
            body_hash=body_hash,
            title=None,
        )
        log.debug("feed.unchanged")
        return
    try:
        parsed = parse_feed(body, url=outcome.url, content_type=outcome.content_type)
    except FeedError as error:
        _record_failure(deps, feed, error, summary)
        return
    new_items = _new_items(deps, feed.name, parsed.items)
    added = deps.store.add_items(feed.name, new_items, now)
    queued = sum(len(item.deliveries) for item in new_items)
    summary.items_seen += len(parsed.items)
    summary.items_new += added
    summary.alerts_queued += queued
    deps.store.record_success(
        feed.name,
        now=now,
        next_due_at=now + interval,
        etag=etag,
        last_modified=last_modified,
        body_hash=body_hash,
        title=parsed.title,
    )
    log.info("feed.fetched", items=len(parsed.items), new=added, alerts_queued=queued)


def _new_items(deps: Deps, feed: str, items: Iterable[Any]) -> list[NewItem]:
    """Match only items never seen in this feed, and decide their alerts (watch × channel)."""
    keyed = {}
    for item in items:
        keyed.setdefault(item_key(item), item)
    known = deps.store.known_keys(feed, keyed)
    notify = {w.name: w.notify for w in deps.config.rules.watches}
    new: list[NewItem] = []
    for key, item in keyed.items():
        if key in known:
            continue
        result = deps.matcher.match(title=item.title, summary=item.summary, content=item.content)
        deliveries = tuple(
            (hit.name, channel) for hit in result.watches for channel in notify.get(hit.name, ())
        )
        new.append(
            NewItem(
                key=key,
                guid=item.guid,
                link=canonical_url(item.link) if item.link else None,
                title=item.title,
                summary=item.summary,
                published_at=item.published_at,
                match=result.to_json() if result.topics or result.watches else None,
                deliveries=deliveries,
            )
        )
    return new


def _record_failure(deps: Deps, feed: FeedSettings, error: FeedError, summary: PollSummary) -> None:
    now = deps.clock.now()
    summary.failed += 1
    streak = deps.store.record_failure(feed.name, now=now, error=str(error))
    delay = feed_backoff(
        deps.config.feed_interval(feed),
        streak,
        cap=deps.config.settings.poll.max_backoff,
        permanent=isinstance(error, PermanentFeedError),
        retry_after=error.retry_after,
    )
    deps.store.set_next_due(feed.name, now + delay)
    deps.log.warning(
        "feed.failed",
        feed=feed.name,
        error=str(error),
        transient=error.transient,
        error_streak=streak,
        retry_in_s=round(delay.total_seconds()),
    )


def feed_backoff(
    interval: timedelta, streak: int, *, cap: timedelta, permanent: bool, retry_after: float | None
) -> timedelta:
    """Double the wait with each failure in a row (four times longer for permanent errors), never
    beyond `cap`, and never sooner than the server's Retry-After."""
    delay = min(interval * (2 ** min(streak - 1, 20)) * (4 if permanent else 1), cap)
    if retry_after:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay


# --- delivery ------------------------------------------------------------------------------------


def deliver_pending(deps: Deps) -> DeliverySummary:
    """Send due outbox rows in decision order; a channel that fails retryably is skipped for the rest
    of this round so that it delays no other channel."""
    summary = DeliverySummary()
    watches = {w.name: w for w in deps.config.rules.watches}
    for row in deps.store.pending_deliveries(deps.clock.now()):
        if row.channel in summary.channels_down:
            summary.deferred += 1
            continue
        channel = deps.channels.get(row.channel)
        if channel is None:
            deps.store.mark_failed(
                row.id, error=f"channel '{row.channel}' is no longer configured", retry_at=None
            )
            summary.failed += 1
            continue
        watch = watches.get(row.watch)
        outcome = channel.send(render(build_alert(row, watch.label if watch else None)))
        now = deps.clock.now()
        log = deps.log.bind(delivery=row.id, channel=row.channel, watch=row.watch)
        if outcome.ok:
            deps.store.mark_sent(row.id, now)
            summary.sent += 1
            log.info("delivery.sent", title=row.title)
            continue
        attempts = row.attempts + 1
        retry = outcome.retryable and attempts < MAX_DELIVERY_ATTEMPTS
        retry_at = now + min(DELIVERY_RETRY_BASE * 2 ** (attempts - 1), DELIVERY_RETRY_CAP) if retry else None
        deps.store.mark_failed(row.id, error=outcome.reason or "unknown", retry_at=retry_at)
        if retry:
            summary.retrying += 1
            summary.channels_down.add(row.channel)
        else:
            summary.failed += 1
        log.warning("delivery.failed", reason=outcome.reason, attempts=attempts, will_retry=retry)
    if summary.sent or summary.retrying or summary.failed:
        deps.log.info(
            "delivery.completed",
            sent=summary.sent,
            retrying=summary.retrying,
            failed=summary.failed,
            deferred=summary.deferred,
        )
    return summary


def build_alert(row: PendingDelivery, watch_label: str | None) -> Alert:
    match = row.match
    hit = next((w for w in match.get("watches", []) if w.get("name") == row.watch), {})
    topics: list[str] = hit.get("topics") or match.get("topics", [])
    return Alert(
        watch=row.watch,
        severity=hit.get("severity", "medium"),
        topics=topics,
        place=watch_label or row.watch,
        entities=match.get("entities", []),
        headline=row.title,
        outlet=row.feed_title or row.feed,
        published_at=row.published_at,
        link=row.link,
        evidence=evidence_lines(match, topics),
        summary=row.summary,
    )


def evidence_lines(match: Mapping[str, Any], topics: Iterable[str]) -> list[str]:
    """One line per topic listing the distinct words that made it fire, then the entities."""
    lines = []
    evidence = match.get("evidence", [])
    for topic in topics:
        words: dict[str, None] = {}
        for ev in evidence:
            if ev.get("kind") == "term" and ev.get("name") == topic:
                words.setdefault(f'"{ev["text"]}" ({ev["field"]})')
        if words:
            lines.append(f"{topic}: {', '.join(words)}")
    if match.get("entities"):
        lines.append(f"entities: {', '.join(match['entities'])}")
    return lines
