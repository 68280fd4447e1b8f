"""Event reports before commentary, end to end: the daemon's own poll → match → story → policy → outbox on a
loopback feed, a SQLite (or PostgreSQL) database and a webhook receiver. Headlines are written for this test."""

from __future__ import annotations

import pytest

from monitor import pipeline
from tests.helpers.servers import webhook_receiver
from tests.integration.routing_world import TOWNS, World, digest_channel, headlines_in, report, titles


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
