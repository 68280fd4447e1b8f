"""What goes into a channel's digest and whether one is overdue: held rows folded to one entry per
(watch, story), and the check for a scheduled digest missed while nothing ran.

Pure: the pipeline reads the rows and the next fire time and passes them in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.core.severity import SEVERITY_ORDER, level_rank

__all__ = ["COMMENTARY_SEQ", "DigestEntry", "DigestStory", "digest_overdue", "digest_stories"]

# The outbox seq of a commentary row (events_only: analysis, opinion... that opened no alert goes to
# digest routes only): below the story's first alert (0), so both can be held for one digest.
COMMENTARY_SEQ = -1


@dataclass(frozen=True)
class DigestEntry:
    """One folded outbox row, as far as ordering a digest needs it."""

    id: int
    watch: str
    story_id: int
    seq: int
    severity: str | None


@dataclass(frozen=True)
class DigestStory:
    """One story of one watch in a digest: its latest row, the highest severity of its rows, and
    whether the channel is hearing of the story for the first time (its first alert was folded too)."""

    entry: DigestEntry
    severity: str
    first: bool
    ids: tuple[int, ...]


def digest_stories(entries: Sequence[DigestEntry]) -> list[DigestStory]:
    """One entry per (watch, story), in decision order: a first alert and its updates folded into the
    same digest are one story there. (The renderer groups them by watch, most severe first.)"""
    stories: dict[tuple[str, int], list[DigestEntry]] = {}
    for entry in sorted(entries, key=lambda e: e.id):
        stories.setdefault((entry.watch, entry.story_id), []).append(entry)
    out = []
    for rows in stories.values():
        top = max(rows, key=lambda e: level_rank(e.severity))  # a known severity beats an unknown one
        out.append(
            DigestStory(
                entry=max(rows, key=lambda e: (e.seq, e.id)),
                # none known (updates for more sources carry no hit): shown as medium, like a single alert
                severity=top.severity if top.severity in SEVERITY_ORDER else "medium",  # type: ignore[misc]
                first=any(e.seq <= 0 for e in rows),
                ids=tuple(e.id for e in rows),
            )
        )
    return out


def digest_overdue(next_fire_at: datetime | None, now: datetime) -> bool:
    """A scheduled digest missed while nothing ran (daemon down, `run --once` from cron): the first fire
    time after the oldest row waiting for it (the schedule's `next_after`) has already passed."""
    return next_fire_at is not None and next_fire_at <= now
