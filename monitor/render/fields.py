"""The fields a template sees: an alert's and a digest's values as README's field tables (section
Templates) list them, feed text reduced to plain text, how much of an alert a size step shows (`Cut`) and
the order of a digest's stories (`digest_groups`).

Below `monitor.render.templates`, which checks override templates against a sample alert's and digest's
fields, and above nothing that renders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from monitor.core.clock import as_utc
from monitor.core.severity import level_rank
from monitor.feeds.text import clean_line
from monitor.feeds.text import html_to_text as plain
from monitor.render.escaping import as_link, sanitise_html
from monitor.render.model import Alert, Digest

SUMMARY_MAX = 600
SUBJECT_HEADLINE_MAX = 160


@dataclass(frozen=True)
class Cut:
    """How much of an alert to show (the size steps are `monitor.render.fitting.CUTS`)."""

    sources: int | None = None  # at most this many other sources (None: all)
    summary: int | None = SUMMARY_MAX  # characters of summary (0: none)
    evidence: int | None = None
    entities: bool = True
    headline: int | None = None


FULL = Cut()  # everything


def shorten(text: str, limit: int) -> str:
    """`text` within `limit` characters: cut at a character, an ellipsis in place of the rest."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def subject_tag(topics: Sequence[str], priority: Mapping[str, int]) -> str:
    """ONE tag for the subject: the topic with the highest `priority` (ties and unlisted topics: the
    first), upper-cased; ALERT for none."""
    ranks = {name.lower(): rank for name, rank in priority.items()}
    return max(topics, key=lambda t: ranks.get(t.lower(), 0)).upper() if topics else "ALERT"


def _published(value: datetime | None) -> str:
    utc = as_utc(value)
    return utc.strftime("%Y-%m-%d %H:%M UTC") if utc else "unknown"


def _clean_list(values: Sequence[str]) -> list[str]:
    return [v for v in (plain(x) for x in values) if v]


def _summary_html(raw: str, limit: int | None) -> str:
    """The summary for the HTML form: sanitised markup when it fits, else escaped shortened text."""
    text = plain(raw)
    if not text or limit == 0:
        return ""
    if limit is None or len(text) <= limit:
        return sanitise_html(raw)
    return sanitise_html(shorten(text, limit))


def alert_fields(alert: Alert, form: str, cut: Cut = FULL) -> dict[str, Any]:
    """The template fields of an alert in one form (``text``, ``markdown`` or ``html``), showing as much
    as `cut` allows."""
    topics = _clean_list(alert.topics)
    headline = plain(alert.headline) or "(no headline)"
    if cut.headline is not None:
        headline = shorten(headline, cut.headline)
    evidence = _clean_list(alert.evidence)
    all_sources = [
        {
            "outlet": plain(s.outlet) or "unknown outlet",
            "title": plain(s.title),
            "link": as_link(s.link),
            "link_text": clean_line(s.link),
            "reprint": s.copy,
        }
        for s in alert.sources
    ]
    shown_sources = all_sources if cut.sources is None else all_sources[: cut.sources]
    shown_evidence = evidence if cut.evidence is None else evidence[: cut.evidence]
    summary_text = plain(alert.summary)
    summary = (
        _summary_html(alert.summary, cut.summary)
        if form == "html"
        else (shorten(summary_text, cut.summary) if cut.summary and summary_text else "")
    )
    entities = _clean_list(alert.entities)
    return {
        "kind": "update" if alert.update else "alert",
        "update": alert.update,
        "reasons": _clean_list(alert.reasons) if alert.update or alert.phase else [],
        "phase": plain(alert.phase) if alert.phase else None,
        "watch": plain(alert.watch),
        "place": plain(alert.place),
        "subject_place": _subject_place(plain(alert.place), headline),
        "severity": plain(alert.severity) or "unknown",
        "tag": plain(alert.phase) if alert.phase else subject_tag(topics, alert.tag_priority),
        "topics": topics,
        "topic_tags": " + ".join(t.upper() for t in topics) or "ALERT",
        "entities": entities if cut.entities else [],
        "entities_omitted": 0 if cut.entities else len(entities),
        "headline": headline,
        "subject_headline": shorten(headline, SUBJECT_HEADLINE_MAX),
        "outlet": plain(alert.outlet) or "unknown outlet",
        "published": _published(alert.published_at),
        "published_at": as_utc(alert.published_at),
        "link": as_link(alert.link),
        "link_text": clean_line(alert.link),
        "evidence": shown_evidence,
        "evidence_omitted": len(evidence) - len(shown_evidence),
        "summary": summary,
        "summary_cut": bool(summary_text) and (cut.summary == 0 or len(summary_text) > (cut.summary or 0)),
        "sources": shown_sources,
        "sources_total": len(all_sources),
        "sources_omitted": len(all_sources) - len(shown_sources),
        "cut": cut != FULL,
        "message_id": alert.message_id or "",
    }


def _subject_place(place: str, headline: str) -> str:
    """The place for the subject line, or "" when the headline already starts with it as a word (no
    "Nagorno-Karabakh: Nagorno-Karabakh: ..."; "Ukrainian forces ..." keeps the place "Ukraine")."""
    if place and re.match(re.escape(place) + r"(?!\w)", headline, re.IGNORECASE):
        return ""
    return place


def _severity_rank(severity: str) -> int:
    """A sort key, highest severity first; an unknown one (absent or odd in stored data) comes last."""
    return -level_rank(severity.lower())


def _newest_first_key(alert: Alert) -> float:
    published = as_utc(alert.published_at)
    return -published.timestamp() if published else float("inf")


DigestGroups = list[tuple[str, str, list[Alert]]]  # (watch, place, alerts), in the order shown


def digest_groups(digest: Digest) -> DigestGroups:
    """The digest's stories per watch: watches by their highest severity (then name), stories by
    severity, then newest first."""
    by_watch: dict[str, list[Alert]] = {}
    for alert in digest.alerts:
        by_watch.setdefault(alert.watch, []).append(alert)
    groups = []
    for watch, alerts in by_watch.items():
        alerts = sorted(alerts, key=lambda a: (_severity_rank(a.severity), _newest_first_key(a)))
        groups.append((watch, alerts[0].place, alerts))
    groups.sort(key=lambda g: (_severity_rank(g[2][0].severity), g[0]))
    return groups


def digest_fields(
    digest: Digest, form: str, keep: int | None = None, groups: DigestGroups | None = None
) -> dict[str, Any]:
    """The template fields of a digest; `keep` limits the stories shown (the rest are counted); `groups`
    is `digest_groups(digest)` when the caller has it already. They are the same in every `form`."""
    groups = digest_groups(digest) if groups is None else groups
    counts: dict[str, int] = {}
    for alert in digest.alerts:
        severity = plain(alert.severity).lower() or "unknown"
        counts[severity] = counts.get(severity, 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: (_severity_rank(kv[0]), kv[0]))
    shown_groups = []
    remaining = len(digest.alerts) if keep is None else keep
    for watch, place, alerts in groups:
        stories = []
        for alert in alerts[: max(remaining, 0)]:
            topics = _clean_list(alert.topics)
            stories.append(
                SimpleNamespace(  # not a dict: `s.update` in a template must be the field, not dict.update
                    severity=plain(alert.severity) or "unknown",
                    topics=topics,
                    tag=plain(alert.phase) if alert.phase else subject_tag(topics, alert.tag_priority),
                    topic_tags=" + ".join(t.upper() for t in topics) or "ALERT",
                    headline=plain(alert.headline) or "(no headline)",
                    outlet=plain(alert.outlet) or "unknown outlet",
                    link=as_link(alert.link),
                    link_text=clean_line(alert.link),
                    published=_published(alert.published_at),
                    published_at=as_utc(alert.published_at),
                    source_count=1 + len(alert.sources),
                    update=alert.update,
                )
            )
        remaining -= len(stories)
        if stories:
            shown_groups.append(
                {
                    "watch": plain(watch),
                    "place": plain(place) or plain(watch),
                    "severity": stories[0].severity,
                    "stories": stories,
                    "total": len(alerts),
                }
            )
    shown = sum(len(g["stories"]) for g in shown_groups)
    start, end = as_utc(digest.period_start), as_utc(digest.period_end)
    return {
        "kind": "digest",
        "channel": plain(digest.channel),
        "total": len(digest.alerts),
        "counts": [{"severity": s, "count": n} for s, n in ordered],
        "counts_line": ", ".join(f"{n} {s}" for s, n in ordered),
        "groups": shown_groups,
        "stories_omitted": len(digest.alerts) - shown,
        "period_start": start,
        "period_end": end,
        "period": (
            f"{_published(start)} – {_published(end)}"
            if start and end
            else (f"since {_published(start)}" if start else (f"until {_published(end)}" if end else ""))
        ),
        "cut": shown < len(digest.alerts),
    }
