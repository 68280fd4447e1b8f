"""`news-monitor match` and `news-monitor cluster`: classify items without touching the database."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

from monitor.cli.inputs import Records
from monitor.config import Config


def match_items(config: Config, inputs: list[str], *, explain: bool = False) -> int:
    from monitor.match import Matcher
    from monitor.match.explain import render

    matcher = Matcher.compile(config.rules)
    out = sys.stdout
    color = explain and out.isatty()
    records = Records("match", inputs)
    for _name, record in records:
        fields = {
            "title": record.get("title") or "",
            "summary": record.get("summary") or record.get("description") or "",
            "content": record.get("content") or "",
        }
        result = matcher.match(**fields, link=record.get("link") or "")
        if explain:
            out.write(
                render(record.get("id"), fields, result, color=color, topics=config.rules.topics) + "\n\n"
            )
        else:
            out.write(json.dumps({"id": record.get("id"), **result.to_json()}, ensure_ascii=False) + "\n")
    out.flush()
    return records.finish()


def cluster_items(config: Config, inputs: list[str]) -> int:
    from monitor.stories.clusterer import StoryClusterer, cluster_records

    clusterer = StoryClusterer(config.story_params)
    out = sys.stdout
    records = Records("cluster", inputs)

    def with_outlet() -> Iterator[dict[str, Any]]:
        for name, record in records:
            record.setdefault("outlet", name)
            yield record

    for doc, assignment in cluster_records(with_outlet(), clusterer):
        line = {"id": doc.id, "story": assignment.story}
        if assignment.copy_of:
            line["copy_of"] = assignment.copy_of
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
    out.flush()
    return records.finish()
