"""`news-monitor replay`: the backtest. One JSON line per message on stdout, progress and a summary (messages
per watch and day, stories, items) on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

from monitor.cli.inputs import Records
from monitor.config import Config

PROGRESS_EVERY = 1000  # items between progress lines on a terminal


def replay_items(config: Config, inputs: list[str], *, all_watches: bool = False, held: bool = False) -> int:
    from monitor.runtime.replay import ReplaySummary, replay, with_all_watches

    if all_watches:
        config = with_all_watches(config)
    enabled = [w.name for w in config.rules.watches if w.enabled]
    if not enabled:
        print(
            "news-monitor replay: no watch is enabled in the rule pack, so nothing can alert; "
            "set `enabled: true` on one or pass --all-watches",
            file=sys.stderr,
        )
    out = sys.stdout
    records = Records("replay", inputs)
    tty = sys.stderr.isatty()

    def with_outlet() -> Iterator[dict[str, Any]]:
        for name, record in records:
            record.setdefault("outlet", name)
            yield record

    def emit(message: dict[str, Any]) -> None:
        out.write(json.dumps(message, ensure_ascii=False) + "\n")

    def progress(summary: ReplaySummary) -> None:
        if tty and summary.items % PROGRESS_EVERY == 0:
            sent = sum(summary.per_day.values())
            print(f"\rreplay: {summary.items:,} items, {sent:,} messages", end="", file=sys.stderr)

    summary = replay(config, with_outlet(), emit, progress, held=held)
    out.flush()
    if tty:
        print("\r", end="", file=sys.stderr)
    print(render_summary(summary, enabled), file=sys.stderr)
    return records.finish()


def render_summary(summary: Any, watches: list[str]) -> str:
    """Messages per watch (total, per day over the items' span, by kind, by day), stories and items."""
    days = summary.days
    total = sum(summary.per_day.values())
    lines = [
        f"replay: {summary.items:,} items over {days} day(s); {total:,} messages about "
        f"{len(summary.stories):,} stories"
    ]
    for watch in watches:
        count = sum(n for (w, _), n in summary.per_day.items() if w == watch)
        kinds = ", ".join(f"{kind} {n}" for (w, kind), n in sorted(summary.per_kind.items()) if w == watch)
        rate = count / days if days else 0.0
        line = f"  {watch}: {count} messages, {rate:.1f} a day" + (f" ({kinds})" if kinds else "")
        if summary.held[watch]:
            line += f"; {summary.held[watch]} matching items sent nothing (see --held)"
        lines.append(line)
        by_day = sorted((d, n) for (w, d), n in summary.per_day.items() if w == watch)
        if by_day:
            lines.append("    by day: " + " ".join(f"{d:%m-%d}:{n}" for d, n in by_day))
    return "\n".join(lines)
