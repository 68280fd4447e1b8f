"""The backtest: items in publication order through the daemon's own store → story → alert-policy step
(`monitor.pipeline.store.store_items`) on a throw-away SQLite database, with the clock at each item's
publication time, so "what would this rule change have sent me last month?" has the daemon's answer.

Memory stays bounded by the story window: the clusterer forgets items older than the window and everything
else lives in the scratch database on disk, which is deleted at the end.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from monitor.config import Config
from monitor.core.clock import SetClock
from monitor.db.engine import make_engine, migrate
from monitor.db.store import Store
from monitor.feeds.fetcher import Fetcher
from monitor.feeds.text import html_to_text
from monitor.match import Matcher
from monitor.pipeline import Deps
from monitor.pipeline.poll import matched_item
from monitor.pipeline.store import Message, store_items
from monitor.runtime import logs as logging_setup
from monitor.stories.clusterer import StoryClusterer, doc_from_record

# the policy's name for a story's first message, as the public `replay` output calls it
KINDS = {"first": "alert"}


@dataclass
class ReplaySummary:
    """Counts for the summary line: items, stories, and messages per (watch, day) and per (watch, kind)."""

    items: int = 0
    stories: set[int] = field(default_factory=set)
    first_day: date | None = None
    last_day: date | None = None
    per_day: Counter[tuple[str, date]] = field(default_factory=Counter)
    per_kind: Counter[tuple[str, str]] = field(default_factory=Counter)
    held: Counter[str] = field(default_factory=Counter)  # per watch: matched items that sent nothing

    @property
    def days(self) -> int:
        """Calendar days the items span (UTC), both ends included: the denominator of messages per day."""
        if self.first_day is None or self.last_day is None:
            return 0
        return (self.last_day - self.first_day).days + 1


def with_all_watches(config: Config) -> Config:
    """The config with every watch switched on (to backtest a watch shipped disabled)."""
    rules = config.rules
    watches = [w.model_copy(update={"enabled": True}) for w in rules.watches]
    return replace(config, rules=rules.model_copy(update={"watches": watches}))


@contextmanager
def scratch_dependencies(config: Config, clock: SetClock) -> Iterator[Deps]:
    """The pipeline's dependencies on a new SQLite file in a temporary folder, without channels: replay
    decides messages, it never sends them."""
    log = logging_setup.get_logger("monitor")
    with tempfile.TemporaryDirectory(prefix="news-monitor-replay-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'replay.db'}", durable=False)
        fetcher = Fetcher(timeout=1.0, max_bytes=1, allow_private_networks=False)  # never used: no polling
        try:
            migrate(engine)
            yield Deps(
                config=config,
                store=Store(engine),
                fetcher=fetcher,
                matcher=Matcher.compile(config.rules),
                channels={},
                clock=clock,
                log=log,
                clusterer=StoryClusterer(config.story_params),
            )
        finally:
            fetcher.close()
            engine.dispose()


def message_json(message: Message, at: datetime) -> dict[str, Any]:
    return {
        "at": at.isoformat(),
        "watch": message.watch,
        "story": message.story,
        "kind": KINDS.get(message.kind, message.kind),
        "severity": message.level,
        "topics": list(message.topics),
        "item": message.item,
        "title": message.title,
        "reasons": list(message.reasons),
    }


def replay(
    config: Config,
    records: Iterable[Mapping[str, Any]],
    emit: Callable[[dict[str, Any]], None],
    progress: Callable[[ReplaySummary], None] | None = None,
    *,
    held: bool = False,
) -> ReplaySummary:
    """Run the records (`id, title, summary|description, content, link, published|date, outlet`) through
    the daemon's item step, in input order; `emit` gets each message as its JSON object (with `held`, also
    each item that matched a watch but sent nothing, as kind "held" with the policy's reason). The clock never
    goes back: an item older than the one before it, or undated, is stored at that one's time; undated items
    before the first dated one wait for it (or, when no item has a date, run at the wall-clock time)."""
    summary = ReplaySummary()
    clock = SetClock(datetime.now(UTC))
    started = False
    waiting: list[Mapping[str, Any]] = []  # leading undated records
    outlets: set[str] = set()
    with scratch_dependencies(config, clock) as deps:

        def run(record: Mapping[str, Any]) -> None:
            doc = doc_from_record(record)
            clock.at = max(clock.at, doc.published_at or clock.at)
            if doc.outlet not in outlets:
                deps.store.sync_feeds([(doc.outlet, doc.outlet)])
                outlets.add(doc.outlet)
            raw_link = record.get("link")
            new = matched_item(
                deps.matcher,
                key=doc.id,
                guid=doc.id,
                link=raw_link if isinstance(raw_link, str) else "",
                canonical_link=doc.link,
                title=doc.title,
                summary=doc.summary,
                content=html_to_text(record.get("content")),
                published_at=doc.published_at,
            )
            stored = store_items(deps, doc.outlet, [new])
            day = clock.at.date()
            summary.items += 1
            summary.first_day = summary.first_day or day
            summary.last_day = day
            for message in stored.messages:
                out = message_json(message, clock.at)
                if message.kind == "held":
                    summary.held[message.watch] += 1
                    if held:
                        emit(out)
                    continue
                summary.stories.add(message.story)
                summary.per_day[(message.watch, day)] += 1
                summary.per_kind[(message.watch, out["kind"])] += 1
                emit(out)
            if progress is not None:
                progress(summary)

        for record in records:
            if not started:
                published = doc_from_record(record).published_at
                if published is None:
                    waiting.append(record)
                    continue
                started, clock.at = True, published
                for early in waiting:
                    run(early)
                waiting.clear()
            run(record)
        for early in waiting:  # no record had a date
            run(early)
    return summary
