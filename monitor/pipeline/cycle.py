"""The two jobs the scheduler runs: a cycle (poll, release, deliver) and a channel's digest. Each step is
guarded, so a crash in one never holds back the others."""

from __future__ import annotations

from monitor.pipeline.deliver import deliver_pending
from monitor.pipeline.deps import Deps
from monitor.pipeline.poll import poll_feeds
from monitor.pipeline.release import fold_digest, release_held


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
