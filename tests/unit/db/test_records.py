"""`news-monitor outbox` notes for rows whose send is in progress or was cut short by a stopped process."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.cli import _outbox_note
from monitor.db.store import OutboxEntry

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def entry(**fields: object) -> OutboxEntry:
    base: dict[str, object] = {
        "id": 7, "created_at": NOW, "channel": "hook", "watch": "w", "kind": "first", "status": "pending",
        "attempts": 2, "next_attempt_at": NOW, "last_error": None, "title": "news",
    }  # fmt: skip
    return OutboxEntry(**{**base, **fields})  # type: ignore[arg-type]


def test_a_claimed_row_names_its_process_and_the_sends_the_daemon_never_finished() -> None:
    """A pending row with a claim says which process holds it (host and PID, not the raw token), and how
    many earlier sends were cut short, before the last error."""
    note = _outbox_note(
        entry(claimed_by="box/4242/123456/abcdef012345/-", interrupted=1, last_error="HTTP error=503")
    )
    assert note == "claimed by box pid 4242; the daemon stopped during 1 send(s); HTTP error=503"
    assert _outbox_note(entry(interrupted=2)) == "the daemon stopped during 2 send(s)"
    assert _outbox_note(entry(status="sent", interrupted=2)) == "-"  # it went out in the end
