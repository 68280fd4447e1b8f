"""The routing world shared by the routing tests: a feed server, the daemon's own dependencies with a
fake clock, a rule pack for two places, and helpers to publish reports and read what was queued."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy

from monitor.config import Config, load_config
from monitor.pipeline import Deps
from monitor.runtime import wiring
from tests.helpers.clock import FakeClock
from tests.helpers.feed_server import FeedServer
from tests.helpers.servers import ReceivedRequest

BERLIN = ZoneInfo("Europe/Berlin")

RULES = """\
entities:
  zeta: {label: Zetaland, aliases: [Zetaland]}
  eta: {label: Etaland, aliases: [Etaland]}
topics:
  ceasefire: {query: truce, severity: low}
  escalation: {query: shelling, severity: high}
  strike: {query: missile, severity: critical}
watches:
  - {name: zeta, label: Zetaland, query: '@zeta', topics: [ceasefire, escalation, strike], notify: NOTIFY}
  - {name: eta, label: Etaland, query: '@eta', topics: [ceasefire, escalation, strike], notify: NOTIFY}
"""

# Distinct events (clustering thresholds are 1.0: each item is its own story).
TOWNS = ["Amberfield", "Birchmoor", "Coldwater", "Dunmere", "Eastwick", "Foxhollow", "Glenrock", "Hawthorne"]


@dataclass
class World:
    tmp: Path
    feeds: FeedServer
    database_url: str
    clock: FakeClock = field(default_factory=lambda: FakeClock(datetime(2026, 1, 15, 6, 0, tzinfo=UTC)))
    items: list[str] = field(default_factory=list)

    def configure(
        self,
        channels: str,
        notify: str,
        extra: str = "",
        stories: str = "{similarity: 1.0, copy_similarity: 1.0}",
    ) -> Config:
        """The config for `channels`, the rule pack's watches notifying `notify`; by default every item is
        its own story."""
        (self.tmp / "rules").mkdir(exist_ok=True)
        (self.tmp / "rules" / "r.yaml").write_text(RULES.replace("NOTIFY", notify), encoding="utf-8")
        (self.tmp / "monitor.yaml").write_text(
            f"database: '{self.database_url}'\n"
            "poll: {interval: 1m, timeout: 10s, allow_private_networks: true}\n"
            f"feeds:\n  - {{name: wire, url: '{self.feeds.url('/rss.xml')}'}}\n"
            f"stories: {stories}\n"
            f"channels:\n{channels}{extra}rules: [rules/*.yaml]\n",
            encoding="utf-8",
        )
        return load_config(self.tmp / "monitor.yaml")

    def publish(self, headline: str, summary: str = "") -> None:
        """Add an item, published now (the fake clock's now), to the feed."""
        guid = f"g{len(self.items)}"
        date = format_datetime(self.clock.now())
        self.items.append(
            f"<item><guid>{guid}</guid><title>{headline}</title><description>{summary or headline}"
            f"</description><link>https://news.example/{guid}</link><pubDate>{date}</pubDate></item>"
        )
        self.feeds.put(
            "/rss.xml",
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
            f"{''.join(self.items)}</channel></rss>",
        )

    def at(self, when: datetime) -> None:
        assert when >= self.clock.at, "time only moves forward"
        self.clock.at = when

    @contextmanager
    def deps(self, config: Config) -> Iterator[Deps]:
        """The daemon's own dependencies (real channels, the digest schedules' next_digest), our clock."""
        with wiring.dependencies(config, clock=self.clock) as deps:
            yield deps

    def statuses(self, channel: str) -> list[tuple[str, str, str | None]]:
        """(kind, status, held_for) of a channel's outbox rows in id order."""
        engine = sqlalchemy.create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sqlalchemy.text(
                        "SELECT kind, status, held_for FROM delivery WHERE channel = :c ORDER BY id"
                    ),
                    {"c": channel},
                ).all()
        finally:
            engine.dispose()
        return [tuple(r) for r in rows]  # type: ignore[misc]


IN_BERLIN = "timezone: Europe/Berlin"
QUIET = "quiet_hours: {start: '22:00', end: '07:00'}"


def digest_channel(url: str, cron: str = "0 8 * * *", extra: str = "", name: str = "brief") -> str:
    """One `channels:` entry in digest mode; `extra` adds settings such as IN_BERLIN or QUIET."""
    return f"  {name}: {{url: '{url}', mode: digest, digest: '{cron}'{', ' + extra if extra else ''}}}\n"


def titles(posts: list[ReceivedRequest]) -> list[str]:
    return [p.json()["title"] for p in posts]


def headlines_in(text: str) -> list[str]:
    """The numbered headlines ("Report 3 ...") in a digest body, in the order they appear."""
    return re.findall(r"Report \d+[^\n]*?(?=\n|$)", text)


def report(n: int, place: str, event: str) -> str:
    return f"Report {n}: {event} in {place} near {TOWNS[n % len(TOWNS)]}"
