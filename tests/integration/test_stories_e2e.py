"""Stories end to end: four outlets, one alert; a real development, one threaded update; a restart after
SIGKILL, nothing repeated; a different strike on the same city the next day, a new story.

Real parts on loopback: an HTTP server with four feeds, aiosmtpd, a webhook receiver, a SQLite file, and
the `news-monitor` program in subprocesses. The item texts are written for this test.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from monitor.stories.clusterer import StoryClusterer, StoryDoc
from tests.helpers.feed_server import FeedServer, feed_server
from tests.helpers.servers import SmtpServer, WebhookReceiver, smtp_server, webhook_receiver

REPO = Path(__file__).resolve().parents[2]

# (guid, pubDate, title, summary): one shelling of Stepanakert told three ways, and a wire reprint.
WIRE_FIRST = (
    "wire-1",
    "Sun, 27 Sep 2020 10:00:00 GMT",
    "Azerbaijani artillery pounds Stepanakert as Karabakh fighting flares",
    "Shells fell on residential districts of Stepanakert on Sunday, officials in Nagorno-Karabakh said, as "
    "Armenian and Azerbaijani forces traded fire along the front line.",
)
DESK = (
    "desk-1",
    "Sun, 27 Sep 2020 10:20:00 GMT",
    "Stepanakert comes under heavy shelling, Karabakh authorities say",
    "The capital of Nagorno-Karabakh was shelled overnight; Armenia accused Azerbaijan of targeting civilians "
    "while Baku said it was responding to Armenian fire.",
)
DAILY = (
    "daily-1",
    "Sun, 27 Sep 2020 10:40:00 GMT",
    "Karabakh capital Stepanakert hit by Azerbaijani shelling",
    "Residents of Stepanakert sheltered in basements after Azerbaijani artillery struck the city, local "
    "officials in Nagorno-Karabakh reported.",
)
REPRINT = ("metro-77", "Sun, 27 Sep 2020 10:50:00 GMT", WIRE_FIRST[2], WIRE_FIRST[3])
# The same story develops: casualties and martial law (severity high -> critical).
WIRE_UPDATE = (
    "wire-2",
    "Sun, 27 Sep 2020 16:00:00 GMT",
    "Stepanakert shelling kills civilians; Armenia declares martial law",
    "At least twelve civilians were killed in Stepanakert as Azerbaijani artillery kept shelling the city; "
    "Yerevan declared martial law and a general mobilisation.",
)
# A different event the next day in the same city.
DESK_NEXT_DAY = (
    "desk-2",
    "Mon, 28 Sep 2020 12:00:00 GMT",
    "Drone strike destroys power station near Stepanakert",
    "An Azerbaijani drone hit a power station outside Stepanakert on Monday, cutting electricity to parts of "
    "Nagorno-Karabakh, Armenian officials said.",
)
OUTLETS = {
    "wire": "Caucasus Wire",
    "desk": "Regional Desk",
    "daily": "Daily Courier",
    "metro": "Metro Reprints",
}


def rss(title: str, slug: str, items: list[tuple[str, str, str, str]], base: str) -> str:
    entries = "".join(
        f"<item><guid>{guid}</guid><title>{headline}</title><description>{summary}</description>"
        f"<link>{base}/{slug}/{guid}?utm_source=rss&amp;at_medium=feed</link><pubDate>{date}</pubDate></item>"
        for guid, date, headline, summary in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>{entries}</channel></rss>'


@dataclass
class Env:
    feeds: FeedServer
    smtp: SmtpServer
    webhook: WebhookReceiver
    config: Path

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "monitor", "--log-format", "json", *args, "-c", str(self.config)]

    def run_once(self) -> list[dict[str, object]]:
        result = subprocess.run(
            self.command("run", "--once"),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=os.environ,
        )
        assert result.returncode == 0, result.stderr + result.stdout
        return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]

    def received(self, events: list[dict[str, object]]) -> str:
        """What arrived and what the run logged, for an assertion message that explains a miscount."""
        subjects = [str(m["Subject"]) for m in self.smtp.messages]
        titles = [r.json().get("title") for r in self.webhook.requests]
        return f"emails {subjects}; posts {titles}; events {events}"

    def put(self, slug: str, items: list[tuple[str, str, str, str]]) -> None:
        self.feeds.put(f"/{slug}.rss", rss(OUTLETS[slug], slug, items, self.feeds.url("")))


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with feed_server() as feeds, smtp_server() as smtp, webhook_receiver() as webhook:
        (tmp_path / "watch.yaml").write_text(
            "watches:\n"
            "  - name: karabakh-ops\n"
            "    label: Nagorno-Karabakh\n"
            "    query: '@karabakh OR (@armenia AND @azerbaijan)'\n"
            "    topics: [ceasefire, escalation]\n"
            "    notify: [email, hook]\n",
            encoding="utf-8",
        )
        config = tmp_path / "monitor.yaml"
        config.write_text(
            "database: sqlite:///state/monitor.db\n"
            "poll: {interval: 1s, timeout: 10s, allow_private_networks: true}\n"  # the daemon polls at once
            "feeds:\n"
            + "".join(f"  - {{name: {slug}, url: '{feeds.url(f'/{slug}.rss')}'}}\n" for slug in OUTLETS)
            + f"channels:\n  console: {{url: 'console://'}}\n  email: {{url: '{smtp.mailto_url()}'}}\n"
            f"  hook: {{url: '{webhook.json_url('/alerts')}'}}\n"
            "alerts: {defaults: {max_age: 10000d}}\n"  # the items are dated 2020: not a backlog here (see test_alert_policy_e2e)
            f"rules: ['{REPO}/config/rules/*.yaml', 'watch.yaml']\n",
            encoding="utf-8",
        )
        environment = Env(feeds, smtp, webhook, config)
        environment.put("wire", [WIRE_FIRST])
        environment.put("desk", [DESK])
        environment.put("daily", [DAILY])
        environment.put("metro", [REPRINT])
        yield environment


@pytest.mark.integration
def test_one_alert_per_story_one_threaded_update_no_repeat_after_kill_new_story_next_day(env: Env) -> None:
    """Four outlets give one alert naming all of them; martial law gives one threaded update; a SIGKILLed and
    restarted daemon repeats nothing; another strike on the same city the next day is a new story."""
    # a fixed arrival order: desk founds the story, and the reprint is stored before the wire it copies
    env.feeds.delays.update({"/daily.rss": 0.5, "/metro.rss": 1.0, "/wire.rss": 1.5})
    events = env.run_once()
    env.feeds.delays.clear()
    assert len(env.smtp.messages) == 1 and len(env.webhook.requests) == 1, env.received(events)
    [first] = env.smtp.messages
    assert str(first["Subject"]).startswith("[ESCALATION] Nagorno-Karabakh: ")
    body = first.part("text/plain") or ""
    for outlet in OUTLETS.values():
        assert outlet in body, outlet
    assert body.count("(reprint)") == 1 and "Also reported by (3)" in body
    assert "utm_source" not in body and "at_medium" not in body
    first_id = str(first["Message-ID"])
    assert first_id.startswith("<story-") and first["In-Reply-To"] is None
    created = [e for e in events if e["event"] == "story.created"]
    assert len(created) == 1
    decided = [e for e in events if e["event"] == "alert.decided" and e["watch"] == "karabakh-ops"]
    assert [e["decision"] for e in decided] == ["first", "none", "none", "none"]

    # The story develops: casualties and martial law raise the severity -> exactly one update, threaded.
    env.put("wire", [WIRE_FIRST, WIRE_UPDATE])
    events = env.run_once()
    assert len(env.smtp.messages) == 2 and len(env.webhook.requests) == 2, env.received(events)
    update = env.smtp.messages[1]
    assert str(update["Subject"]).startswith(
        "[UPDATE] [ESCALATION] Nagorno-Karabakh: Stepanakert shelling kills"
    )
    assert str(update["In-Reply-To"]) == first_id
    assert first_id in str(update["References"])
    assert str(update["Message-ID"]) != first_id
    assert "severity rose from high to critical" in (update.part("text/plain") or "")
    assert env.webhook.requests[1].json()["title"].startswith("[UPDATE] ")

    # The daemon is killed with SIGKILL after a full poll and started again: nothing is sent twice.
    daemon = subprocess.Popen(
        env.command("run"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    polled = threading.Event()

    def watch_log() -> None:
        assert daemon.stdout is not None
        for line in daemon.stdout:
            if line.startswith("{") and json.loads(line)["event"] == "poll.completed":
                polled.set()

    reader = threading.Thread(target=watch_log, daemon=True)
    reader.start()
    try:
        assert polled.wait(timeout=60), "the daemon never completed a poll"
    finally:
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(timeout=30)
        reader.join(timeout=10)
    assert daemon.returncode == -signal.SIGKILL
    events = env.run_once()
    assert len(env.smtp.messages) == 2 and len(env.webhook.requests) == 2, env.received(events)

    # Next day, a different strike on the same city: a new story with its own first alert.
    env.put("desk", [DESK, DESK_NEXT_DAY])
    events = env.run_once()
    assert len(env.smtp.messages) == 3, env.received(events)
    third = env.smtp.messages[2]
    assert str(third["Subject"]).startswith(
        "[ESCALATION] Nagorno-Karabakh: Drone strike destroys power station"
    )
    assert third["In-Reply-To"] is None and str(third["Message-ID"]) not in (
        first_id,
        str(update["Message-ID"]),
    )
    assert [e["event"] for e in events].count("story.created") == 1

    listing = subprocess.run(
        env.command("stories", "--json"), capture_output=True, text=True, timeout=60, check=True
    )
    stories = [json.loads(line) for line in listing.stdout.splitlines()]
    by_size = sorted(stories, key=lambda s: s["items"])
    assert [s["items"] for s in by_size] == [1, 5]
    big = by_size[1]
    assert big["sources"] == 3  # wire, desk, daily; the reprint does not count
    assert {o["name"] for o in big["outlets"]} == set(OUTLETS.values())
    # the reprint was stored before the wire report it copies, yet the later-published copy is the reprint
    assert [o["name"] for o in big["outlets"] if o["reprint"]] == [OUTLETS["metro"]]
    assert [(a["kind"], a["channel"]) for a in big["alerts"] if a["watch"] == "karabakh-ops"] == [
        ("first", "email"),
        ("first", "hook"),
        ("update", "email"),
        ("update", "hook"),
    ]


@pytest.mark.parametrize("order", list(itertools.permutations(["wire", "desk", "daily", "metro"])))
def test_in_every_arrival_order_the_four_reports_make_one_story_and_the_next_day_strike_another(
    order: tuple[str, ...],
) -> None:
    """The daemon's feeds finish in any order; the clustering of this scenario must not depend on it."""
    first = {"wire": WIRE_FIRST, "desk": DESK, "daily": DAILY, "metro": REPRINT}
    clusterer = StoryClusterer()
    stories: dict[str, str] = {}
    for outlet, (guid, date, title, summary) in [
        *((slug, first[slug]) for slug in order),
        ("wire", WIRE_UPDATE),
        ("desk", DESK_NEXT_DAY),
    ]:
        doc = StoryDoc(guid, title, summary, outlet, None, parsedate_to_datetime(date))
        stories[guid] = clusterer.assign(doc).story
    assert len({stories[guid] for guid in ("wire-1", "desk-1", "daily-1", "metro-77", "wire-2")}) == 1
    assert stories["desk-2"] == "desk-2"
