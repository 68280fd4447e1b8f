"""Builds the concrete dependencies and runs the pipeline on APScheduler until SIGTERM/SIGINT (SIGHUP
reloads the config).

The only importer of APScheduler. Per-feed due times live in the database, so the scheduler only needs
one short periodic tick that asks the pipeline to poll whatever is due and deliver whatever is pending,
plus one cron job per channel with a digest schedule, in the channel's time zone. The same schedules
tell the pipeline when a digest was due, so one missed while nothing ran goes out at the next tick.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.background import BackgroundScheduler

from monitor.config import Config
from monitor.core import instance
from monitor.core.clock import Clock, SystemClock
from monitor.core.errors import ConfigError
from monitor.db.engine import make_engine, migrate
from monitor.db.store import Store
from monitor.delivery import hooks as apprise_hooks
from monitor.delivery.channel import Channel
from monitor.delivery.secrets import secret_parts
from monitor.feeds.fetcher import Fetcher
from monitor.match import Matcher
from monitor.pipeline import Deps, run_cycle, run_digest
from monitor.runtime import configuration
from monitor.runtime import logs as logging_setup
from monitor.runtime.digests import ScheduleTrigger, digest_schedules, next_digest
from monitor.stories.clusterer import StoryClusterer

SIGNAL_POLL_SECONDS = 0.2


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


def run_once(config: Config) -> int:
    """Poll every feed once and deliver; exit 1 only when a step crashed (cron mails the output)."""
    with dependencies(config) as deps:
        return 0 if run_cycle(deps, only_due=False) else 1


def run_forever(config: Config) -> int:
    """Run until SIGTERM/SIGINT. SIGHUP re-reads the config: a valid one replaces the running one, an
    invalid one is logged with every problem and the daemon carries on with the old one."""
    log = logging_setup.get_logger()
    received: list[signal.Signals] = []

    def on_signal(signum: int, _frame: object) -> None:
        # Only append: a handler that takes a lock (Event.set, logging) can deadlock against the very
        # code it interrupted on this thread. The main loop below notices within a fraction of a second.
        received.append(signal.Signals(signum))

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    while True:
        with dependencies(config) as deps:
            scheduler = _start_scheduler(deps)
            log.info(
                "daemon.started",
                feeds=len(config.settings.feeds),
                channels=len(deps.channels),
                watches=len(config.rules.watches),
                database=config.database_url.split("@")[-1],
            )
            sd_notify("READY=1")
            while not received:
                time.sleep(SIGNAL_POLL_SECONDS)
            signals: set[str] = set()
            while received:  # pop rather than clear: a signal arriving meanwhile is kept for the next round
                signals.add(received.pop(0).name)
            stop = bool(signals & {"SIGTERM", "SIGINT"})
            log.info("daemon.signalled", signals=sorted(signals))
            sd_notify("STOPPING=1" if stop else "RELOADING=1")
            scheduler.shutdown(wait=True)
        if stop:
            log.info("daemon.stopped")
            return 0
        config = _reloaded(config, log)


def _start_scheduler(deps: Deps, *, paused: bool = False) -> BackgroundScheduler:
    def tick() -> None:
        if run_cycle(deps):
            sd_notify("WATCHDOG=1")  # only real progress keeps systemd's watchdog quiet

    scheduler = BackgroundScheduler(timezone=UTC)
    # A tick skipped because the previous one still runs (a feed near its timeout) is normal: one debug
    # line instead of APScheduler's warning each time; its errors still show.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    scheduler.add_listener(lambda event: _skipped(deps, event), EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
    for channel, schedule in digest_schedules(deps.config).items():
        scheduler.add_job(
            run_digest,
            ScheduleTrigger(schedule),
            args=[deps, channel],
            id=f"digest:{channel}",
            name=f"digest for {channel}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,  # late is better than never; the tick catches up a missed one too
        )
    scheduler.add_job(
        tick,
        "interval",
        seconds=deps.config.settings.poll.tick.total_seconds(),
        id="tick",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start(paused=paused)
    return scheduler


def _skipped(deps: Deps, event: JobEvent) -> None:
    why = "the previous run is still going" if event.code == EVENT_JOB_MAX_INSTANCES else "ran late"
    deps.log.debug("tick.skipped", job=event.job_id, why=why)


def _reloaded(config: Config, log: structlog.stdlib.BoundLogger) -> Config:
    try:
        fresh = configuration.load(config.path)
    except ConfigError as error:
        log.error("config.reload_failed", path=str(config.path), problems=error.problems)
        return config
    log.info("config.reloaded", path=str(config.path))
    return fresh


def sd_notify(state: str) -> None:
    """Tell systemd about readiness and liveness when it is listening (Type=notify); else a no-op."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(address)
            sock.sendall(state.encode())
        except OSError:
            pass
