"""New items into the database, one transaction each: the item, its story, the watches' alert decisions and
the outbox rows they route, so a crash anywhere loses no alert and repeats none."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from monitor.alerts.digest import COMMENTARY_SEQ
from monitor.alerts.phases import PhaseTable, Turn, turns
from monitor.alerts.policy import AlertPolicy, Decision, decide, needs_recent_count, phase_alerted
from monitor.alerts.routing import DIGEST, ChannelRules, Disposition, Route, admits, dispose, route_for
from monitor.core.errors import ConcurrentUpdate
from monitor.db.records import NewItem, StoryView
from monitor.db.unit import ItemUnit
from monitor.match import WatchHit
from monitor.match.rules import NotifyRoute
from monitor.pipeline.deps import Deps
from monitor.stories.clusterer import StoryClusterer, StoryDoc


def sync_stories(deps: Deps) -> int:
    """Bring the in-memory story index up to date with the database: at start-up every item inside the
    window (so a restart clusters as before, up to IDF weights recomputed over the restored window and the
    core of a story whose first reports have left it), later the items other instances stored."""
    since = deps.clock.now() - deps.config.story_params.window
    rows = deps.store.window_items(since, after_id=deps.synced_item_id)
    for row in rows:
        deps.clusterer.restore(
            StoryDoc(str(row.item_id), row.title, row.summary, row.feed, row.link, row.published_at),
            story=str(row.story_id),
            copy_of=str(row.copy_of) if row.copy_of else None,
            started=row.story_started,
        )
        deps.synced_item_id = max(deps.synced_item_id, row.item_id)
    return len(rows)


@dataclass(frozen=True)
class Message:
    """A message an alert decision queued, before channel routing (what `news-monitor replay` prints)."""

    watch: str
    story: int
    item: str  # the item's key in its feed
    title: str
    # "first", "update", "phase" (a turning point inside a story, or opening one whose first alert waited),
    # or "held": the item matched the watch, the policy sent nothing (why: reasons)
    kind: str
    level: str | None
    topics: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass
class Stored:
    """What `store_items` did: items stored, outbox rows queued, items deferred to the next poll, and the
    messages decided (committed ones only)."""

    added: int = 0
    queued: int = 0
    deferred: int = 0
    messages: list[Message] = field(default_factory=list)


def store_items(deps: Deps, feed: str, items: list[NewItem]) -> Stored:
    """Store each new item, in publication order, with its story and alert decisions in one transaction."""
    sync_stories(deps)
    now = deps.clock.now()
    out = Stored()
    for new in sorted(items, key=lambda n: n.published_at or now):
        messages: list[Message] = []
        try:
            with deps.store.item_unit(now) as unit:
                item_id = unit.add_item(feed, new)
                if item_id is None:
                    continue  # another instance stored it first: its story and alerts are theirs
                story = _join_story(deps, unit, feed, item_id, new)
                out.queued += _decide_alerts(deps, unit, story, item_id, new, messages)
            out.added += 1
            out.messages += messages
        except Exception as error:
            # Nothing of the item was stored, but the clusterer already indexed it: rebuild the index
            # from the database, which is the truth, so no later item joins a story that does not exist.
            deps.clusterer = StoryClusterer(deps.clusterer.params)
            deps.synced_item_id = 0
            sync_stories(deps)
            if not isinstance(error, ConcurrentUpdate):
                raise
            out.deferred += 1
            deps.log.warning("item.deferred", feed=feed, key=new.key, reason=str(error))
    return out


def _join_story(deps: Deps, unit: ItemUnit, feed: str, item_id: int, new: NewItem) -> StoryView:
    doc = StoryDoc(str(item_id), new.title, new.summary, feed, new.link, new.published_at or unit.now)
    assignment = deps.clusterer.assign(doc)
    story = unit.join_story(
        item_id,
        int(assignment.story),
        outlet=feed,
        copy_of=int(assignment.copy_of) if assignment.copy_of else None,
        title=new.title,
        topics=new.match.topics if new.match else [],
        event_report=new.commentary is None,
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


def _decide_alerts(
    deps: Deps, unit: ItemUnit, story: StoryView, item_id: int, new: NewItem, messages: list[Message]
) -> int:
    """Ask the policy about every watch this item matched or that already follows the story, then routing
    which of the watch's channels get the alert, and whether at once or held (same transaction)."""
    match = new.match
    watches = {w.name: w for w in deps.config.rules.watches if w.enabled}
    hits = {hit.name: hit for hit in (match.watches if match else []) if hit.name in watches}
    states = unit.watch_states(story.id)
    table = deps.config.phase_table
    age = unit.now - new.published_at if new.published_at else None
    queued = 0
    for name in dict.fromkeys([*hits, *states]):
        if name not in watches:
            continue
        hit = hits.get(name)
        policy = deps.config.alert_policy(name)
        stale: tuple[str, ...] = ()
        if hit is not None and age is not None and age > policy.max_age:
            # a backlog item: it joined the story (and counts as a source) but alerts nobody
            stale = (f"published {age.total_seconds() / 3600:.0f} h before it was seen: older than max_age",)
            deps.log.info("alert.skipped", watch=name, story=story.id, reason=stale[0])
            hit = None
        recent = 0
        if hit is not None and needs_recent_count(states.get(name), policy, story.sources):
            assert policy.busy is not None
            recent = unit.recent_first_alerts(name, unit.now - policy.busy.per)
        decision = decide(
            states.get(name),
            level=hit.severity if hit else None,
            topics=hit.topics if hit else [],
            sources=story.sources,
            policy=policy,
            # commentary waits only while its story has no event report (matching the watch or not)
            commentary=new.commentary if story.event_reports == 0 else None,
            recent_first_alerts=recent,
        )
        state, kind, reasons = decision.state, decision.kind, list(decision.reasons)
        found = _turns(unit, name, hit.topics if hit else (), new, story.id, policy, table)
        label = None
        if found:
            label = found[0].label
            reasons += [t.reason for t in found]
            if kind is None:
                kind, state = "phase", phase_alerted(state, story.sources)
            elif kind == "update":
                kind = "phase"  # the turn is the news; the update's reasons ride along
            deps.log.info("phase.turned", watch=name, story=story.id, turns=[t.reason for t in found])
        unit.save_state(name, story.id, state, alerted=kind is not None)
        if kind is None and decision.digest_only and hit is not None:
            queued += _queue_for_digests(deps, unit, watches[name].routes, name, story.id, item_id, decision)
        if kind is None and (hit is not None or stale):
            why = stale or tuple(decision.reasons) or ("no change worth an update",)
            messages.append(
                Message(name, story.id, new.key, new.title, "held", state.level, state.topics, why)
            )
        if kind is not None:
            shown_id, key, title = _shown(unit, story.id, name, (item_id, new.key, new.title), new, hit, kind)
            messages.append(
                Message(name, story.id, key, title, kind, state.level, state.topics, tuple(reasons))
            )
            holds = _route(deps, unit, watches[name].routes, state.level, state.topics)
            queued += unit.queue(
                watch=name,
                story_id=story.id,
                item_id=shown_id,
                channels=list(holds),
                seq=state.alerts - 1,
                kind=kind,
                reasons=reasons,
                holds=holds,
                phase=label,
            )
            skipped = [r.channel for r in watches[name].routes if r.channel not in holds]
            held = {
                c: f"{d.reason}, until {d.release_at.isoformat() if d.release_at else 'the next digest'}"
                for c, d in holds.items()
                if d.hold
            }
            if skipped or held:
                deps.log.info("alert.routed", watch=name, story=story.id, filtered=skipped, held=held)
        if kind is not None or hit is not None:
            deps.log.info(
                "alert.decided",
                watch=name,
                story=story.id,
                decision=kind or "none",
                reasons=reasons,
                level=state.level,
                sources=story.sources,
            )
    return queued


def _turns(
    unit: ItemUnit,
    watch: str,
    topics: Iterable[str],
    new: NewItem,
    story_id: int,
    policy: AlertPolicy,
    table: PhaseTable,
) -> list[Turn]:
    """The turning points this item makes for `watch` (the phases it reports of the topics the watch
    matched: none when the item did not match, was too old, or is commentary under `events_only`), in the
    rule pack's topic order (the first names the message: a truce collapsing says more than the fighting
    that goes with it); the watch's phase states are updated in the unit."""
    match = new.match
    if not policy.phases or match is None or not match.phases or not table.topics:
        return []
    topics = set(topics)
    reported = {t: p for t, p in match.phases.items() if t in topics}
    if not reported or (new.commentary is not None and policy.events_only):
        return []
    current = unit.phases(watch)
    found, changed = turns(table, current, reported, now=unit.now, story=story_id, item=new.key)
    if changed:
        unit.save_phases(watch, changed)
    order = {name: index for index, name in enumerate(table.topics)}
    return sorted(found, key=lambda t: order.get(t.topic, len(order)))


def _shown(
    unit: ItemUnit,
    story_id: int,
    watch: str,
    this: tuple[int, str, str],
    new: NewItem,
    hit: WatchHit | None,
    kind: str,
) -> tuple[int, str, str]:
    """The (id, key, title) an alert shows: this item when it matched and is an event report, or brings an
    update or turn; for a first alert otherwise the story's latest event report that matched the watch,
    else this item when it matched (commentary) or is an event report (the one a commentary-matched story
    waited for), else the latest item that matched."""
    if hit is not None and (new.commentary is None or kind != "first"):
        return this
    shown = unit.watch_item(story_id, watch, events=True)
    if shown is None and (hit is not None or new.commentary is None):
        shown = this
    return shown or unit.watch_item(story_id, watch) or this


def _queue_for_digests(
    deps: Deps,
    unit: ItemUnit,
    routes: Iterable[NotifyRoute],
    watch: str,
    story_id: int,
    item_id: int,
    decision: Decision,
) -> int:
    """Commentary that opened no alert still reaches the watch's digest routes: one held row per story
    (before any alert's), for the next digest. Immediate routes never see it."""
    state = decision.state
    fresh = [
        entry.channel
        for entry, _channel, route in _admitted(deps, routes, state.level, state.topics)
        if route.mode == DIGEST and not unit.has_delivery(watch, story_id, entry.channel, seq=COMMENTARY_SEQ)
    ]
    if not fresh:
        return 0
    return unit.queue(
        watch=watch,
        story_id=story_id,
        item_id=item_id,
        channels=fresh,
        seq=COMMENTARY_SEQ,
        kind="commentary",
        reasons=decision.reasons,
        holds={c: Disposition(hold=True, reason="digest") for c in fresh},
    )


def _admitted(
    deps: Deps, routes: Iterable[NotifyRoute], level: str | None, topics: Iterable[str]
) -> Iterator[tuple[NotifyRoute, ChannelRules, Route]]:
    """The watch's routes whose filters (minimum severity, topics) the alert passes."""
    for entry in routes:
        channel = deps.config.channel_rules(entry.channel)
        route = route_for(channel, min_severity=entry.min_severity, topics=entry.topics, mode=entry.mode)
        if admits(route, severity=level, topics=topics):
            yield entry, channel, route


def _route(
    deps: Deps, unit: ItemUnit, routes: Iterable[NotifyRoute], level: str | None, topics: Iterable[str]
) -> dict[str, Disposition]:
    """Each channel the alert passes the route filter of, and how it goes there (at once or held)."""
    now = unit.now
    out: dict[str, Disposition] = {}
    for entry, channel, route in _admitted(deps, routes, level, topics):
        recent = unit.recent_sends(channel.name, now - channel.rate.per) if channel.rate else []
        out[entry.channel] = dispose(route, channel, severity=level, now=now, recent=recent)
    return out
