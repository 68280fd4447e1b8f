"""The alert and digest a delivery row stands for, built from its stored records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from monitor.alerts.digest import DigestEntry, digest_stories
from monitor.alerts.threading import message_id
from monitor.db.records import PendingDelivery, Source
from monitor.match import MatchResult
from monitor.match.rules import TopicSpec
from monitor.pipeline.deps import Deps
from monitor.render.model import Alert, Digest, OtherSource


def digest_of(deps: Deps, row: PendingDelivery) -> Digest:
    """The digest a digest row stands for: one alert per (watch, story) folded into it, as of its latest
    folded row, with the highest severity among them (the renderer groups and orders them)."""
    members = {m.id: m for m in deps.store.digest_members(row.id)}
    entries = [DigestEntry(m.id, m.watch, m.story_id, m.seq, _severity(m)) for m in members.values()]
    watches = {w.name: w for w in deps.config.rules.watches}
    alerts = []
    for story in digest_stories(entries):
        member = members[story.entry.id]
        watch = watches.get(member.watch)
        sources = deps.store.story_sources(member.story_id)
        alert = build_alert(member, watch.label if watch else None, sources, deps.config.rules.topics)
        reasons = [r for i in story.ids for r in members[i].reasons]
        reasons = list(dict.fromkeys(reasons))
        alerts.append(replace(alert, severity=story.severity, update=not story.first, reasons=reasons))
    return Digest(row.channel, alerts, row.period_start_at, row.period_end_at)


def _severity(row: PendingDelivery) -> str | None:
    hit = row.match.watch(row.watch)
    return hit.severity if hit else None


def build_alert(
    row: PendingDelivery,
    watch_label: str | None,
    sources: Iterable[Source] = (),
    pack_topics: Mapping[str, TopicSpec] | None = None,
) -> Alert:
    match = row.match
    hit = match.watch(row.watch)
    topics = (hit.topics if hit else []) or match.topics
    others = [s for s in sources if s.link != row.link or s.title != row.title]
    first_id = message_id(row.story_id, row.watch, row.channel, 0)
    previous_id = message_id(row.story_id, row.watch, row.channel, row.seq - 1) if row.seq > 1 else None
    return Alert(
        watch=row.watch,
        severity=hit.severity if hit else "medium",
        topics=topics,
        place=watch_label or row.watch,
        entities=match.entities,
        headline=row.title,
        outlet=row.feed_title or row.feed,
        published_at=row.published_at,
        link=row.link,
        evidence=evidence_lines(match, topics),
        summary=row.summary,
        update=row.kind == "update",
        reasons=list(row.reasons),
        sources=[OtherSource(s.outlet, s.title, s.link, s.copy) for s in others],
        message_id=row.message_id,
        in_reply_to=first_id if row.seq > 0 else None,
        references=[i for i in (first_id, previous_id) if i] if row.seq > 0 else [],
        tag_priority={name: spec.tag_priority for name, spec in (pack_topics or {}).items()},
        phase=row.phase,
    )


def evidence_lines(match: MatchResult, topics: Iterable[str]) -> list[str]:
    """One line per topic listing the distinct words that made it fire, then the entities."""
    lines = []
    for topic in topics:
        words: dict[str, None] = {}
        for ev in match.evidence:
            if ev.kind == "term" and ev.name == topic:
                words.setdefault(f'"{ev.text}" ({ev.field})')
        if words:
            lines.append(f"{topic}: {', '.join(words)}")
    if match.entities:
        lines.append(f"entities: {', '.join(match.entities)}")
    return lines
