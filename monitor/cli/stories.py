"""`news-monitor stories`: recent stories with their outlets, topics and alert history."""

from __future__ import annotations

import json
import sys
from typing import Any

from monitor.config import Config


def stories(config: Config, *, since: str, limit: int, as_json: bool) -> int:
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
        stories = Store(engine).recent_stories(datetime.now(UTC) - window, limit=limit)
    finally:
        engine.dispose()
    out = sys.stdout
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
