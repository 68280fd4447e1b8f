"""`news-monitor outbox`: the deliveries waiting, held or dead-lettered, and `--retry` for a dead one."""

from __future__ import annotations

import sys
from typing import Any

from monitor.config import Config
from monitor.db.records import DeliveryStatus, OutboxEntry


def outbox(config: Config, *, status: str | None, limit: int, retry: int | None) -> int:
    from datetime import UTC, datetime

    from monitor.db.engine import make_engine, migrate
    from monitor.db.store import Store

    engine = make_engine(config.database_url)
    try:
        migrate(engine)
        store = Store(engine)
        if retry is not None:
            return _retry_delivery(store, retry, datetime.now(UTC))
        if status == "all":
            rows = store.outbox(None, limit=limit)
        else:
            waiting_or_dead = [DeliveryStatus.PENDING, DeliveryStatus.HELD, DeliveryStatus.DEAD]
            rows = store.outbox([DeliveryStatus(status)] if status else waiting_or_dead, limit=limit)
    finally:
        engine.dispose()
    _print_outbox(rows)
    return 0


def _retry_delivery(store: Any, delivery_id: int, now: Any) -> int:
    previous = store.retry_delivery(delivery_id, now)
    if previous is None:
        print(f"news-monitor outbox: no delivery with id {delivery_id}", file=sys.stderr)
        return 1
    if previous in (DeliveryStatus.SENT, DeliveryStatus.FOLDED):
        how = "already sent" if previous is DeliveryStatus.SENT else "folded into a digest (retry the digest)"
        print(f"news-monitor outbox: delivery {delivery_id} was {how}; not sending it twice", file=sys.stderr)
        return 1
    print(f"delivery {delivery_id}: was {previous}, now pending (due now, attempts reset)")
    return 0


def _print_outbox(rows: list[OutboxEntry]) -> None:
    """A fixed-width table. A held row's next attempt is its release time, or the channel's next digest."""
    header = (
        "ID",
        "CREATED (UTC)",
        "CHANNEL",
        "WATCH",
        "KIND",
        "STATUS",
        "TRIES",
        "NEXT ATTEMPT",
        "NOTE",
    )
    table = [header] + [
        (
            str(r.id),
            f"{r.created_at:%Y-%m-%d %H:%M}" if r.created_at else "-",
            r.channel,
            r.watch or "(digest)",
            r.kind,
            r.status,
            str(r.attempts),
            f"{r.next_attempt_at:%Y-%m-%d %H:%M:%S}"
            if r.next_attempt_at
            else ("next digest" if r.status is DeliveryStatus.HELD else "-"),
            r.note,
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    out = sys.stdout
    for row in table:
        out.write(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[-1]
            + "\n"
        )
    if not rows:
        out.write("no deliveries\n")
    out.flush()
