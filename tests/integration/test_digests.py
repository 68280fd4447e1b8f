"""Digests end to end: a channel's cron folds held alerts into one message, a missed or unschedulable digest
still goes out, folding is crash safe, and the daemon registers and runs the digest jobs. Real parts: a
feed server, a webhook receiver and aiosmtpd on loopback, the real Apprise channels, and a SQLite file or
PostgreSQL (`database_url`). The item texts are written for this test.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from monitor import cli, pipeline
from monitor.alerts.routing import Disposition
from monitor.db.records import NewItem
from monitor.match import MatchResult, WatchHit
from monitor.pipeline.deliver import notify_operator
from monitor.pipeline.messages import digest_of
from monitor.pipeline.release import fold_digest
from monitor.render.digest import render_digest
from monitor.runtime import daemon, digests
from tests.helpers.servers import webhook_receiver
from tests.integration.routing_world import (
    BERLIN,
    IN_BERLIN,
    QUIET,
    World,
    digest_channel,
    headlines_in,
    report,
)


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
