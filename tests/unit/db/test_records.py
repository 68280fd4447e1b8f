"""The store's records: outbox statuses as stored and as listed, and the note `news-monitor outbox`
shows for a row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.db.records import DeliveryStatus, OutboxEntry

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def entry(**fields: object) -> OutboxEntry:
    base: dict[str, object] = {
        "id": 7, "created_at": NOW, "channel": "hook", "watch": "w", "kind": "first",
        "status": DeliveryStatus.PENDING, "attempts": 2, "next_attempt_at": NOW, "last_error": None,
        "title": "news",
    }  # fmt: skip
    return OutboxEntry(**{**base, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stored", "status"),
    [
        ("pending", DeliveryStatus.PENDING),
        ("held", DeliveryStatus.HELD),
        ("folded", DeliveryStatus.FOLDED),
        ("sent", DeliveryStatus.SENT),
        ("dead", DeliveryStatus.DEAD),
        ("failed", DeliveryStatus.DEAD),  # given up before migration 0003
    ],
)
def test_a_stored_status_reads_as_its_delivery_status(stored: str, status: DeliveryStatus) -> None:
    """Every value the status column holds reads as one status; the old 'failed' is a dead letter."""
    assert DeliveryStatus.read(stored) is status


def test_statuses_are_the_column_values_and_dead_covers_the_old_failed_rows() -> None:
    """The enum's values are the words in the database and on the command line; asking for dead rows
    finds the rows given up before migration 0003 too."""
    assert [s.value for s in DeliveryStatus.current()] == ["pending", "held", "dead", "sent", "folded"]
    assert DeliveryStatus.DEAD.stored_as == ("dead", "failed")
    assert DeliveryStatus.HELD.stored_as == ("held",)
    assert f"{DeliveryStatus.SENT}" == "sent"


def test_a_claimed_row_names_its_process_and_the_sends_the_daemon_never_finished() -> None:
    """A pending row with a claim says which process holds it (host and PID, not the raw token), and how
    many earlier sends were cut short, before the last error."""
    note = entry(claimed_by="box/4242/123456/abcdef012345/-", interrupted=1, last_error="HTTP error=503").note
    assert note == "claimed by box pid 4242; the daemon stopped during 1 send(s); HTTP error=503"
    assert entry(interrupted=2).note == "the daemon stopped during 2 send(s)"
    assert entry(status=DeliveryStatus.SENT, interrupted=2).note == "-"  # it went out in the end


@pytest.mark.parametrize(
    ("fields", "note"),
    [
        ({"status": DeliveryStatus.HELD, "held_for": "quiet"}, "held: quiet hours"),
        ({"status": DeliveryStatus.HELD, "held_for": None}, "held: routing"),
        ({"status": DeliveryStatus.FOLDED, "digest_id": 12}, "in digest 12"),
        ({"status": DeliveryStatus.DEAD, "last_error": "535  auth\n failed"}, "535 auth failed"),
        ({"kind": "digest", "title": "digest of 3 alerts"}, "digest of 3 alerts"),
        (
            {"kind": "digest", "title": "digest of 3 alerts", "last_error": "timeout"},
            "digest of 3 alerts; timeout",
        ),
    ],
)
def test_the_note_says_why_a_row_waits_where_it_went_or_its_last_error(
    fields: dict[str, object], note: str
) -> None:
    """Held rows say why they wait, folded rows name their digest, others show their last error on one
    line; a digest row leads with its title."""
    assert entry(**fields).note == note
