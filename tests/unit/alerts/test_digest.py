"""monitor.alerts.digest: a digest's rows folded to one entry per (watch, story) in decision order, and
when a scheduled digest is overdue."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.alerts.digest import DigestEntry, digest_overdue, digest_stories


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_a_digest_missed_while_nothing_ran_is_overdue() -> None:
    """Overdue when the first fire time after the oldest waiting row has passed; not before; never without one."""
    now = utc(2026, 1, 16, 9, 0)
    assert digest_overdue(utc(2026, 1, 16, 8, 0), now)
    assert not digest_overdue(utc(2026, 1, 17, 8, 0), now)
    assert not digest_overdue(None, now)


def test_digest_stories_fold_a_first_alert_and_its_updates_into_one_story() -> None:
    """Rows about the same (watch, story) become one entry: the latest row, the highest severity, and
    `first` when the channel never heard of the story before; different watches stay apart."""
    entries = [
        DigestEntry(1, "karabakh", 10, 0, "medium"),
        DigestEntry(2, "sahel", 20, 3, "low"),
        DigestEntry(3, "karabakh", 10, 1, "critical"),
        DigestEntry(4, "karabakh", 10, 2, "high"),
        DigestEntry(5, "sahel", 10, 0, "high"),
    ]
    stories = digest_stories(entries)
    assert [(s.entry.id, s.severity, s.first, s.ids) for s in stories] == [
        (4, "critical", True, (1, 3, 4)),
        (2, "low", False, (2,)),
        (5, "high", True, (5,)),
    ]


def test_digest_stories_rank_an_unknown_severity_below_low() -> None:
    """A story's rows with a known severity decide it over rows without one (ranked below low, in the one
    severity order of monitor.match.rules); with none known it shows as medium, like a single alert."""
    entries = [
        DigestEntry(1, "w", 10, 0, "low"),
        DigestEntry(2, "w", 10, 1, None),
        DigestEntry(3, "w", 20, 1, None),
    ]
    assert [(s.ids, s.severity) for s in digest_stories(entries)] == [((1, 2), "low"), ((3,), "medium")]
