"""The only place that sequences steps, each a thin module:

    poll      fetch due feeds → parse → skip seen items → match          (then `store`)
    store     per item, one transaction: item + story + alert decisions + routed outbox rows
    release   held alerts back into the queue (quiet hours / rate window over, digests due)
    deliver   due outbox rows to their channels, retries and dead letters, operator notices
    messages  the alert or digest a delivery row stands for
    cycle     the scheduler's jobs: poll, release, deliver; a channel's digest
    deps      what every step works with

Every step that crosses a crash boundary goes through the database, so a restart (or `run --once` from
cron) neither loses nor repeats an alert, and one bad feed or channel never stops the others.
"""

from monitor.pipeline.cycle import run_cycle, run_digest
from monitor.pipeline.deps import Deps

__all__ = ["Deps", "run_cycle", "run_digest"]
