"""`news-monitor run` as a daemon: polls on its own, alerts, survives an unreachable feed, stops on SIGTERM."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
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
    assert "daemon.signalled" in names and "poll.completed" in names
    dead = [e for e in events if e["event"] == "feed.failed"]
    assert len(dead) == 1 and dead[0]["feed"] == "dead" and dead[0]["transient"] is True
    assert "Stepanakert" in webhook.requests[0].json()["title"]


SECOND_ITEM = (
    "<item><guid>d-2</guid><title>Nagorno-Karabakh: Yerevan declares martial law and calls up reservists</title>"
    "<link>https://wire.example.org/d-2</link></item>"
)


def _events(proc: subprocess.Popen[str], sink: queue.Queue[dict[str, object]]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("{"):
            sink.put(json.loads(line))


def _next_event(sink: queue.Queue[dict[str, object]], name: str, timeout: float = 60) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        event = sink.get(timeout=max(0.1, deadline - time.monotonic()))
        if event["event"] == name:
            return event


@pytest.mark.integration
def test_sighup_reloads_a_valid_config_and_keeps_the_old_one_when_the_new_one_is_broken(
    tmp_path: Path,
) -> None:
    """A broken config on SIGHUP is reported and ignored; a fixed one is applied (its new feed alerts)."""
    with feed_server() as feeds, webhook_receiver() as webhook:
        feeds.put(
            "/a.xml",
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>A</title>{ITEM}</channel></rss>',
        )
        feeds.put(
            "/b.xml",
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>B</title>{SECOND_ITEM}</channel></rss>',
        )
        repo = Path(__file__).resolve().parents[2]
        (tmp_path / "watch.yaml").write_text(
            "watches:\n  - {name: k, query: '@karabakh', topics: [ceasefire, escalation], notify: [hook]}\n",
            encoding="utf-8",
        )
        head = (
            "database: sqlite:///monitor.db\n"
            "poll: {interval: 1h, timeout: 5s, allow_private_networks: true}\n"
            f"channels:\n  console: {{url: 'console://'}}\n  hook: {{url: '{webhook.json_url('/d')}'}}\n"
            f"rules: ['{repo}/config/rules/karabakh.yaml', '{repo}/config/rules/conflict.yaml', 'watch.yaml']\n"
            f"feeds:\n  - {{name: a, url: '{feeds.url('/a.xml')}'}}\n"
        )
        config = tmp_path / "monitor.yaml"
        config.write_text(head, encoding="utf-8")
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--log-format", "json", "run", "-c", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        sink: queue.Queue[dict[str, object]] = queue.Queue()
        threading.Thread(target=_events, args=(proc, sink), daemon=True).start()
        try:
            webhook.requests.wait_for(1, timeout=60)
            config.write_text(head + "  - {name: b, url: 42, intervl: 5m}\n", encoding="utf-8")
            proc.send_signal(signal.SIGHUP)
            failed = _next_event(sink, "config.reload_failed")
            _next_event(sink, "daemon.started")
            config.write_text(head + f"  - {{name: b, url: '{feeds.url('/b.xml')}'}}\n", encoding="utf-8")
            proc.send_signal(signal.SIGHUP)
            _next_event(sink, "config.reloaded")
            webhook.requests.wait_for(2, timeout=60)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    assert proc.returncode == 0
    assert any("intervl" in p and "did you mean 'interval'" in p for p in failed["problems"])
    assert "calls up reservists" in webhook.requests[1].json()["title"]
