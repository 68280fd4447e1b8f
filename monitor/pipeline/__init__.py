"""The only place that sequences steps: fetch → parse → match → store + story + alert decision + outbox
(one transaction per item) → deliver.

Every step that crosses a crash boundary goes through the database, so a restart (or `run --once` from
cron) neither loses nor repeats an alert, and one bad feed or channel never stops the others.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import structlog

from monitor.alerts.policy import decide
from monitor.alerts.retry import after_failure, exhausted_reason
from monitor.alerts.routing import (
    DigestEntry,
    Disposition,
    admits,
    digest_overdue,
    digest_stories,
    dispose,
    route_for,
)
from monitor.alerts.routing import send_at as routing_send_at
from monitor.config import Config, FeedSettings
from monitor.core import instance
from monitor.core.clock import Clock
from monitor.core.errors import FeedError, PermanentFeedError, TransientFeedError
from monitor.core.items import Item
from monitor.db.store import (
    Claim,
    ConcurrentUpdate,
    ItemUnit,
    NewItem,
    PendingDelivery,
    Source,
    Store,
    StoryView,
    message_id,
)
from monitor.delivery.channel import Channel, DeliveryOutcome
from monitor.feeds.backoff import feed_backoff
from monitor.feeds.fetcher import Fetcher, FetchResult
from monitor.feeds.identity import canonical_url, item_key
from monitor.feeds.parser import parse_feed
from monitor.match import Matcher
from monitor.match.rules import NotifyRoute
from monitor.render import (
    Alert,
    Digest,
    OtherSource,
    Templates,
    render,
    render_dead_letter,
    render_digest,
    templates_for,
)
from monitor.stories.clusterer import StoryClusterer, StoryDoc

MAX_CHANNEL_WORKERS = 16  # channels delivered at the same time


@dataclass
class Deps:
    config: Config
    store: Store
    fetcher: Fetcher
    matcher: Matcher
    channels: Mapping[str, Channel]
    clock: Clock
    log: structlog.stdlib.BoundLogger
    clusterer: StoryClusterer
    rng: random.Random = field(default_factory=random.Random)  # retry jitter; tests seed it
    # (channel, after) -> the channel's first digest time at or after `after`, or None (no schedule);
    # the daemon computes it with the scheduler's own cron trigger
    next_digest: Callable[[str, datetime], datetime | None] | None = None
    synced_item_id: int = 0  # items up to this id are in the clusterer's window index
    # this process, as recorded in its outbox claims (so a restart can tell they were cut short)
    owner: str = field(default_factory=lambda: instance.current().token)


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
class ReleaseSummary:
    released: int = 0  # held rows that went back to the queue as themselves
    digests: int = 0  # digest rows made
    folded: int = 0  # held rows folded into them


@dataclass
class DeliverySummary:
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    deferred: int = 0  # rows left for the next round behind a retryable failure of their channel
    operator_notices: int = 0
    channels_down: set[str] = field(default_factory=set)

    def merge(self, other: DeliverySummary) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.dead += other.dead
        self.deferred += other.deferred
        self.channels_down |= other.channels_down


# --- polling -------------------------------------------------------------------------------------


def run_cycle(deps: Deps, *, only_due: bool = True) -> bool:
    """Poll, release held alerts whose time has come, then deliver; each step guarded, so a crash while
    polling never holds back delivery of alerts already decided. Returns False when a step crashed
    (logged with its traceback)."""
    ok = True
    for name, step in (
        ("poll", lambda: poll_feeds(deps, only_due=only_due)),
        ("release", lambda: release_held(deps)),
        ("deliver", lambda: deliver_pending(deps)),
    ):
        try:
            step()
        except Exception:
            deps.log.exception("cycle.step_failed", step=name)
            ok = False
    return ok


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
        added, queued, deferred = _store_items(deps, feed.name, _new_items(deps, feed.name, parsed.items))
        summary.items_seen += len(parsed.items)
        summary.items_new += added
        summary.alerts_queued += queued
        title = parsed.title
        retry_in_full = deferred > 0  # so the next poll neither gets a 304 nor skips the same body
        log.info("feed.fetched", items=len(parsed.items), new=added, alerts_queued=queued, deferred=deferred)
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
        result = deps.matcher.match(title=item.title, summary=item.summary, content=item.content)
        new.append(
            NewItem(
                key=key,
                guid=item.guid,
                link=links[key],
                title=item.title,
                summary=item.summary,
                published_at=item.published_at,
                match=result.to_json() if result.topics or result.watches else None,
            )
        )
    return new


def sync_stories(deps: Deps) -> int:
    """Bring the in-memory story index up to date with the database: at start-up every item inside the
    window (so a restart clusters as before, up to IDF weights recomputed over the restored window), later
    the items other instances stored."""
    since = deps.clock.now() - deps.config.story_params.window
    rows = deps.store.window_items(since, after_id=deps.synced_item_id)
    for row in rows:
        deps.clusterer.restore(
            StoryDoc(str(row.item_id), row.title, row.summary, row.feed, row.link, row.published_at),
            story=str(row.story_id),
            copy_of=str(row.copy_of) if row.copy_of else None,
        )
        deps.synced_item_id = max(deps.synced_item_id, row.item_id)
    return len(rows)


def _store_items(deps: Deps, feed: str, items: list[NewItem]) -> tuple[int, int, int]:
    """Store each new item, in publication order, with its story and alert decisions in one transaction.
    Returns (items stored, outbox rows queued, items deferred to the next poll)."""
    sync_stories(deps)
    now = deps.clock.now()
    added = queued = deferred = 0
    for new in sorted(items, key=lambda n: n.published_at or now):
        try:
            with deps.store.item_unit(now) as unit:
                item_id = unit.add_item(feed, new)
                if item_id is None:
                    continue  # another instance stored it first: its story and alerts are theirs
                story = _join_story(deps, unit, feed, item_id, new)
                queued += _decide_alerts(deps, unit, story, item_id, new.match or {})
            added += 1
        except Exception as error:
            # Nothing of the item was stored, but the clusterer already indexed it: rebuild the index
            # from the database, which is the truth, so no later item joins a story that does not exist.
            deps.clusterer = StoryClusterer(deps.clusterer.params)
            deps.synced_item_id = 0
            sync_stories(deps)
            if not isinstance(error, ConcurrentUpdate):
                raise
            deferred += 1
            deps.log.warning("item.deferred", feed=feed, key=new.key, reason=str(error))
    return added, queued, deferred


def _join_story(deps: Deps, unit: ItemUnit, feed: str, item_id: int, new: NewItem) -> StoryView:
    doc = StoryDoc(str(item_id), new.title, new.summary, feed, new.link, new.published_at or unit.now)
    assignment = deps.clusterer.assign(doc)
    story = unit.join_story(
        item_id,
        int(assignment.story),
        outlet=feed,
        copy_of=int(assignment.copy_of) if assignment.copy_of else None,
        title=new.title,
        topics=(new.match or {}).get("topics", []),
    )
    if story.created:
        deps.log.info("story.created", story=story.id, feed=feed, title=new.title)
    else:
        deps.log.info(
            "story.updated",
            story=story.id,
            feed=feed,
            items=story.items,
            sources=story.sources,
            reprint=story.reprint,
            similarity=assignment.score,
        )
    return story


def _decide_alerts(deps: Deps, unit: ItemUnit, story: StoryView, item_id: int, match: dict[str, Any]) -> int:
    """Ask the policy about every watch this item matched or that already follows the story, then routing
    which of the watch's channels get the alert, and whether at once or held (same transaction)."""
    watches = {w.name: w for w in deps.config.rules.watches if w.enabled}
    hits = {hit["name"]: hit for hit in match.get("watches", []) if hit.get("name") in watches}
    states = unit.watch_states(story.id)
    queued = 0
    for name in dict.fromkeys([*hits, *states]):
        if name not in watches:
            continue
        hit = hits.get(name, {})
        decision = decide(
            states.get(name),
            level=hit.get("severity"),
            topics=hit.get("topics", []),
            sources=story.sources,
            policy=deps.config.alert_policy(name),
        )
        state = decision.state
        unit.save_state(name, story.id, state, alerted=decision.kind is not None)
        if decision.kind is not None:
            holds = _route(deps, unit, watches[name].routes, state.level, state.topics)
            queued += unit.queue(
                watch=name,
                story_id=story.id,
                item_id=item_id,
                channels=list(holds),
                seq=state.alerts - 1,
                kind=decision.kind,
                reasons=decision.reasons,
                holds=holds,
            )
            skipped = [r.channel for r in watches[name].routes if r.channel not in holds]
            held = {
                c: f"{d.reason}, until {d.release_at.isoformat() if d.release_at else 'the next digest'}"
                for c, d in holds.items()
                if d.hold
            }
            if skipped or held:
                deps.log.info("alert.routed", watch=name, story=story.id, filtered=skipped, held=held)
        if decision.kind is not None or hit:
            deps.log.info(
                "alert.decided",
                watch=name,
                story=story.id,
                decision=decision.kind or "none",
                reasons=decision.reasons,
                level=state.level,
                sources=story.sources,
            )
    return queued


def _route(
    deps: Deps, unit: ItemUnit, routes: Iterable[NotifyRoute], level: str | None, topics: Iterable[str]
) -> dict[str, Disposition]:
    """Each channel the alert passes the route filter of, and how it goes there (at once or held)."""
    now = unit.now
    out: dict[str, Disposition] = {}
    for entry in routes:
        channel = deps.config.channel_rules(entry.channel)
        route = route_for(channel, min_severity=entry.min_severity, topics=entry.topics, mode=entry.mode)
        if not admits(route, severity=level, topics=topics):
            continue
        recent = unit.recent_sends(channel.name, now - channel.rate.per) if channel.rate else []
        out[entry.channel] = dispose(route, channel, severity=level, now=now, recent=recent)
    return out


# --- held alerts and digests ---------------------------------------------------------------------


def release_held(deps: Deps) -> ReleaseSummary:
    """Put held rows whose time has come back in the queue: those whose quiet hours or rate window
    ended (one alone as itself, several as one digest), a digest the scheduler missed while nothing ran
    (daemon down, `run --once` from cron), and rows waiting for a digest schedule the config no longer
    has, or one that will never fire again (so they are not held forever). Each fold is one transaction."""
    summary = ReleaseSummary()
    now = deps.clock.now()
    for held in deps.store.held():
        if held.first_release_at is not None and held.first_release_at <= now:
            _fold(deps, held.channel, scheduled=False, summary=summary)
        oldest = held.oldest_for_digest_at
        if oldest is None:
            continue
        schedule = deps.config.channel_rules(held.channel).digest
        if schedule is None:
            _fold(deps, held.channel, scheduled=True, summary=summary)
            continue
        if deps.next_digest is None:
            continue  # no scheduler to ask: the digest job folds them
        # after the last scheduled digest too: a row decided before it but committed after it missed
        # nothing, it waits for the next one (rather than making a second digest at once)
        fire = deps.next_digest(held.channel, max(oldest, held.last_digest_at or oldest))
        if fire is None:
            deps.log.warning(
                "digest.never_fires", channel=held.channel, schedule=schedule.expression, action="sent now"
            )
            _fold(deps, held.channel, scheduled=True, summary=summary)
        elif digest_overdue(fire, now):
            _fold(deps, held.channel, scheduled=True, summary=summary)
    return summary


def fold_digest(deps: Deps, channel: str) -> ReleaseSummary:
    """The channel's scheduled digest: every held row of the channel folded into one digest row, which
    the deliverer then sends like any other (a digest with nothing in it is not sent)."""
    summary = ReleaseSummary()
    _fold(deps, channel, scheduled=True, summary=summary)
    return summary


def run_digest(deps: Deps, channel: str) -> bool:
    """The scheduler's digest job: fold, then deliver at once rather than at the next tick. Guarded like
    `run_cycle`: False when a step crashed (logged)."""
    try:
        fold_digest(deps, channel)
        deliver_pending(deps)
    except Exception:
        deps.log.exception("digest.failed", channel=channel)
        return False
    return True


def _fold(deps: Deps, channel: str, *, scheduled: bool, summary: ReleaseSummary) -> None:
    now = deps.clock.now()
    due = routing_send_at(deps.config.channel_rules(channel), now)
    fold = deps.store.fold(channel, now=now, send_at=due, scheduled=scheduled)
    if fold.released_id is not None:
        summary.released += 1
        deps.log.info("alert.released", channel=channel, delivery=fold.released_id, due_at=due.isoformat())
    elif fold.digest_id is not None:
        summary.digests += 1
        summary.folded += fold.rows
        deps.log.info(
            "digest.folded",
            channel=channel,
            delivery=fold.digest_id,
            alerts=fold.rows,
            scheduled=scheduled,
            due_at=due.isoformat(),
        )


def digest_of(deps: Deps, row: PendingDelivery) -> Digest:
    """The digest a digest row stands for: one alert per (watch, story) folded into it, as of its latest
    folded row, with the highest severity among them (the renderer groups and orders them)."""
    members = {m.id: m for m in deps.store.digest_members(row.id)}
    entries = [
        DigestEntry(m.id, m.watch, m.story_id, m.seq, _hit(m).get("severity")) for m in members.values()
    ]
    watches = {w.name: w for w in deps.config.rules.watches}
    alerts = []
    for story in digest_stories(entries):
        member = members[story.entry.id]
        watch = watches.get(member.watch)
        alert = build_alert(member, watch.label if watch else None, deps.store.story_sources(member.story_id))
        reasons = [r for i in story.ids for r in members[i].reasons]
        reasons = list(dict.fromkeys(reasons))
        alerts.append(replace(alert, severity=story.severity, update=not story.first, reasons=reasons))
    return Digest(row.channel, alerts, row.period_start_at, row.period_end_at)


def _hit(row: PendingDelivery) -> dict[str, Any]:
    return next((w for w in row.match.get("watches", []) if w.get("name") == row.watch), {})


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


# --- delivery ------------------------------------------------------------------------------------


def deliver_pending(deps: Deps) -> DeliverySummary:
    """Send the due outbox rows with one worker per channel, so that a failing or hanging channel delays
    no other; each channel's rows go in decision order. Then tell the operator about new dead letters."""
    queues: dict[str, list[PendingDelivery]] = {}
    for row in deps.store.pending_deliveries(deps.clock.now()):
        queues.setdefault(row.channel, []).append(row)
    summary = DeliverySummary()
    if queues:
        workers = min(len(queues), MAX_CHANNEL_WORKERS)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deliver") as pool:
            for result in pool.map(lambda queue: _deliver_channel(deps, *queue), queues.items()):
                summary.merge(result)
    summary.operator_notices = notify_operator(deps)
    if summary.sent or summary.retrying or summary.dead or summary.operator_notices:
        deps.log.info(
            "delivery.completed",
            sent=summary.sent,
            retrying=summary.retrying,
            dead=summary.dead,
            deferred=summary.deferred,
            operator_notices=summary.operator_notices,
        )
    return summary


def _deliver_channel(deps: Deps, name: str, rows: list[PendingDelivery]) -> DeliverySummary:
    """One channel's due rows in order; after a retryable failure the rest wait for the next round, so a
    later alert never overtakes an earlier one. Runs on a worker thread: the store opens a session per call."""
    summary = DeliverySummary()
    channel = deps.channels.get(name)
    watches = {w.name: w for w in deps.config.rules.watches}
    for index, row in enumerate(rows):
        log = deps.log.bind(delivery=row.id, channel=name, watch=row.watch)
        if channel is None:
            reason = f"channel '{name}' is no longer configured"
            deps.store.mark_dead(row.id, error=reason, now=deps.clock.now())
            summary.dead += 1
            log.warning("delivery.dead_lettered", reason=reason, attempts=row.attempts, why="no channel")
            continue
        claim = deps.store.claim(
            row.id,
            deps.clock.now(),
            deps.config.settings.delivery.claim_lease,
            owner=deps.owner,
            max_attempts=deps.config.retry_policy.max_attempts,
        )
        if claim is None:
            summary.deferred += len(rows) - index  # another instance is sending this channel's rows
            break
        if claim.exhausted:  # its sends were used up without a verdict: the process stopped during them
            reason = exhausted_reason(
                attempts=claim.attempts, interrupted=claim.interrupted, last_error=claim.last_error
            )
            deps.store.mark_dead(row.id, error=reason, now=deps.clock.now())
            summary.dead += 1
            log.warning("delivery.dead_lettered", reason=reason, attempts=claim.attempts, why="no sends left")
            continue
        if row.kind == "digest":
            digest = digest_of(deps, row)
            message = render_digest(digest, templates=channel_templates(deps, name), limit=channel.limits)
            message = replace(message, message_id=row.message_id)
        else:
            watch = watches.get(row.watch)
            alert = build_alert(row, watch.label if watch else None, deps.store.story_sources(row.story_id))
            message = render(alert, templates=channel_templates(deps, name), limit=channel.limits)
        if message.problem:
            log.warning("template.failed", problem=message.problem)
        outcome = channel.send(message)
        if outcome.ok:
            deps.store.mark_sent(row.id, deps.clock.now())
            summary.sent += 1
            log.info("delivery.sent", title=row.title, attempts=claim.attempts)
            continue
        if not _record_failed_send(deps, row, claim, outcome, log):
            summary.dead += 1
            continue
        summary.retrying += 1
        summary.deferred += len(rows) - index - 1
        summary.channels_down.add(name)
        break
    return summary


def _record_failed_send(
    deps: Deps,
    row: PendingDelivery,
    claim: Claim,
    outcome: DeliveryOutcome,
    log: structlog.stdlib.BoundLogger,
) -> bool:
    """Schedule the retry or dead-letter the row; True when it will be retried. The attempt was counted
    when the row was claimed."""
    now = deps.clock.now()
    attempts = claim.attempts
    reason = outcome.reason or "unknown"
    verdict = after_failure(
        attempts=attempts,
        interrupted=claim.interrupted,
        created_at=row.created_at or now,
        now=now,
        retryable=outcome.retryable,
        policy=deps.config.retry_policy,
        rng=deps.rng,
    )
    if verdict.retry_at is None:
        deps.store.mark_dead(row.id, error=reason, now=now)
        log.warning("delivery.dead_lettered", reason=reason, attempts=attempts, why=verdict.why)
        return False
    deps.store.mark_retry(row.id, error=reason, retry_at=verdict.retry_at)
    log.warning(
        "delivery.failed",
        reason=reason,
        attempts=attempts,
        retry_in_s=round((verdict.retry_at - now).total_seconds()),
    )
    return True


def notify_operator(deps: Deps) -> int:
    """One notice per dead-lettered row to the operator channel, if configured. Each notice is claimed
    in the database before it is sent, so it is attempted once even when the digest job and the tick (or
    two instances) overlap; a failing operator channel ends the round: no loop, no storm."""
    name = deps.config.settings.delivery.operator_channel
    channel = deps.channels.get(name) if name else None
    if channel is None:
        return 0
    told = 0
    for dead in deps.store.dead_unnotified():
        if not deps.store.mark_operator_notified(dead.id, deps.clock.now()):
            continue  # another round is telling the operator about this one
        notice = render_dead_letter(
            delivery_id=dead.id,
            watch=dead.watch,
            channel=dead.channel,
            headline=dead.title,
            reason=dead.reason,
            attempts=dead.attempts,
        )
        outcome = channel.send(notice)
        if not outcome.ok:
            deps.log.error("operator.notify_failed", delivery=dead.id, channel=name, reason=outcome.reason)
            break
        told += 1
        deps.log.info("operator.notified", delivery=dead.id, channel=name, dead_channel=dead.channel)
    return told


def channel_templates(deps: Deps, name: str) -> Templates:
    """The channel's templates: built-in ones with the config's overrides (re-read when a file changes)."""
    channel = deps.config.settings.channels.get(name)
    base = deps.config.path.resolve().parent
    return templates_for(channel.templates.paths(base) if channel and channel.templates else None)


def build_alert(row: PendingDelivery, watch_label: str | None, sources: Iterable[Source] = ()) -> Alert:
    match = row.match
    hit = _hit(row)
    topics: list[str] = hit.get("topics") or match.get("topics", [])
    others = [s for s in sources if s.link != row.link or s.title != row.title]
    first_id = message_id(row.story_id, row.watch, row.channel, 0)
    previous_id = message_id(row.story_id, row.watch, row.channel, row.seq - 1) if row.seq > 1 else None
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
        update=row.kind == "update",
        reasons=list(row.reasons),
        sources=[OtherSource(s.outlet, s.title, s.link, s.copy) for s in others],
        message_id=row.message_id,
        in_reply_to=first_id if row.seq > 0 else None,
        references=[i for i in (first_id, previous_id) if i] if row.seq > 0 else [],
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
