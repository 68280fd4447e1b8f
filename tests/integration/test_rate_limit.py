"""A channel's rate limit end to end: alerts beyond it arrive in a digest, none is dropped."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

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
            f"  hook: {{url: '{hook.json_url()}', rate_limit: {{max: 3, per: 1h}}{digest}}}\n",
            "[hook]",
            "alerts: {defaults: {busy: null}}\n",  # one wire, many stories: the channel's limit is under test
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
