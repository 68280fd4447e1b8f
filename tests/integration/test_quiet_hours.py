"""Quiet hours end to end, in the channel's time zone: non-critical alerts wait for their end, a digest due
during them goes out when they end, and a critical alert is never held. Real parts as in test_digests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor import pipeline
from tests.helpers.servers import smtp_server, webhook_receiver
from tests.integration.routing_world import (
    IN_BERLIN,
    QUIET,
    World,
    digest_channel,
    headlines_in,
    report,
)


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
