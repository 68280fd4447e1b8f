"""`news-monitor run` as a daemon: polls on its own, alerts, survives an unreachable feed, stops on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.feed_server import feed_server
from tests.helpers.servers import free_port, webhook_receiver

ITEM = (
    "<item><guid>d-1</guid><title>Artillery shells Stepanakert as Karabakh ceasefire collapses</title>"
    "<description>Armenia and Azerbaijan trade blame after the truce broke down overnight.</description>"
    "<link>https://wire.example.org/d-1</link></item>"
)


@pytest.mark.integration
def test_daemon_alerts_keeps_running_past_a_dead_feed_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """The daemon delivers an alert from the good feed, logs the unreachable one once, and exits 0 on SIGTERM."""
    with feed_server() as feeds, webhook_receiver() as webhook:
        feeds.put(
            "/rss.xml",
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>{ITEM}</channel></rss>',
        )
        config = tmp_path / "monitor.yaml"
        (tmp_path / "watch.yaml").write_text(
            "watches:\n  - {name: k, query: '@karabakh', topics: [ceasefire, escalation], notify: [hook]}\n",
            encoding="utf-8",
        )
        repo = Path(__file__).resolve().parents[2]
        config.write_text(
            "database: sqlite:///monitor.db\n"
            "poll: {interval: 1h, timeout: 5s, allow_private_networks: true}\n"
            f"feeds:\n  - {{name: good, url: '{feeds.url('/rss.xml')}'}}\n"
            f"  - {{name: dead, url: 'http://127.0.0.1:{free_port()}/rss'}}\n"
            f"channels:\n  console: {{url: 'console://'}}\n  hook: {{url: '{webhook.json_url('/d')}'}}\n"
            f"rules: ['{repo}/config/rules/*.yaml', 'watch.yaml']\n",
            encoding="utf-8",
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--log-format", "json", "run", "-c", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            webhook.requests.wait_for(1, timeout=60)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    names = [e["event"] for e in events]
    assert names[0] == "daemon.started" and names[-1] == "daemon.stopped"
    assert "daemon.stopping" in names and "poll.completed" in names
    dead = [e for e in events if e["event"] == "feed.failed"]
    assert len(dead) == 1 and dead[0]["feed"] == "dead" and dead[0]["transient"] is True
    assert "Stepanakert" in webhook.requests[0].json()["title"]
