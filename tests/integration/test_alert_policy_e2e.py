"""The alert policy's guards end to end, with real parts on loopback (a feed server, a webhook receiver, a
SQLite file or PostgreSQL): an old backlog item never alerts, and a corroborated story's alert shows the
report that matched the watch. The item texts are written for these tests."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

import pytest
import sqlalchemy

from monitor import pipeline
from monitor.config import load_config
from monitor.runtime import wiring
from tests.helpers.servers import webhook_receiver
from tests.integration.routing_world import World, report, titles


def scalar(database_url: str, sql: str) -> object:
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sqlalchemy.text(sql)).scalar()
    finally:
        engine.dispose()


@pytest.mark.integration
def test_an_item_first_seen_long_after_it_was_published_joins_its_story_but_never_alerts(
    world: World,
) -> None:
    """A feed's day-old item (older than alerts.max_age, 24 h by default) is stored and clustered but sends
    nothing; a fresh item on the same feed alerts as usual."""
    with webhook_receiver() as hook:
        config = world.configure(f"  hook: {{url: '{hook.json_url()}'}}\n", "[hook]")
        world.publish(report(1, "Zetaland", "shelling"))
        world.at(world.clock.now() + timedelta(hours=30))
        with world.deps(config) as deps:
            assert pipeline.run_cycle(deps, only_due=False)
            assert world.statuses("hook") == []
            assert scalar(world.database_url, "SELECT COUNT(*) FROM story_item") == 1, "it joined a story"
            world.publish(report(2, "Zetaland", "shelling"))
            assert pipeline.run_cycle(deps, only_due=False)
            [post] = hook.requests.wait_for(1)
            assert "Report 2" in post.json()["title"]


RULES = """\
entities:
  zeta: {label: Zetaland, aliases: [Zetaland]}
topics:
  escalation: {query: shelling OR artillery, severity: high}
watches:
  - {name: zeta, label: Zetaland, query: '@zeta', topics: [escalation], notify: [hook]}
"""

MATCHING = (
    "Artillery shelling hits Amberfield market in Zetaland",
    "Heavy artillery shelling struck the crowded market of Amberfield in Zetaland on Monday morning, "
    "killing four traders, the regional governor said.",
)
# the same event from another outlet, in other words, without the name the watch looks for
CORROBORATING = (
    "Four traders killed as shells strike Amberfield market",
    "Shells struck the Amberfield market on Monday morning and four traders were killed, according to "
    "the regional governor, who called it the heaviest shelling of the town.",
)


@pytest.mark.integration
def test_a_corroborated_alert_shows_the_report_that_matched_the_watch(world: World) -> None:
    """With min_sources 2, the second outlet's report completes the story; the alert is about the story
    the watch matched, so it shows the first outlet's matching report, not the corroborating one. The
    corroborating report is published after the first cycle, so it is always the one handled last."""
    feeds = world.feeds

    def put(path: str, item: tuple[str, str] | None) -> None:
        entry = ""
        if item is not None:
            title, summary = item
            entry = (
                f"<item><guid>{path}</guid><title>{title}</title><description>{summary}</description>"
                f"<link>https://news.example{path}</link><pubDate>{format_datetime(world.clock.now())}</pubDate>"
                "</item>"
            )
        feeds.put(
            path,
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{entry}</channel></rss>',
        )

    put("/a.xml", MATCHING)
    put("/b.xml", None)
    with webhook_receiver() as hook:
        (world.tmp / "rules").mkdir()
        (world.tmp / "rules" / "r.yaml").write_text(RULES, encoding="utf-8")
        (world.tmp / "monitor.yaml").write_text(
            f"database: '{world.database_url}'\n"
            "poll: {interval: 1m, allow_private_networks: true}\n"
            f"feeds:\n  - {{name: one, url: '{feeds.url('/a.xml')}'}}\n"
            f"  - {{name: two, url: '{feeds.url('/b.xml')}'}}\n"
            f"channels:\n  hook: {{url: '{hook.json_url()}'}}\n"
            "alerts: {defaults: {min_sources: 2}}\n"
            "rules: [rules/*.yaml]\n",
            encoding="utf-8",
        )
        config = load_config(world.tmp / "monitor.yaml")
        with wiring.dependencies(config, clock=world.clock) as deps:
            assert pipeline.run_cycle(deps, only_due=False)
            assert world.statuses("hook") == [], "one source: the first alert waits"
            world.at(world.clock.now() + timedelta(minutes=5))
            put("/b.xml", CORROBORATING)
            assert pipeline.run_cycle(deps, only_due=False)
            [post] = hook.requests.wait_for(1)
        assert titles([post]) == [f"[ESCALATION] Zetaland: {MATCHING[0]}"]
        one_story = scalar(world.database_url, "SELECT COUNT(DISTINCT story_id) FROM story_item") == 1
        assert one_story, "precondition: both reports joined one story"


@pytest.mark.integration
def test_a_busy_watch_sends_its_third_story_of_the_day_only_when_critical(world: World) -> None:
    """busy.after 2: two single-source stories alert at once; the third (high) waits for a second source,
    the fourth (critical: a missile strike) is never held; the next day the count has run out."""
    with webhook_receiver() as hook:
        config = world.configure(
            f"  hook: {{url: '{hook.json_url()}'}}\n", "[hook]", "alerts: {defaults: {busy: {after: 2}}}\n"
        )
        with world.deps(config) as deps:
            for n, event in enumerate(["shelling", "shelling", "shelling", "missile strike"], 1):
                world.publish(report(n, "Zetaland", event))
                world.at(world.clock.now() + timedelta(minutes=10))
            assert pipeline.run_cycle(deps, only_due=False)
            numbers = [t.split(":")[1].split()[1] for t in titles(hook.requests.wait_for(3))]
            assert numbers == ["1", "2", "4"]
            world.at(world.clock.now() + timedelta(hours=25))
            world.publish(report(5, "Zetaland", "shelling"))
            assert pipeline.run_cycle(deps, only_due=False)
            assert "Report 5" in titles(hook.requests.wait_for(4))[3]
