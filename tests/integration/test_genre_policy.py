"""Event reports before commentary, end to end: the daemon's own poll → match → story → policy → outbox on a
loopback feed, a SQLite (or PostgreSQL) database and a webhook receiver. Headlines are written for this test."""

from __future__ import annotations

from email.utils import format_datetime

import pytest
import sqlalchemy

from monitor import pipeline
from monitor.config import Config, load_config
from monitor.runtime import wiring
from tests.helpers.servers import webhook_receiver
from tests.integration.routing_world import TOWNS, World, digest_channel, headlines_in, report, titles
from tests.integration.test_alert_policy_e2e import CORROBORATING, MATCHING, RULES


@pytest.mark.integration
def test_commentary_does_not_open_an_alert_and_an_event_report_does(world: World) -> None:
    """With the default policy an analysis and a live-page teaser queue nothing; the event report that
    follows is alerted at once."""
    with webhook_receiver() as ops:
        config = world.configure(f"  ops: {{url: '{ops.json_url()}'}}\n", "[ops]")
        with world.deps(config) as deps:
            world.publish("Analysis: " + report(1, "Zetaland", "shelling"))
            world.publish(report(2, "Zetaland", "shelling") + " – live")
            assert pipeline.run_cycle(deps, only_due=False)
            assert world.statuses("ops") == []
            world.publish(report(3, "Zetaland", "shelling"))
            assert pipeline.run_cycle(deps, only_due=False)
            [post] = ops.requests.wait_for(1)
            assert "Report 3" in post.json()["title"]
            assert len(world.statuses("ops")) == 1


@pytest.mark.integration
def test_events_only_false_alerts_on_commentary(world: World) -> None:
    """alerts.defaults.events_only: false restores the first alert on a matching analysis piece."""
    with webhook_receiver() as ops:
        config = world.configure(
            f"  ops: {{url: '{ops.json_url()}'}}\n", "[ops]", "alerts: {defaults: {events_only: false}}\n"
        )
        with world.deps(config) as deps:
            world.publish("Analysis: " + report(1, "Zetaland", "shelling"))
            assert pipeline.run_cycle(deps, only_due=False)
            assert ["Report 1" in t for t in titles(ops.requests.wait_for(1))] == [True]


@pytest.mark.integration
def test_commentary_reaches_digest_routes_only_and_once_per_story(world: World) -> None:
    """An analysis piece that opened no alert is held for the digest channel (one row per story, however
    many commentary items join), never sent to the immediate channel, and listed in the next digest.
    The event report that follows alerts the immediate channel and is folded into the same digest entry."""
    with webhook_receiver() as ops, webhook_receiver() as brief:
        config = world.configure(
            f"  ops: {{url: '{ops.json_url()}'}}\n" + digest_channel(brief.json_url()),
            "[ops, brief]",
            stories="{}",  # the shipped story settings: retellings of one report join its story
        )
        with world.deps(config) as deps:
            world.publish("Analysis: " + report(1, "Zetaland", "shelling"))
            world.publish("Analysis: " + report(1, "Zetaland", "shelling"))  # a reprint: the same story
            world.publish("Analysis: " + report(2, "Etaland", "truce talks"))
            assert pipeline.run_cycle(deps, only_due=False)
            assert world.statuses("ops") == []
            assert [s[:3] for s in world.statuses("brief")] == [("commentary", "held", "digest")] * 2
            world.publish(report(2, "Etaland", "truce talks"))
            assert pipeline.run_cycle(deps, only_due=False)
            [post] = ops.requests.wait_for(1)
            assert "Report 2" in post.json()["title"]
            world.at(deps.next_digest("brief", world.clock.now()))  # type: ignore[misc]
            assert pipeline.run_digest(deps, "brief")
            [digest] = brief.requests.wait_for(1)
            body = digest.json()["message"]
            assert sorted(headlines_in(body)) == [
                "Report 1: shelling in Zetaland near " + TOWNS[1],
                "Report 2: truce talks in Etaland near " + TOWNS[2],
            ]
            assert "Analysis: Report 1" in body and "Analysis: Report 2" not in body  # the event report shown
            assert "2 stories" in digest.json()["title"] + body
    assert len(ops.requests) == 1


# One event told three ways (written for these tests): a report that names the watched place and another
# outlet's report that does not (from the corroboration test), and an analysis piece that does.
ANALYSIS = (
    "Analysis: why artillery shelling hit Amberfield market in Zetaland",
    "The shelling that killed four traders at the Amberfield market shows how far Zetaland's artillery "
    "duel has moved west, and why the governor fears more strikes on the town.",
)


def publish(world: World, path: str, items: list[tuple[str, str]]) -> None:
    """Serve `items` (title, summary), published now, as the RSS feed at `path`."""
    date = format_datetime(world.clock.now())
    body = "".join(
        f"<item><guid>{path}{n}</guid><title>{title}</title><description>{summary}</description>"
        f"<link>https://news.example{path}/{n}</link><pubDate>{date}</pubDate></item>"
        for n, (title, summary) in enumerate(items)
    )
    world.feeds.put(
        path, f'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>{body}</channel></rss>'
    )


def two_outlets(world: World, hook_url: str, alerts: str = "") -> Config:
    (world.tmp / "rules").mkdir(exist_ok=True)
    (world.tmp / "rules" / "r.yaml").write_text(RULES, encoding="utf-8")
    publish(world, "/one.xml", [])
    publish(world, "/two.xml", [])
    (world.tmp / "monitor.yaml").write_text(
        f"database: '{world.database_url}'\n"
        "poll: {interval: 1m, allow_private_networks: true}\n"
        f"feeds:\n  - {{name: one, url: '{world.feeds.url('/one.xml')}'}}\n"
        f"  - {{name: two, url: '{world.feeds.url('/two.xml')}'}}\n"
        f"channels:\n  hook: {{url: '{hook_url}'}}\n"
        f"{alerts}rules: [rules/*.yaml]\n",
        encoding="utf-8",
    )
    return load_config(world.tmp / "monitor.yaml")


def stories(world: World) -> int:
    engine = sqlalchemy.create_engine(world.database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(sqlalchemy.text("SELECT COUNT(DISTINCT story_id) FROM story_item")).scalar()
            )
    finally:
        engine.dispose()


@pytest.mark.integration
@pytest.mark.parametrize(
    ("alerts", "first", "second", "shown"),
    [
        # an event report waits for a second source; an analysis from another outlet completes the count:
        # the story has its event report, so it alerts, showing that report
        ("alerts: {defaults: {min_sources: 2}}\n", MATCHING, ANALYSIS, MATCHING),
        # an event report that does not name the place, then matching commentary: the story has an event
        # report, so the commentary's match alerts
        ("", CORROBORATING, ANALYSIS, ANALYSIS),
        # matching commentary waits; the event report that joins (not naming the place) opens the alert
        # and is what it shows
        ("", ANALYSIS, CORROBORATING, CORROBORATING),
    ],
    ids=["sources-completed-by-commentary", "event-then-commentary", "commentary-then-event"],
)
def test_commentary_waits_only_while_its_story_has_no_event_report(
    world: World, alerts: str, first: tuple[str, str], second: tuple[str, str], shown: tuple[str, str]
) -> None:
    """The events_only hold asks the story, not the item: once any event report has joined (matching
    the watch or not), matching commentary no longer holds the first alert back, and the alert shows
    the story's event report when the item that opened it did not match the watch."""
    with webhook_receiver() as hook:
        config = two_outlets(world, hook.json_url(), alerts)
        with wiring.dependencies(config, clock=world.clock) as deps:
            publish(world, "/one.xml", [first])
            assert pipeline.run_cycle(deps, only_due=False)
            assert world.statuses("hook") == []
            publish(world, "/two.xml", [second])
            assert pipeline.run_cycle(deps, only_due=False)
            [post] = hook.requests.wait_for(1)
        assert titles([post]) == [f"[ESCALATION] Zetaland: {shown[0]}"]
        assert stories(world) == 1, "precondition: both reports joined one story"
