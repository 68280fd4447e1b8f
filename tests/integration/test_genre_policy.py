"""Event reports before commentary, end to end: the daemon's own poll → match → story → policy → outbox on a
loopback feed, a SQLite (or PostgreSQL) database and a webhook receiver. Headlines are written for this test."""

from __future__ import annotations

import pytest

from monitor import pipeline
from tests.helpers.servers import webhook_receiver
from tests.integration.routing_world import World, report, titles


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
