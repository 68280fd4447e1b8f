"""Polling: fetch the due feeds concurrently (I/O only), then parse, skip what was seen, match, and hand the
new items to `store`; a failing feed backs off. One `poll.completed` summary per poll."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime

from monitor.config.schema import FeedSettings
from monitor.core.errors import FeedError, PermanentFeedError, TransientFeedError
from monitor.core.items import Item
from monitor.db.records import NewItem
from monitor.feeds.backoff import feed_backoff
from monitor.feeds.fetcher import FetchResult
from monitor.feeds.identity import canonical_url, item_key
from monitor.feeds.parser import parse_feed
from monitor.match import Matcher
from monitor.match.genre import classify
from monitor.pipeline.deps import Deps
from monitor.pipeline.store import store_items


@dataclass
class PollSummary:
    feeds: int = 0
    not_modified: int = 0
    unchanged: int = 0
    failed: int = 0
    items_seen: int = 0
    items_new: int = 0
    alerts_queued: int = 0


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
            feed = futures[future]
            try:
                _process(deps, feed, future.result(), summary)
            except Exception as exc:  # a bug or odd input in one feed must not stop the others
                deps.log.exception("feed.crashed", feed=feed.name)
                error = TransientFeedError(f"internal error while processing the feed ({type(exc).__name__})")
                _record_failure(deps, feed, error, summary)
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
    log = deps.log.bind(feed=feed.name)
    if isinstance(outcome, FeedError):
        _record_failure(deps, feed, outcome, summary)
        return
    state = deps.store.feed_state(feed.name)
    body_hash: str | None = None  # None keeps the stored hash
    title: str | None = None
    retry_in_full = False
    if outcome.not_modified:
        summary.not_modified += 1
        log.debug("feed.not_modified")
    elif (body_hash := hashlib.sha256(outcome.body or b"").hexdigest()) == state.body_hash:
        summary.unchanged += 1
        log.debug("feed.unchanged")
    else:
        try:
            parsed = parse_feed(outcome.body or b"", url=outcome.url, content_type=outcome.content_type)
        except FeedError as error:
            _record_failure(deps, feed, error, summary)
            return
        stored = store_items(deps, feed.name, _new_items(deps, feed.name, parsed.items))
        summary.items_seen += len(parsed.items)
        summary.items_new += stored.added
        summary.alerts_queued += stored.queued
        title = parsed.title
        retry_in_full = stored.deferred > 0  # so the next poll neither gets a 304 nor skips the same body
        log.info(
            "feed.fetched",
            items=len(parsed.items),
            new=stored.added,
            alerts_queued=stored.queued,
            deferred=stored.deferred,
        )
    deps.store.record_success(
        feed.name,
        now=now,
        next_due_at=now + deps.config.feed_interval(feed),
        etag=None if retry_in_full else outcome.etag or state.etag,
        last_modified=None if retry_in_full else outcome.last_modified or state.last_modified,
        body_hash=None if retry_in_full else body_hash,
        forget_body=retry_in_full,
        title=title,
    )


def _new_items(deps: Deps, feed: str, items: Iterable[Item]) -> list[NewItem]:
    """Match only items never seen in this feed: neither their key (guid) nor their canonical link is
    known, so an edited or retitled item, or one re-published under a new guid, is not news again."""
    keyed: dict[str, Item] = {}
    for item in items:
        keyed.setdefault(item_key(item), item)
    known = deps.store.known_keys(feed, keyed)
    links = {key: canonical_url(item.link) if item.link else None for key, item in keyed.items()}
    known_links = deps.store.known_links(feed, (link for key, link in links.items() if key not in known))
    new: list[NewItem] = []
    for key, item in keyed.items():
        if key in known or (links[key] and links[key] in known_links):
            continue
        new.append(
            matched_item(
                deps.matcher,
                key=key,
                guid=item.guid,
                link=item.link or "",
                canonical_link=links[key],
                title=item.title,
                summary=item.summary,
                content=item.content,
                published_at=item.published_at,
            )
        )
    return new


def matched_item(
    matcher: Matcher,
    *,
    key: str,
    guid: str | None,
    link: str,
    canonical_link: str | None,
    title: str,
    summary: str,
    content: str,
    published_at: datetime | None,
) -> NewItem:
    """An item ready to store: its match (kept only when something matched) and its genre, matched or
    not, since an unmatched event report still lets a story's commentary alert (the daemon and `replay`
    build items here, so a backtest cannot differ from the daemon)."""
    result = matcher.match(title=title, summary=summary, content=content, link=link)
    matched = bool(result.topics or result.watches)
    genre = result.genre if matched else classify(title=title, summary=summary, link=link)
    return NewItem(
        key=key,
        guid=guid,
        link=canonical_link,
        title=title,
        summary=summary,
        published_at=published_at,
        match=result if matched else None,
        commentary=genre.kind if genre else None,
    )


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
