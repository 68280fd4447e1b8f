"""The concrete dependencies of the pipeline, built from the config: database (migrated), fetcher, matcher,
channels (their secrets registered with the log redactor), story index and digest schedules."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from monitor.config import Config
from monitor.core import instance
from monitor.core.clock import Clock, SystemClock
from monitor.db.engine import make_engine, migrate
from monitor.db.store import Store
from monitor.delivery import hooks as apprise_hooks
from monitor.delivery.channel import Channel
from monitor.delivery.secrets import secret_parts
from monitor.feeds.fetcher import Fetcher
from monitor.match import Matcher
from monitor.pipeline import Deps
from monitor.runtime import logs as logging_setup
from monitor.runtime.digests import digest_schedules, next_digest
from monitor.stories.clusterer import StoryClusterer


@contextmanager
def dependencies(config: Config, clock: Clock | None = None) -> Iterator[Deps]:
    """Everything the pipeline needs, migrated and ready; closed again on exit. Outbox rows a crashed
    predecessor on this host was sending are released first, so its channels do not wait for the lease."""
    log = logging_setup.get_logger("monitor")
    apprise_hooks.install()
    channels = {}
    for name, spec in config.settings.channels.items():
        url = spec.url.get_secret_value()
        logging_setup.register_secrets({url, *secret_parts(url)})
        channels[name] = Channel(name, url)
    engine = make_engine(config.database_url)
    migrate(engine)
    store = Store(engine)
    store.sync_feeds((f.name, f.url) for f in config.settings.feeds)
    clock = clock or SystemClock()
    me = instance.current()
    recovered = store.recover_claims(clock.now(), lambda owner: instance.is_gone(owner, me))
    if recovered:
        log.warning("delivery.claim_recovered", count=recovered, why="their process stopped during the send")
    poll = config.settings.poll
    fetcher = Fetcher(
        timeout=poll.timeout.total_seconds(),
        max_bytes=poll.max_bytes,
        allow_private_networks=poll.allow_private_networks,
    )
    try:
        yield Deps(
            config=config,
            store=store,
            fetcher=fetcher,
            matcher=Matcher.compile(config.rules),
            channels=channels,
            clock=clock,
            log=log,
            clusterer=StoryClusterer(config.story_params),
            next_digest=next_digest(digest_schedules(config)),
            owner=me.token,
        )
    finally:
        fetcher.close()
        engine.dispose()
