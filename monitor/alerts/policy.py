"""Alert decisions per (watch, story): one alert when the story first matters, then an update only when it
really changes. Pure: the pipeline loads the state, asks `decide`, and stores the answer together with the
outbox rows in one transaction.

First alert
    When a matching item has been seen and the story has at least `min_sources` independent sources (for
    users who want corroboration before being woken; 1 by default). Sources that join later count even if
    their own item does not match the watch: it is the story that is corroborated.
    With `events_only` (the default), an item that is commentary rather than an event report (analysis,
    opinion, a feature, a live page... : `monitor.match.genre`) does not open the first alert on its own:
    the decision waits, and the first alert comes with the story's first event report, whether or not that
    report matches the watch itself. Commentary still joins the story, counts as a source and goes to
    digest routes (`Decision.digest_only`); it only never wakes anyone first.
Update (only after a first alert)
    - `severity`: the highest severity seen rises above the one last alerted (e.g. high → critical);
    - `topic`: a topic joins that was not alerted yet (a ceasefire story turns into an escalation);
    - `update_at_sources`: the number of independent sources reaches this threshold (once).
    Nothing else: more reprints, the same facts retold, an edited item, a restart.
Turning point (`phases`, on by default)
    A reported phase that is a turn (`monitor.alerts.phases`: a ceasefire agreed, in effect, collapsed;
    an offensive) alerts at once, even inside a story already alerted or one whose first alert waits for
    sources; the pipeline asks `monitor.alerts.phases.turns` and records it with `phase_alerted`. An item
    too old for `max_age`, or commentary under `events_only`, opens no turn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from monitor.core.severity import CRITICAL, level_rank

__all__ = ["AlertPolicy", "Busy", "Decision", "WatchState", "decide", "needs_recent_count", "phase_alerted"]


@dataclass(frozen=True)
class Busy:
    """A watch that has sent `after` first alerts within `per` is in a busy stretch (a war's daily grind):
    a new story's first alert then waits until `min_sources` independent sources carry it, unless it is
    critical. Turning points (phases) and updates are not affected."""

    after: int = 5
    per: timedelta = timedelta(hours=24)
    min_sources: int = 2


@dataclass(frozen=True)
class AlertPolicy:
    """When a watch alerts about a story (`alerts.defaults` or `alerts.watches.NAME` in the main config)."""

    min_sources: int = 1  # independent sources a story needs before its first alert
    update_on: frozenset[str] = frozenset({"severity", "topic"})  # the changes that send an update
    update_at_sources: int | None = None  # one update when the story reaches this many sources
    max_age: timedelta = timedelta(hours=24)  # an item published longer ago than this when seen never alerts
    events_only: bool = True  # commentary (an item with a genre) never opens a story's first alert
    busy: Busy | None = field(default_factory=lambda: Busy())  # a watch in a busy stretch waits for sources
    phases: bool = True  # a turning point (`monitor.alerts.phases`) alerts at once, even inside a story


def _max_level(a: str | None, b: str | None) -> str | None:
    return a if level_rank(a) >= level_rank(b) else b


@dataclass(frozen=True)
class WatchState:
    """What a watch has seen of a story (`level`, `topics`) and told people (`alerted_*`)."""

    level: str | None = None
    topics: tuple[str, ...] = ()
    alerted_level: str | None = None
    alerted_topics: tuple[str, ...] = ()
    alerted_sources: int = 0
    alerts: int = 0

    @property
    def alerted(self) -> bool:
        return self.alerts > 0


@dataclass(frozen=True)
class Decision:
    """The answer for one (watch, story): whether to alert (`kind`), why, and the state to store."""

    kind: str | None  # "first", "update" or None
    reasons: list[str] = field(default_factory=list)
    state: WatchState = WatchState()
    digest_only: bool = False  # commentary waiting for an event report: it goes to digest routes only


def decide(
    state: WatchState | None,
    *,
    level: str | None,
    topics: Iterable[str],
    sources: int,
    policy: AlertPolicy,
    commentary: str | None = None,
    recent_first_alerts: int = 0,
) -> Decision:
    """The decision for one (watch, story) after an item joined the story. `level`/`topics` are the
    watch's hit on that item (None/empty when the item did not match the watch); `sources` is the story's
    independent source count including the item; `commentary` is the item's genre kind when it is not an
    event report (e.g. "analysis"), else None; `recent_first_alerts` how many first alerts the watch sent
    within `policy.busy.per` (only asked for when it can matter, see `needs_recent_count`)."""
    state = state or WatchState()
    seen_topics = tuple(dict.fromkeys([*state.topics, *topics]))
    seen = replace(state, level=_max_level(state.level, level), topics=seen_topics)
    if seen.level is None and not seen.topics:
        return Decision(kind=None, state=seen)  # the watch never matched this story
    if not seen.alerted:
        if sources < policy.min_sources:
            return Decision(kind=None, reasons=[f"waiting for {policy.min_sources} sources"], state=seen)
        if commentary and policy.events_only:
            reasons = [f"commentary ({commentary}): waits for an event report"]
            return Decision(kind=None, reasons=reasons, state=seen, digest_only=True)
        busy = policy.busy
        if (
            busy
            and recent_first_alerts >= busy.after
            and sources < busy.min_sources
            and seen.level != CRITICAL
        ):
            hours = busy.per.total_seconds() / 3600
            reasons = [
                f"busy watch ({recent_first_alerts} first alerts in {hours:g} h): waiting for "
                f"{busy.min_sources} independent sources"
            ]
            return Decision(kind=None, reasons=reasons, state=seen)
        reasons = [f"story matched with severity {seen.level or 'unknown'}"]
        if busy and recent_first_alerts >= busy.after:
            reasons.append(f"busy watch, corroborated by {sources} independent sources")
        elif policy.min_sources > 1:
            reasons.append(f"corroborated by {sources} independent sources")
        return Decision(kind="first", reasons=reasons, state=_alerted(seen, sources))
    reasons = []
    if "severity" in policy.update_on and level_rank(seen.level) > level_rank(seen.alerted_level):
        reasons.append(f"severity rose from {seen.alerted_level or 'none'} to {seen.level}")
    new_topics = [t for t in seen.topics if t not in seen.alerted_topics]
    if "topic" in policy.update_on and new_topics:
        reasons.append(f"new topic: {', '.join(new_topics)}")
    threshold = policy.update_at_sources
    if threshold and seen.alerted_sources < threshold <= sources:
        reasons.append(f"now reported by {sources} independent sources")
    if not reasons:
        return Decision(kind=None, state=seen)
    return Decision(kind="update", reasons=reasons, state=_alerted(seen, sources))


def _alerted(state: WatchState, sources: int) -> WatchState:
    return replace(
        state,
        alerted_level=state.level,
        alerted_topics=state.topics,
        # the count can fall (a late wire report turns an independent outlet into its reprint); the
        # threshold update must still fire only once
        alerted_sources=max(state.alerted_sources, sources),
        alerts=state.alerts + 1,
    )


def phase_alerted(state: WatchState, sources: int) -> WatchState:
    """The state after a turning point was announced for this story: it counts as the story's first alert
    when none went out yet (the story's later reports then send only updates)."""
    return _alerted(state, sources)


def needs_recent_count(state: WatchState | None, policy: AlertPolicy, sources: int) -> bool:
    """Whether the busy rule could hold this story's first alert, i.e. whether `decide` needs the watch's
    recent first-alert count (a database query the pipeline skips otherwise)."""
    busy = policy.busy
    return busy is not None and not (state and state.alerted) and sources < busy.min_sources
