"""What every pipeline step works with: the config, the store, the fetcher, the matcher, the channels, the
clock and the story index, built once per run (or reload) by the runtime."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from monitor.config import Config
from monitor.core import instance
from monitor.core.clock import Clock
from monitor.db.store import Store
from monitor.delivery.channel import Channel
from monitor.feeds.fetcher import Fetcher
from monitor.match import Matcher
from monitor.stories.clusterer import StoryClusterer


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
