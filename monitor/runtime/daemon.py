"""Runs the pipeline on APScheduler until SIGTERM/SIGINT (SIGHUP reloads the config).

The only importer of APScheduler. Per-feed due times live in the database, so the scheduler only needs
one short periodic tick that asks the pipeline to poll whatever is due and deliver whatever is pending,
plus one cron job per channel with a digest schedule, in the channel's time zone. The same schedules
tell the pipeline when a digest was due, so one missed while nothing ran goes out at the next tick.
"""

from __future__ import annotations

import logging
import signal
import time
from datetime import UTC, datetime

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.background import BackgroundScheduler

from monitor.config import Config
from monitor.core.errors import ConfigError
from monitor.pipeline import Deps, run_cycle, run_digest
from monitor.runtime import configuration
from monitor.runtime import logs as logging_setup
from monitor.runtime.digests import ScheduleTrigger, digest_schedules
from monitor.runtime.systemd import sd_notify
from monitor.runtime.wiring import dependencies

SIGNAL_POLL_SECONDS = 0.2


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
            scheduler = start_scheduler(deps)
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


def start_scheduler(deps: Deps, *, paused: bool = False) -> BackgroundScheduler:
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
