"""Watch routes end to end: severity and topic filters on the channel and on the watch's notify entry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor import pipeline
from tests.helpers.servers import webhook_receiver
from tests.integration.routing_world import (
    World,
    headlines_in,
    report,
    titles,
)


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
