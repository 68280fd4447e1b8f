"""Routing end to end with an injected clock: digests on a channel's cron, quiet hours in a channel's time
zone, a rate limit whose overflow arrives in a digest, crash safety of folding, and the daemon's cron
jobs. Real parts: a feed server, a webhook receiver and aiosmtpd on loopback, the real Apprise channels,
and a SQLite file or PostgreSQL (`database_url`). The item texts are written for this test.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy

from monitor import cli, pipeline
from monitor.alerts.routing import Disposition
from monitor.config import Config, load_config
from monitor.db.records import NewItem
from monitor.match import MatchResult, WatchHit
from monitor.pipeline import Deps
from monitor.pipeline.deliver import notify_operator
from monitor.pipeline.messages import digest_of
from monitor.pipeline.release import fold_digest
from monitor.render.digest import render_digest
from monitor.runtime import daemon, digests, wiring
from tests.helpers.clock import FakeClock
from tests.helpers.feed_server import FeedServer, feed_server
from tests.helpers.servers import ReceivedRequest, smtp_server, webhook_receiver

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

    def configure(self, channels: str, notify: str, extra: str = "") -> Config:
        (self.tmp / "rules").mkdir(exist_ok=True)
        (self.tmp / "rules" / "r.yaml").write_text(RULES.replace("NOTIFY", notify), encoding="utf-8")
        (self.tmp / "monitor.yaml").write_text(
            f"database: '{self.database_url}'\n"
            "poll: {interval: 1m, timeout: 10s, allow_private_networks: true}\n"
            f"feeds:\n  - {{name: wire, url: '{self.feeds.url('/rss.xml')}'}}\n"
            "stories: {similarity: 1.0, copy_similarity: 1.0}\n"
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


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[World]:
    with feed_server() as feeds:
        yield World(tmp_path, feeds, database_url)


def titles(posts: list[ReceivedRequest]) -> list[str]:
    return [p.json()["title"] for p in posts]


def headlines_in(text: str) -> list[str]:
    """The numbered headlines ("Report 3 ...") in a digest body, in the order they appear."""
    return re.findall(r"Report \d+[^\n]*?(?=\n|$)", text)


def report(n: int, place: str, event: str) -> str:
    return f"Report {n}: {event} in {place} near {TOWNS[n % len(TOWNS)]}"


@pytest.mark.integration
def test_digest_channel_gets_one_digest_at_its_cron_time_grouped_by_watch_most_severe_first(
    world: World,
) -> None:
    """Alerts on a digest route are held while an immediate channel gets them at once; at the cron time
    (08:00 Berlin) one digest holds every story, the most severe watch first; critical is never held;
    a second fire with nothing held sends nothing."""
    with webhook_receiver() as hook, webhook_receiver() as brief:
        config = world.configure(
            f"  hook: {{url: '{hook.json_url()}'}}\n" + digest_channel(brief.json_url(), extra=IN_BERLIN),
            "[hook, brief]",
        )
        with world.deps(config) as deps:
            world.publish(report(1, "Etaland", "truce talks"))  # eta, low
            world.publish(report(2, "Zetaland", "shelling"))  # zeta, high
            world.publish(report(3, "Etaland", "shelling"))  # eta, high
            world.publish(report(4, "Zetaland", "truce holds"))  # zeta, low
            assert pipeline.run_cycle(deps, only_due=False)
            assert len(hook.requests.wait_for(4)) == 4
            assert brief.requests == []
            assert [s[1:] for s in world.statuses("brief")] == [("held", "digest")] * 4

            world.at(datetime(2026, 1, 15, 6, 40, tzinfo=UTC))
            world.publish(report(5, "Zetaland", "missile strike"))  # critical: at once, digest or not
            assert pipeline.run_cycle(deps, only_due=False)
            [critical] = brief.requests.wait_for(1)
            assert "Report 5" in critical.json()["title"]

            fire = deps.next_digest("brief", world.clock.now())  # type: ignore[misc]
            assert fire == datetime(2026, 1, 15, 7, 0, tzinfo=UTC)  # 08:00 in Berlin (UTC+1)
            world.at(fire)
            assert pipeline.run_digest(deps, "brief")
            posts = brief.requests.wait_for(2)
            digest = posts[1].json()["message"]
            assert headlines_in(digest) == [
                report(3, "Etaland", "shelling"),  # eta and zeta both reach high: by name
                report(1, "Etaland", "truce talks"),
                report(2, "Zetaland", "shelling"),
                report(4, "Zetaland", "truce holds"),
            ]
            assert "4 stories" in posts[1].json()["title"] + digest
            assert [s[:2] for s in world.statuses("brief")] == [("first", "folded")] * 4 + [
                ("first", "sent"),
                ("digest", "sent"),
            ]
            world.at(fire + timedelta(days=1))
            assert pipeline.run_digest(deps, "brief")
            assert pipeline.run_cycle(deps, only_due=False)
            assert len(brief.requests) == 2 and len(hook.requests) == 5


@pytest.mark.integration
def test_a_digest_missed_while_nothing_ran_goes_out_at_the_next_cycle(world: World) -> None:
    """With no scheduler running at the cron time (a restart, `run --once` from cron), the next cycle
    after it folds and sends the digest, once."""
    with webhook_receiver() as brief:
        config = world.configure(
            digest_channel(brief.json_url(), extra=IN_BERLIN),
            "[brief]",
        )
        with world.deps(config) as deps:
            world.publish(report(1, "Zetaland", "shelling"))
            world.publish(report(2, "Zetaland", "truce talks"))
            assert pipeline.run_cycle(deps, only_due=False)
            world.at(datetime(2026, 1, 15, 6, 59, tzinfo=UTC))
            assert pipeline.run_cycle(deps, only_due=False)
            assert brief.requests == []
        world.at(datetime(2026, 1, 15, 9, 30, tzinfo=UTC))  # "restarted" long after 08:00 Berlin
        with world.deps(config) as deps:
            assert pipeline.run_cycle(deps, only_due=False)
            [post] = brief.requests.wait_for(1)
            assert headlines_in(post.json()["message"]) == [
                report(1, "Zetaland", "shelling"),
                report(2, "Zetaland", "truce talks"),
            ]
            assert pipeline.run_cycle(deps, only_due=False)
            assert len(brief.requests) == 1


@pytest.mark.integration
def test_alerts_held_for_a_digest_schedule_that_was_removed_go_out_at_the_next_cycle(world: World) -> None:
    """When the config no longer gives the channel a digest schedule (edited, then SIGHUP or restart),
    the alerts it held for it go out at the next cycle instead of waiting forever."""
    with webhook_receiver() as brief:
        digest = digest_channel(brief.json_url())
        config = world.configure(digest, "[brief]")
        with world.deps(config) as deps:
            world.publish(report(1, "Zetaland", "shelling"))
            world.publish(report(2, "Etaland", "shelling"))
            assert pipeline.run_cycle(deps, only_due=False)
            assert brief.requests == []
        config = world.configure(f"  brief: {{url: '{brief.json_url()}'}}\n", "[brief]")
        with world.deps(config) as deps:
            assert pipeline.run_cycle(deps, only_due=False)
            [post] = brief.requests.wait_for(1)
            assert len(headlines_in(post.json()["message"])) == 2


@pytest.mark.integration
def test_a_kill_between_folding_and_sending_loses_nothing_and_sends_the_digest_at_most_twice(
    world: World,
) -> None:
    """A process that dies right after the fold's commit leaves a pending digest the next process sends
    once; one that dies mid-send (row claimed, message out, not marked) has it sent once more after the
    lease: two copies at most, and no alert is folded twice or lost."""
    with webhook_receiver() as brief:
        config = world.configure(
            digest_channel(brief.json_url()),
            "[brief]",
            "delivery: {claim_lease: 2m}\n",
        )
        with world.deps(config) as deps:
            world.publish(report(1, "Zetaland", "shelling"))
            world.publish(report(2, "Etaland", "shelling"))
            assert pipeline.run_cycle(deps, only_due=False)
            world.at(datetime(2026, 1, 15, 8, 0, tzinfo=UTC))
            folded = fold_digest(deps, "brief")  # ... and the process is killed here
            assert (folded.digests, folded.folded) == (1, 2)
        with world.deps(config) as deps:  # restart
            assert pipeline.run_cycle(deps, only_due=False)
            [post] = brief.requests.wait_for(1)
            assert len(headlines_in(post.json()["message"])) == 2
            assert fold_digest(deps, "brief").digests == 0  # nothing is folded twice

            world.publish(report(3, "Zetaland", "shelling"))
            assert pipeline.run_cycle(deps, only_due=False)
            world.at(datetime(2026, 1, 16, 8, 0, tzinfo=UTC))
            fold_digest(deps, "brief")
            # die mid-send: the row is claimed and the message is out, but it is never marked sent
            [row] = deps.store.pending_deliveries(world.clock.now())
            assert deps.store.claim(row.id, world.clock.now(), timedelta(minutes=2))
            assert deps.channels["brief"].send(render_digest(digest_of(deps, row))).ok
            brief.requests.wait_for(2)
        with world.deps(config) as deps:  # restart
            assert pipeline.run_cycle(deps, only_due=False)
            assert len(brief.requests) == 2  # still leased
            world.at(world.clock.now() + timedelta(minutes=2))
            assert pipeline.run_cycle(deps, only_due=False)
            posts = brief.requests.wait_for(3)
            assert posts[1].json()["message"] == posts[2].json()["message"]  # the one duplicate
            assert pipeline.run_cycle(deps, only_due=False)
    assert len(brief.requests) == 3
    assert [s[:2] for s in world.statuses("brief")] == [("first", "folded")] * 2 + [
        ("digest", "sent"),
        ("first", "folded"),
        ("digest", "sent"),
    ]


@pytest.mark.integration
def test_quiet_hours_hold_non_critical_email_until_they_end_in_the_channel_time_zone(world: World) -> None:
    """During 22:00-07:00 Berlin, a critical alert is emailed at once; the others wait and arrive when
    the quiet hours end (07:00 Berlin = 06:00 UTC in winter), several as one digest, a lone one as itself."""
    with smtp_server() as smtp:
        config = world.configure(
            f"  mail: {{url: '{smtp.mailto_url()}', quiet_hours: {{start: '22:00', end: '07:00', "
            "timezone: Europe/Berlin}}\n",
            "[mail]",
        )
        world.at(datetime(2026, 1, 15, 21, 30, tzinfo=UTC))  # 22:30 in Berlin
        with world.deps(config) as deps:
            world.publish(report(1, "Zetaland", "shelling"))
            world.publish(report(2, "Etaland", "missile strike"))
            world.publish(report(3, "Etaland", "truce talks"))
            assert pipeline.run_cycle(deps, only_due=False)
            [critical] = smtp.messages.wait_for(1)
            assert "Report 2" in str(critical["Subject"])
            assert [s[1:] for s in world.statuses("mail")] == [
                ("held", "quiet"),
                ("sent", None),
                ("held", "quiet"),
            ]

            world.at(datetime(2026, 1, 16, 5, 59, tzinfo=UTC))  # 06:59 in Berlin
            assert pipeline.run_cycle(deps, only_due=False)
            assert len(smtp.messages) == 1
            world.at(datetime(2026, 1, 16, 6, 0, tzinfo=UTC))  # 07:00 in Berlin
            assert pipeline.run_cycle(deps, only_due=False)
            mails = smtp.messages.wait_for(2)
            body = smtp.body(mails[1])
            assert report(1, "Zetaland", "shelling") in body and report(3, "Etaland", "truce talks") in body
            assert mails[1].part("text/html")  # the digest is an HTML email with a plain-text part

            world.at(datetime(2026, 1, 16, 22, 15, tzinfo=UTC))  # 23:15 in Berlin, a lone quiet alert
            world.publish(report(4, "Zetaland", "shelling"))
            assert pipeline.run_cycle(deps, only_due=False)
            world.at(datetime(2026, 1, 17, 6, 0, tzinfo=UTC))
            assert pipeline.run_cycle(deps, only_due=False)
            mails = smtp.messages.wait_for(3)
            assert "Report 4" in str(mails[2]["Subject"])  # released as itself, not as a digest
            assert pipeline.run_cycle(deps, only_due=False)
            assert len(smtp.messages) == 3


@pytest.mark.integration
def test_a_digest_due_in_quiet_hours_goes_out_when_they_end(world: World) -> None:
    """A 06:00 Berlin digest on a channel quiet until 07:00 is folded at 06:00 but sent at 07:00."""
    with webhook_receiver() as brief:
        config = world.configure(
            digest_channel(brief.json_url(), "0 6 * * *", f"{IN_BERLIN}, {QUIET}"),
            "[brief]",
        )
        world.at(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
        with world.deps(config) as deps:
            world.publish(report(1, "Zetaland", "shelling"))
            assert pipeline.run_cycle(deps, only_due=False)
            world.at(datetime(2026, 1, 16, 5, 0, tzinfo=UTC))  # 06:00 in Berlin
            assert pipeline.run_digest(deps, "brief")
            assert pipeline.run_cycle(deps, only_due=False)
            assert brief.requests == [] and world.statuses("brief")[-1] == ("digest", "pending", "digest")
            world.at(datetime(2026, 1, 16, 5, 59, 59, tzinfo=UTC))
            assert pipeline.run_cycle(deps, only_due=False)
            assert brief.requests == []
            world.at(datetime(2026, 1, 16, 6, 0, tzinfo=UTC))  # 07:00 in Berlin
            assert pipeline.run_cycle(deps, only_due=False)
            [post] = brief.requests.wait_for(1)
            assert headlines_in(post.json()["message"]) == [report(1, "Zetaland", "shelling")]


@pytest.mark.integration
@pytest.mark.parametrize("schedule", [None, "0 * * * *"], ids=["no-digest", "hourly-digest"])
def test_alerts_beyond_the_rate_limit_arrive_in_a_digest_and_none_is_dropped(
    world: World, schedule: str | None
) -> None:
    """With 3 messages per hour, 7 alerts at once give 3 single alerts and one digest with the other 4:
    without a digest schedule when the window opens (an hour after the first), with one at its next cron
    time. Critical alerts pass the limit."""
    with webhook_receiver() as hook:
        digest = f", digest: '{schedule}'" if schedule else ""
        config = world.configure(
            f"  hook: {{url: '{hook.json_url()}', rate_limit: {{max: 3, per: 1h}}{digest}}}\n", "[hook]"
        )
        start = datetime(2026, 1, 15, 10, 10, tzinfo=UTC)
        world.at(start)
        with world.deps(config) as deps:
            for n in range(1, 8):
                world.publish(report(n, "Zetaland", "shelling"))
            assert pipeline.run_cycle(deps, only_due=False)
            singles = hook.requests.wait_for(3)
            world.at(start + timedelta(minutes=5))
            world.publish(report(8, "Etaland", "missile strike"))
            assert pipeline.run_cycle(deps, only_due=False)
            hook.requests.wait_for(4)
            release = start + (timedelta(hours=1) if schedule is None else timedelta(minutes=50))
            world.at(release - timedelta(seconds=1))
            assert pipeline.run_cycle(deps, only_due=False)
            if schedule:
                assert deps.next_digest("hook", world.clock.now()) == release  # type: ignore[misc]
            assert len(hook.requests) == 4
            world.at(release)
            if schedule:
                assert pipeline.run_digest(deps, "hook")
            assert pipeline.run_cycle(deps, only_due=False)
            posts = hook.requests.wait_for(5)
            assert pipeline.run_cycle(deps, only_due=False)
    assert len(hook.requests) == 5
    assert [re.match(r".*(Report \d+)", t)[1] for t in titles(singles)] == [
        "Report 1",
        "Report 2",
        "Report 3",
    ]  # type: ignore[index]
    assert "Report 8" in titles(posts)[3]
    held = headlines_in(posts[4].json()["message"])
    assert sorted(held) == sorted(report(n, "Zetaland", "shelling") for n in range(4, 8))
    assert [s[2] for s in world.statuses("hook") if s[1] == "folded"] == ["rate"] * 4


@pytest.mark.integration
def test_watch_routes_filter_by_severity_and_topic_and_override_the_mode(world: World) -> None:
    """A watch's notify mapping narrows a channel (min_severity, topics) and switches it to digest mode,
    while a bare channel name keeps the channel's defaults (here: only ceasefire stories)."""
    with webhook_receiver() as ops, webhook_receiver() as desk:
        config = world.configure(
            f"  ops: {{url: '{ops.json_url()}', topics: [ceasefire]}}\n"
            f"  desk: {{url: '{desk.json_url()}', digest: '0 8 * * *'}}\n",
            "[ops, {channel: desk, min_severity: high, topics: [escalation, strike], mode: digest}]",
        )
        with world.deps(config) as deps:
            world.publish(report(1, "Zetaland", "truce talks"))  # low ceasefire: ops only
            world.publish(report(2, "Zetaland", "shelling"))  # high escalation: desk's digest only
            world.publish(report(3, "Etaland", "missile strike"))  # critical: desk at once
            assert pipeline.run_cycle(deps, only_due=False)
            assert ["Report 1" in t for t in titles(ops.requests.wait_for(1))] == [True]
            assert ["Report 3" in t for t in titles(desk.requests.wait_for(1))] == [True]
            world.at(datetime(2026, 1, 15, 8, 0, tzinfo=UTC))
            assert pipeline.run_digest(deps, "desk")
            posts = desk.requests.wait_for(2)
            assert headlines_in(posts[1].json()["message"]) == [report(2, "Zetaland", "shelling")]
            assert len(ops.requests) == 1


@pytest.mark.integration
def test_the_daemon_registers_each_digest_cron_job_with_its_next_fire_time_in_the_channel_zone(
    world: World,
) -> None:
    """The scheduler gets one cron job per digest channel, next due at the schedule's next local time in
    the channel's own zone (computed here independently with zoneinfo)."""
    config = world.configure(
        "  berlin: {url: 'json://127.0.0.1:9/b', mode: digest, digest: '30 8 * * *', timezone: Europe/Berlin}\n"
        "  yerevan: {url: 'json://127.0.0.1:9/y', digest: '0 18 * * 1-5', timezone: Asia/Yerevan}\n"
        "  plain: {url: 'json://127.0.0.1:9/p'}\n",
        "[berlin, yerevan, plain]",
    )
    with world.deps(config) as deps:
        scheduler = daemon.start_scheduler(deps, paused=True)
        try:
            now = datetime.now(UTC)
            jobs = {job.id: job for job in scheduler.get_jobs()}
            assert set(jobs) == {"tick", "digest:berlin", "digest:yerevan"}
            for job_id, zone, hour, minute, weekdays in (
                ("digest:berlin", BERLIN, 8, 30, range(7)),
                ("digest:yerevan", ZoneInfo("Asia/Yerevan"), 18, 0, range(5)),
            ):
                local = now.astimezone(zone)
                expected = next(
                    candidate
                    for days in range(8)
                    if (candidate := datetime.combine(local.date() + timedelta(days=days), local.time().replace(
                        hour=hour, minute=minute, second=0, microsecond=0, tzinfo=None), tzinfo=zone)) > now
                    and candidate.weekday() in weekdays
                )  # fmt: skip
                fire = jobs[job_id].next_run_time
                assert fire == expected and fire.utcoffset() == expected.utcoffset()
        finally:
            scheduler.shutdown(wait=False)


@pytest.mark.integration
def test_the_daemon_digest_job_folds_and_sends_when_it_fires(world: World) -> None:
    """The registered cron job itself, fired by the running scheduler, folds the held alerts and
    delivers the digest (the job is made due now instead of waiting for 08:00)."""
    with webhook_receiver() as brief:
        config = world.configure(digest_channel(brief.json_url()), "[brief]")
        with world.deps(config) as deps:
            world.publish(report(1, "Zetaland", "shelling"))
            world.publish(report(2, "Etaland", "truce talks"))
            assert pipeline.run_cycle(deps, only_due=False)
            scheduler = daemon.start_scheduler(deps, paused=True)
            try:
                scheduler.get_job("digest:brief").modify(next_run_time=datetime.now(UTC))
                scheduler.resume()
                [post] = brief.requests.wait_for(1)
            finally:
                scheduler.shutdown(wait=True)
            assert len(headlines_in(post.json()["message"])) == 2
            assert [s[:2] for s in world.statuses("brief")][-1] == ("digest", "sent")


@pytest.mark.integration
def test_outbox_lists_held_folded_and_digest_rows(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """`news-monitor outbox` shows held rows with why and until when, and folded rows with their digest."""
    with webhook_receiver() as hook:
        config = world.configure(
            digest_channel(hook.json_url(), extra=QUIET, name="hook")
            + f"  chat: {{url: '{hook.json_url('/chat')}', {QUIET}}}\n",
            "[hook, chat]",
        )
        world.at(datetime(2026, 1, 15, 23, 0, tzinfo=UTC))
        with world.deps(config) as deps:
            world.publish(report(1, "Zetaland", "shelling"))
            assert pipeline.run_cycle(deps, only_due=False)
            assert cli.main(["outbox", "-c", str(world.tmp / "monitor.yaml")]) == 0
            listing = capsys.readouterr().out
            assert re.search(
                r" hook +zeta +first +held +0 +next digest +held: digest mode$", listing, re.M
            ), listing
            assert re.search(
                r" chat +zeta +first +held +0 +2026-01-16 07:00:00 +held: quiet hours", listing
            ), listing
            world.at(datetime(2026, 1, 16, 8, 0, tzinfo=UTC))
            assert pipeline.run_digest(deps, "hook")
            hook.requests.wait_for(1)
            assert cli.main(["outbox", "-c", str(world.tmp / "monitor.yaml"), "--status", "all"]) == 0
            listing = capsys.readouterr().out
            digest_id = max(e.id for e in deps.store.outbox(None) if e.kind == "digest")
            assert re.search(
                rf"^{digest_id} .* hook +\(digest\) +digest +sent .*digest of 1 alert", listing, re.M
            )
            assert re.search(rf" hook +zeta +first +folded .*in digest {digest_id}", listing), listing


@pytest.mark.integration
def test_a_critical_alert_in_quiet_hours_is_not_held_back_by_a_digest_waiting_for_them_to_end(
    world: World,
) -> None:
    """A digest folded at 23:00 Berlin waits for the end of quiet hours (07:00), but a critical alert
    decided at 00:00 behind it goes out at once; the digest follows at 07:00, once."""
    with webhook_receiver() as brief:
        config = world.configure(
            digest_channel(brief.json_url(), "0 23 * * *", f"{IN_BERLIN}, {QUIET}"),
            "[brief]",
        )
        world.at(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
        with world.deps(config) as deps:
            world.publish(report(1, "Zetaland", "shelling"))
            assert pipeline.run_cycle(deps, only_due=False)
            world.at(datetime(2026, 1, 15, 22, 0, tzinfo=UTC))  # 23:00 Berlin: folded, due at 07:00
            assert pipeline.run_digest(deps, "brief")
            assert world.statuses("brief")[-1] == ("digest", "pending", "digest")
            world.at(datetime(2026, 1, 15, 23, 0, tzinfo=UTC))  # 00:00 Berlin
            world.publish(report(2, "Etaland", "missile strike"))  # critical
            assert pipeline.run_cycle(deps, only_due=False)
            [critical] = brief.requests.wait_for(1)
            assert "Report 2" in critical.json()["title"]
            world.at(datetime(2026, 1, 16, 5, 59, tzinfo=UTC))
            assert pipeline.run_cycle(deps, only_due=False)
            assert len(brief.requests) == 1
            world.at(datetime(2026, 1, 16, 6, 0, tzinfo=UTC))  # 07:00 Berlin
            assert pipeline.run_cycle(deps, only_due=False)
            posts = brief.requests.wait_for(2)
            assert headlines_in(posts[1].json()["message"]) == [report(1, "Zetaland", "shelling")]
            assert pipeline.run_cycle(deps, only_due=False)
    assert len(brief.requests) == 2


@pytest.mark.integration
def test_topics_on_the_channel_and_on_the_watch_route_must_each_be_met_not_their_intersection(
    world: World,
) -> None:
    """Channel topics [ceasefire] with watch route topics [escalation]: a story about a truce and shelling
    reaches the channel, one about shelling alone does not."""
    with webhook_receiver() as brief:
        config = world.configure(
            f"  brief: {{url: '{brief.json_url()}', topics: [ceasefire]}}\n",
            "[{channel: brief, topics: [escalation]}]",
        )
        with world.deps(config) as deps:
            world.publish(report(1, "Zetaland", "truce broken by shelling"))
            world.publish(report(2, "Etaland", "shelling"))
            assert pipeline.run_cycle(deps, only_due=False)
            [post] = brief.requests.wait_for(1)
            assert "Report 1" in post.json()["title"]
            assert pipeline.run_cycle(deps, only_due=False)
    assert len(brief.requests) == 1


class NeverFiring:
    """A digest schedule with no fire time left (a 30 February, which the config loader refuses) that
    counts how often the pipeline makes it search for one."""

    def __init__(self) -> None:
        self.searches = 0

    def next_after(self, moment: datetime) -> datetime | None:
        self.searches += 1
        return None


@pytest.mark.integration
def test_alerts_held_for_a_schedule_that_never_fires_go_out_and_it_is_searched_once(world: World) -> None:
    """If a channel's digest schedule has no next fire time (30 February), its held alerts go out at the
    next cycle as one digest instead of waiting forever, and the schedule is not searched again each tick."""
    with webhook_receiver() as brief:
        config = world.configure(digest_channel(brief.json_url()), "[brief]")
        with world.deps(config) as deps:
            never = NeverFiring()
            deps.next_digest = digests.next_digest({"brief": never})  # type: ignore[dict-item]
            world.publish(report(1, "Zetaland", "shelling"))
            world.publish(report(2, "Etaland", "shelling"))
            assert pipeline.run_cycle(deps, only_due=False)
            [post] = brief.requests.wait_for(1)
            assert len(headlines_in(post.json()["message"])) == 2
            for minutes in (1, 2, 3):
                world.at(world.clock.now() + timedelta(minutes=minutes))
                world.publish(report(2 + minutes, "Zetaland", "shelling"))
                assert pipeline.run_cycle(deps, only_due=False)
            assert len(brief.requests.wait_for(4)) == 4
            assert never.searches == 1


class GatedChannel:
    """A real channel whose first send waits until the test opens the gate (to overlap two senders)."""

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self.sending = threading.Event()
        self.gate = threading.Event()
        self._first = threading.Lock()

    def send(self, message: Any) -> Any:
        if self._first.acquire(blocking=False):
            self.sending.set()
            assert self.gate.wait(timeout=10)
        return self.channel.send(message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.channel, name)


@pytest.mark.integration
def test_overlapping_operator_notice_rounds_tell_the_operator_once(world: World) -> None:
    """The digest job and the tick both telling the operator about the same dead letter (one still
    sending when the other looks) send one notice: each notice is claimed before it is sent."""
    with webhook_receiver(status=404) as gone, webhook_receiver() as ops:
        config = world.configure(
            f"  gone: {{url: '{gone.json_url()}'}}\n  ops: {{url: '{ops.json_url()}'}}\n",
            "[gone]",
            "delivery: {operator_channel: ops}\n",
        )
        with world.deps(config) as deps:
            channels = dict(deps.channels)
            deps.channels = {"gone": channels["gone"]}  # dead-letter first, tell the operator below
            world.publish(report(1, "Zetaland", "shelling"))
            assert pipeline.run_cycle(deps, only_due=False)
            assert [s[1] for s in world.statuses("gone")] == ["dead"]
            gated = GatedChannel(channels["ops"])
            deps.channels = {**channels, "ops": gated}  # type: ignore[dict-item]
            told: list[int] = []
            first = threading.Thread(target=lambda: told.append(notify_operator(deps)))
            first.start()
            try:
                assert gated.sending.wait(timeout=10)
                second = notify_operator(deps)  # the other scheduler thread, meanwhile
            finally:
                gated.gate.set()
                first.join(timeout=30)
            assert (told, second) == ([1], 0)
            assert len(ops.requests.wait_for(1)) == 1
            assert notify_operator(deps) == 0
    assert len(ops.requests) == 1


@pytest.mark.integration
def test_an_alert_committed_just_after_the_digest_fold_waits_for_the_next_digest(world: World) -> None:
    """An alert whose transaction began before the 08:00 fold (created 07:59:59) but committed after it
    is not 'overdue' at the next tick: no one-alert second digest right away; it is in the next one."""
    with webhook_receiver() as brief:
        config = world.configure(digest_channel(brief.json_url()), "[brief]")
        with world.deps(config) as deps:
            world.publish(report(1, "Zetaland", "shelling"))
            assert pipeline.run_cycle(deps, only_due=False)
            world.at(datetime(2026, 1, 15, 8, 0, tzinfo=UTC))
            assert pipeline.run_digest(deps, "brief")
            brief.requests.wait_for(1)
            late = datetime(2026, 1, 15, 7, 59, 59, tzinfo=UTC)  # the unit's clock reading; commits now
            hit = WatchHit(name="zeta", severity="high", topics=["escalation"])
            with deps.store.item_unit(late) as unit:
                item = NewItem(
                    "late",
                    None,
                    None,
                    report(2, "Zetaland", "shelling"),
                    "",
                    late,
                    MatchResult([], [hit], []),
                )
                item_id = unit.add_item("wire", item)
                assert item_id is not None
                unit.join_story(item_id, item_id, outlet="wire", copy_of=None, title=item.title, topics=[])
                unit.queue(
                    watch="zeta", story_id=item_id, item_id=item_id, channels=["brief"], seq=0, kind="first",
                    reasons=[], holds={"brief": Disposition(hold=True, reason="digest")},
                )  # fmt: skip
            world.at(datetime(2026, 1, 15, 8, 0, 30, tzinfo=UTC))
            assert pipeline.run_cycle(deps, only_due=False)
            assert len(brief.requests) == 1 and world.statuses("brief")[-1] == ("first", "held", "digest")
            world.at(datetime(2026, 1, 16, 8, 0, tzinfo=UTC))
            assert pipeline.run_digest(deps, "brief")
            posts = brief.requests.wait_for(2)
            assert headlines_in(posts[1].json()["message"]) == [report(2, "Zetaland", "shelling")]
