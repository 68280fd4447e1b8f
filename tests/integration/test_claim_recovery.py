"""A daemon SIGKILLed with a send in flight: the restarted daemon releases that outbox row at once (its
process is gone) instead of leaving the channel silent for the claim lease, and a message whose send kills
the daemon every time is dead-lettered after max_attempts, with the reason, so the channel's later alerts
go out.

Real parts on loopback: an HTTP feed server, a webhook receiver that holds chosen requests unanswered
until the test has killed the daemon, a SQLite file, and `news-monitor run` in a subprocess with the
default claim lease. The item texts are written for this test.
"""

from __future__ import annotations

import contextlib
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from monitor.config.schema import DeliverySettings
from tests.helpers.daemon import Daemon, start_daemon
from tests.helpers.feed_server import FeedServer, feed_server
from tests.helpers.servers import Collector, ReceivedRequest, webhook_receiver

LEASE = DeliverySettings().claim_lease  # the default: the tests must finish well inside it
WITHIN = 20.0  # seconds: "at once", against a lease of a minute
# Three unrelated events sharing no word, so they are three stories (three alerts) whatever the story
# clustering weighs; each is named by its place.
RULES = """\
entities:
  zeta: {label: Zetaland, aliases: [Zetaland]}
  eta: {label: Etaland, aliases: [Etaland]}
  theta: {label: Thetaland, aliases: [Thetaland]}
topics:
  escalation: {query: 'shelling OR airstrike OR bombardment', severity: high}
watches:
  - {name: war, query: '@zeta OR @eta OR @theta', topics: [escalation], notify: [hook]}
"""
ITEMS = [
    ("Amberfield", "Shelling hits Amberfield harbour, Zetaland", "Cranes burned before dawn."),
    ("Coldwater", "Airstrike destroys Coldwater bridge in Etaland", "River crossing collapsed at noon."),
    ("Dunmore", "Bombardment empties Dunmore villages, Thetaland", "Families walked toward distant camps."),
]
PLACES = [place for place, _title, _summary in ITEMS]


@dataclass
class HoldingReceiver:
    """Records the place named in every webhook POST's title; a POST about a place in `hold` gets no
    answer until the test ends, so the daemon sending it is killed with the send in flight."""

    url: str
    titles: Collector[str] = field(default_factory=Collector)
    hold: set[str] = field(default_factory=set)
    released: threading.Event = field(default_factory=threading.Event)


@contextlib.contextmanager
def holding_receiver() -> Iterator[HoldingReceiver]:
    receiver = HoldingReceiver("")

    def hold(request: ReceivedRequest) -> None:
        title = str(request.json().get("title", ""))
        token = next((place for place in PLACES if place in title), title)
        receiver.titles.append(token)
        if token in receiver.hold:
            receiver.released.wait(timeout=2 * LEASE.total_seconds())

    with webhook_receiver(on_request=hold) as hook:
        receiver.url = hook.json_url("/alerts")
        try:
            yield receiver
        finally:
            receiver.released.set()


@dataclass
class Setup:
    tmp: Path
    hook: HoldingReceiver
    feeds: FeedServer
    started: list[Daemon] = field(default_factory=list)  # killed at teardown if a test failed midway

    def start(self) -> Daemon:
        daemon = start_daemon(self.tmp / "monitor.yaml", stderr=self.tmp / "daemon.err")
        self.started.append(daemon)
        return daemon

    def kill(self, daemon: Daemon) -> None:
        assert daemon.kill() == -signal.SIGKILL, daemon.stderr()[-3000:]

    def rows(self) -> list[tuple[str, int, int, str | None]]:
        """(status, attempts, interrupted, claimed_by) of every outbox row, in decision order."""
        with contextlib.closing(sqlite3.connect(self.tmp / "monitor.db", timeout=30)) as conn:
            return conn.execute(
                "SELECT status, attempts, interrupted, claimed_by FROM delivery ORDER BY id"
            ).fetchall()


@pytest.fixture
def setup(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Setup]:
    delivery = getattr(request, "param", "")
    with feed_server() as feeds, holding_receiver() as hook:
        start = datetime.now(UTC) - timedelta(hours=1)
        feeds.put(
            "/rss.xml",
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
            + "".join(
                f"<item><guid>g{n}</guid><title>{title}</title><description>{summary}</description>"
                f"<link>https://news.example/{n}</link>"
                f"<pubDate>{format_datetime(start + timedelta(minutes=n), usegmt=True)}</pubDate></item>"
                for n, (_place, title, summary) in enumerate(ITEMS)
            )
            + "</channel></rss>",
        )
        (tmp_path / "rules").mkdir()
        (tmp_path / "rules" / "zeta.yaml").write_text(RULES, encoding="utf-8")
        (tmp_path / "monitor.yaml").write_text(
            "database: sqlite:///monitor.db\n"
            "poll: {interval: 0.2s, tick: 0.2s, timeout: 5s, allow_private_networks: true}\n"
            f"feeds:\n  - {{name: wire, url: '{feeds.url('/rss.xml')}'}}\n"
            "stories: {similarity: 1.0, copy_similarity: 1.0}\n"  # every item its own story
            f"channels:\n  hook: {{url: '{hook.url}'}}\n"
            f"{delivery}"
            "rules: [rules/*.yaml]\n",
            encoding="utf-8",
        )
        rig = Setup(tmp_path, hook, feeds)
        try:
            yield rig
        finally:
            for daemon in rig.started:
                daemon.kill()


@pytest.mark.integration
def test_a_send_cut_short_by_sigkill_goes_out_at_once_after_the_restart(setup: Setup) -> None:
    """Killed while the first alert's POST hangs, the daemon leaves that row claimed for the lease (a
    minute); the restarted daemon logs one recovered claim and sends it and the two alerts queued behind
    it within seconds, in order, so the one in flight arrives twice and nothing else repeats."""
    assert timedelta(seconds=3 * WITHIN) <= LEASE  # so "within WITHIN" cannot be the lease ending
    setup.hook.hold.add("Amberfield")
    first = setup.start()
    setup.hook.titles.wait_for(1, timeout=30)
    setup.kill(first)
    rows = setup.rows()
    assert [r[:3] for r in rows] == [("pending", 1, 0), ("pending", 0, 0), ("pending", 0, 0)]
    assert rows[0][3] is not None and f"/{first.proc.pid}/" in rows[0][3]  # claimed by the killed process

    setup.hook.hold.clear()
    restarted_at = time.monotonic()
    second = setup.start()
    try:
        started = second.wait_event("daemon.started", timeout=30)  # recovery runs before it
        assert started is not None, second.stderr()[-3000:]
        assert [e.get("count") for e in second.events if e["event"] == "delivery.claim_recovered"] == [1]
        titles = setup.hook.titles.wait_for(4, timeout=WITHIN)
        took = time.monotonic() - restarted_at
    finally:
        assert second.stop() == 0, second.stderr()[-3000:]
    assert titles == ["Amberfield", "Amberfield", "Coldwater", "Dunmore"]
    assert took < WITHIN
    assert setup.rows() == [("sent", 2, 1, None), ("sent", 1, 0, None), ("sent", 1, 0, None)]


@pytest.mark.integration
@pytest.mark.parametrize("setup", ["delivery: {max_attempts: 3}\n"], indirect=True)
def test_a_message_that_kills_the_daemon_on_every_send_is_dead_lettered_after_max_attempts(
    setup: Setup,
) -> None:
    """The first alert's send never completes and the daemon is killed during it, three times; each
    restart releases it at once and counts the attempt; the fourth run finds its three attempts used up,
    dead-letters it as 'the daemon stopped during the send 3 times' without sending it again, and then
    delivers the two alerts that waited behind it. `news-monitor outbox` shows the reason and 3 tries."""
    setup.hook.hold.add("Amberfield")  # the poison message
    for attempt in (1, 2, 3):
        daemon = setup.start()
        setup.hook.titles.wait_for(attempt, timeout=30)
        setup.kill(daemon)
        recovered = [e.get("count") for e in daemon.events if e["event"] == "delivery.claim_recovered"]
        assert recovered == ([] if attempt == 1 else [1])
        assert setup.rows()[0][:3] == ("pending", attempt, attempt - 1)
    last = setup.start()
    try:
        dead = last.wait_event("delivery.dead_lettered", timeout=30)
        assert dead is not None, last.stderr()[-3000:]
        titles = setup.hook.titles.wait_for(5, timeout=WITHIN)
    finally:
        assert last.stop() == 0, last.stderr()[-3000:]
    assert dead["reason"] == "the daemon stopped during the send 3 times"
    assert titles == ["Amberfield", "Amberfield", "Amberfield", "Coldwater", "Dunmore"]
    assert setup.rows() == [("dead", 3, 3, None), ("sent", 1, 0, None), ("sent", 1, 0, None)]
    listing = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "outbox",
            "--status",
            "dead",
            "-c",
            str(setup.tmp / "monitor.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    [row] = [line for line in listing.splitlines() if "stopped" in line]
    assert re.search(r"\bdead\s+3\s+-\s+the daemon stopped during the send 3 times$", row), listing
