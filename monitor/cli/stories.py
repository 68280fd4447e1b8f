"""`news-monitor stories`: each watch's current phase (since when), then recent stories with their outlets,
topics and alert history."""

from __future__ import annotations

import json
import sys
from typing import Any

from monitor.config import Config


def stories(config: Config, *, since: str, limit: int, as_json: bool, phases_only: bool = False) -> int:
    """Text: phases, then stories. JSON Lines: stories only (the lines scripts already read), or with
    `phases_only` one line per watch."""
    from datetime import UTC, datetime

    from monitor.config import parse_duration
    from monitor.db.engine import make_engine, migrate
    from monitor.db.store import Store

    try:
        window = parse_duration(since)
    except ValueError as exc:
        print(f"news-monitor stories: --since: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(config.database_url)
    try:
        migrate(engine)
        store = Store(engine)
        phases = store.watch_phases()
        stories = store.recent_stories(datetime.now(UTC) - window, limit=limit)
    finally:
        engine.dispose()
    out = sys.stdout
    for watch, states in phases.items():
        if as_json and phases_only:
            out.write(json.dumps(_phases_json(watch, states), ensure_ascii=False) + "\n")
        elif not as_json:
            out.write(f"watch {watch} · phase: " + "; ".join(_phase_text(state) for state in states) + "\n")
    if phases_only:
        if not phases and not as_json:
            out.write("no watch has a phase yet\n")
        out.flush()
        return 0
    for story in stories:
        if as_json:
            out.write(json.dumps(_story_json(story), ensure_ascii=False) + "\n")
            continue
        out.write(
            f"story {story.id} · {story.updated_at:%Y-%m-%d %H:%M} UTC · {story.sources} independent "
            f"source(s), {story.items} item(s) · topics: {', '.join(story.topics) or 'none'}\n"
            f"  {story.title}\n"
        )
        for source in story.members:
            out.write(
                f"    {source.outlet}{' (reprint)' if source.copy else ''}: {source.link or source.title}\n"
            )
        for alert in story.alerts:
            why = f" ({'; '.join(alert.reasons)})" if alert.reasons else ""
            out.write(
                f"    alert #{alert.seq} {alert.kind} → {alert.watch}/{alert.channel}: {alert.status}{why}\n"
            )
    if not stories and not as_json:
        out.write(f"no stories updated in the last {since}\n")
    out.flush()
    return 0


def _phase_text(state: Any) -> str:
    where = f", story {state.story}" if state.story is not None else ""
    return (
        f"{state.topic} {state.phase.replace('_', ' ')} since {state.since:%Y-%m-%d %H:%M} UTC "
        f"(last reported {state.last_seen:%Y-%m-%d %H:%M}{where})"
    )


def _phases_json(watch: str, states: list[Any]) -> dict[str, Any]:
    """A watch's line: `{"watch", "phases": [{"topic", "phase", "since", "last_seen", "story", "item"}]}`
    (story lines have an `id` instead)."""
    return {
        "watch": watch,
        "phases": [
            {
                "topic": s.topic,
                "phase": s.phase,
                "since": s.since.isoformat(),
                "last_seen": s.last_seen.isoformat(),
                "story": s.story,
                "item": s.item,
            }
            for s in states
        ],
    }


def _story_json(story: Any) -> dict[str, Any]:
    return {
        "id": story.id,
        "title": story.title,
        "created_at": story.created_at.isoformat() if story.created_at else None,
        "updated_at": story.updated_at.isoformat() if story.updated_at else None,
        "items": story.items,
        "sources": story.sources,
        "topics": story.topics,
        "outlets": [{"name": s.outlet, "link": s.link, "reprint": s.copy} for s in story.members],
        "alerts": [
            {
                "watch": a.watch,
                "channel": a.channel,
                "kind": a.kind,
                "seq": a.seq,
                "status": a.status,
                "reasons": a.reasons,
            }
            for a in story.alerts
        ],
    }
