"""The outbox end to end: an SMTP outage that delays no other channel and loses or repeats no email,
permanent failures dead-lettered once with one operator notice each, and channel secrets kept out of
every output. Real parts on loopback: a feed server, aiosmtpd, webhook receivers, a SQLite file, and the
`news-monitor` program in subprocesses. The item texts are written for this test.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from monitor import cli
from tests.helpers.feed_server import FeedServer, feed_server
from tests.helpers.servers import free_port, smtp_server, webhook_receiver

CANARY = "canary-5e1f0a9d7c3b"

RULES = """\
entities:
  zeta: {label: Zetaland, aliases: [Zetaland, Zetish]}
topics:
  escalation: {query: 'shelling OR artillery OR offensive', severity: high}
watches:
  - name: zeta
    label: Zetaland
    query: '@zeta'
    topics: [escalation]
    notify: [email, hook]
"""

# Twenty distinct events: the clustering thresholds are set to 1.0 below, so each is its own story.
PLACES = [
    "Amberfield", "Birchmoor", "Coldwater", "Dunmere", "Eastwick", "Foxhollow", "Glenrock", "Hawthorne",
    "Ironbridge", "Juniper", "Kingsreach", "Larkspur", "Millbrook", "Northgate", "Oakhurst", "Pinecrest",
    "Queensbay", "Ravenhill", "Stonecross", "Thornbury",
]  # fmt: skip


def item(n: int) -> tuple[str, str, str, str]:
    place = PLACES[n - 1]
    return (
        f"z-{n:02d}",
        f"Sun, 27 Sep 2020 {n // 2 + 1:02d}:{(n % 2) * 30:02d}:00 GMT",
        f"Report {n:02d}: artillery shelling hits {place} in Zetaland",
        f"Residents of {place} described the shelling as the heaviest since spring; item {n}.",
    )


def rss(items: list[tuple[str, str, str, str]], base: str) -> str:
    entries = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><description>{summary}</description>"
        f"<link>{base}/news/{guid}</link><pubDate>{date}</pubDate></item>"
        for guid, date, title, summary in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Zeta Wire</title>{entries}</channel></rss>'
    )


@dataclass
class Setup:
    tmp: Path
    feeds: FeedServer
    env: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.tmp / "monitor.yaml"

    @property
    def db(self) -> Path:
        return self.tmp / "monitor.db"

    def write(self, channels: dict[str, str], delivery: str = "") -> None:
        (self.tmp / "rules").mkdir(exist_ok=True)
        (self.tmp / "rules" / "zeta.yaml").write_text(RULES, encoding="utf-8")
        lines = "".join(f"  {name}: {{url: '{url}'}}\n" for name, url in channels.items())
        self.config.write_text(
            "database: sqlite:///monitor.db\n"
            "poll: {interval: 5m, timeout: 10s, allow_private_networks: true}\n"
            f"feeds:\n  - {{name: zeta-wire, url: '{self.feeds.url('/rss.xml')}'}}\n"
            "stories: {similarity: 1.0, copy_similarity: 1.0}\n"
            f"channels:\n{lines}"
            f"{delivery}"
            # the items are dated 2020 (not a backlog here) and come from one wire (not a busy watch)
            "alerts: {defaults: {max_age: 10000d, busy: null}}\n"
            "rules: [rules/*.yaml]\n",
            encoding="utf-8",
        )

    def publish(self, count: int) -> None:
        self.feeds.put("/rss.xml", rss([item(n) for n in range(1, count + 1)], self.feeds.url("")))

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "monitor", "--log-format", "json", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **self.env, "NEWS_MONITOR_CONFIG": str(self.config)},
            check=False,
        )

    def run_once(self) -> str:
        result = self.cli("--log-level", "DEBUG", "run", "--once")
        assert result.returncode == 0, result.stderr + result.stdout
        return result.stdout + result.stderr

    def rows(self) -> list[tuple[int, str, str, int]]:
        """(id, channel, status, attempts) of every outbox row, in decision order."""
        with sqlite3.connect(self.db) as conn:
            return conn.execute("SELECT id, channel, status, attempts FROM delivery ORDER BY id").fetchall()


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    with feed_server() as feeds:
        yield Setup(tmp_path, feeds)


def _report_numbers(titles: list[str]) -> list[int]:
    return [int(re.search(r"Report (\d+)", t)[1]) for t in titles]  # type: ignore[index]


@pytest.mark.integration
def test_smtp_outage_delays_no_other_channel_and_every_email_arrives_once_in_order(setup: Setup) -> None:
    """With the SMTP server down while 20 alerts are decided over two runs, the webhook receives each alert
    in the run that decided it; once SMTP is back, all 20 emails arrive in decision order, none twice."""
    smtp_port = free_port()  # nothing listens here yet: connection refused
    with webhook_receiver() as hook:
        mailto = f"mailto://alerts:pw@127.0.0.1:{smtp_port}?mode=insecure&from=m@example.org&to=o@example.org"
        setup.write({"email": mailto, "hook": hook.json_url()}, "delivery: {retry_base: 0s, retry_cap: 0s}\n")

        setup.publish(10)
        setup.run_once()
        assert _report_numbers([r.json()["title"] for r in hook.requests]) == list(range(1, 11))
        setup.publish(20)
        setup.run_once()
        assert _report_numbers([r.json()["title"] for r in hook.requests]) == list(range(1, 21))

        email_rows = [r for r in setup.rows() if r[1] == "email"]
        assert len(email_rows) == 20 and {r[2] for r in email_rows} == {"pending"}
        assert [r[3] for r in email_rows] == [2] + [0] * 19  # only the head was tried, once per run
        listing = setup.cli("outbox", "--status", "pending").stdout
        assert re.search(
            rf"^{email_rows[0][0]} +\S+ \S+ +email .* pending +2 .*refused", listing, re.M | re.I
        )

        with smtp_server(port=smtp_port) as smtp:
            setup.run_once()
            mails = smtp.messages.wait_for(20)
            assert _report_numbers([str(m["Subject"]) for m in mails]) == list(range(1, 21))
            setup.run_once()  # nothing is due any more: no email is sent twice
            assert len(smtp.messages) == 20 and len(hook.requests) == 20
    assert {r[2] for r in setup.rows()} == {"sent"}


@pytest.mark.integration
def test_permanent_failures_are_dead_lettered_once_with_one_operator_notice_each(setup: Setup) -> None:
    """A 535 SMTP login and a 404 webhook dead-letter every row after exactly one attempt, the operator
    channel gets one notice per dead row naming watch, channel, headline and reason, and a rerun sends
    nothing more."""
    with (
        smtp_server(reject_auth=True) as smtp,
        webhook_receiver(status=404) as hook,
        webhook_receiver() as operator,
    ):
        setup.write(
            {"email": smtp.mailto_url(), "hook": hook.json_url(), "ops": operator.json_url("/ops")},
            "delivery: {operator_channel: ops}\n",
        )
        setup.publish(3)
        setup.run_once()
        rows = setup.rows()
        assert [(r[1], r[2], r[3]) for r in rows] == [("email", "dead", 1), ("hook", "dead", 1)] * 3
        assert len(hook.requests) == 3
        notices = operator.requests.wait_for(6)
        assert len(notices) == 6
        for notice in notices:
            body = notice.json()["message"]
            assert "zeta" in body and "artillery shelling hits" in body
        by_channel = {
            channel: [n.json()["message"] for n in notices if f"Channel:  {channel}" in n.json()["message"]]
            for channel in ("email", "hook")
        }
        assert len(by_channel["email"]) == 3 and all("535" in m for m in by_channel["email"])
        assert len(by_channel["hook"]) == 3 and all("404" in m for m in by_channel["hook"])

        logins = len(smtp.logins)
        setup.run_once()
        assert (len(hook.requests), len(operator.requests), len(smtp.logins)) == (3, 6, logins)
        assert setup.rows() == rows

        dead = setup.cli("outbox", "--status", "dead").stdout
        assert len(re.findall(r" dead +1 ", dead)) == 6
        retried = setup.cli("outbox", "--retry", str(rows[1][0]))
        assert retried.returncode == 0 and "now pending" in retried.stdout
        assert setup.rows()[1][2:] == ("pending", 0)


@pytest.mark.integration
def test_channel_secrets_never_reach_help_logs_database_or_cli_output(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A canary token in channel URLs (SMTP password, webhook path and query) is used on the wire but
    never appears in any --help, the logs, the database file, `outbox` output or `test-channel` output."""
    setup.env["HOOK_SECRET"] = CANARY
    with smtp_server(reject_auth=True) as smtp, webhook_receiver(status=404) as hook:
        setup.write(
            {
                "email": smtp.mailto_url(password=CANARY),
                "hook": hook.json_url("/hooks/${HOOK_SECRET}", query=f"key={CANARY}"),
                "ops": hook.json_url("/ops/${HOOK_SECRET}"),
            },
            "delivery: {operator_channel: ops}\n",
        )
        setup.publish(2)
        outputs = [setup.run_once()]
        assert any(CANARY in r.path for r in hook.requests)  # the secret was really used
        for args in (["outbox", "--status", "all"], ["test-channel", "hook"], ["test-channel", "email"]):
            result = setup.cli(*args)
            outputs.append(result.stdout + result.stderr)
        test_hook, test_email = outputs[2], outputs[3]
        assert "hook: failed (permanent)" in test_hook and "404" in test_hook
        assert "email: failed (permanent)" in test_email and "535" in test_email
        assert "dead" in outputs[1]

    commands = ["run", "check-config", "match", "cluster", "stories", "test-channel", "outbox"]
    monkeypatch.setenv("HOOK_SECRET", CANARY)
    monkeypatch.setenv("NEWS_MONITOR_CONFIG", str(setup.config))
    for args in (["--help"], *([name, "--help"] for name in commands)):
        with pytest.raises(SystemExit) as exited:
            cli.main(args)
        assert exited.value.code == 0, args
        captured = capsys.readouterr()
        outputs.append(captured.out + captured.err)
    for output in outputs:
        assert CANARY not in output
    assert CANARY.encode() not in setup.db.read_bytes()
    for wal in setup.tmp.glob("monitor.db-*"):
        assert CANARY.encode() not in wal.read_bytes()


@pytest.mark.integration
def test_test_channel_reports_sent_and_suggests_names(setup: Setup) -> None:
    """`test-channel` sends one test message (exit 0), and an unknown name gets a did-you-mean (exit 2)."""
    with webhook_receiver() as hook:
        setup.write({"email": hook.json_url("/mail"), "hook": hook.json_url()})
        result = setup.cli("test-channel", "hook")
        assert (result.returncode, result.stdout.strip()) == (0, "hook: sent")
        [post] = hook.requests.wait_for(1)
        assert post.json()["title"] == "news-monitor test message"
        result = setup.cli("test-channel", "hoook")
        assert result.returncode == 2 and "did you mean 'hook'?" in result.stderr
