"""A real SIGKILL between folding a digest and sending it: the `news-monitor run` daemon in a subprocess
is killed the moment it logs `digest.folded`, while its channel answers 503 (so it cannot have delivered
the digest before the kill lands); the restarted daemon, with the channel back, sends the digest, so
nothing is lost and it arrives at most twice. Real parts: feed server, webhook receiver, SQLite file."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

from tests.helpers.daemon import start_daemon, wait_until
from tests.helpers.feed_server import feed_server
from tests.helpers.servers import webhook_receiver

RULES = """\
entities:
  zeta: {label: Zetaland, aliases: [Zetaland]}
topics:
  escalation: {query: shelling, severity: high}
watches:
  - {name: zeta, query: '@zeta', topics: [escalation], notify: [brief]}
"""
ITEMS = [
    ("k1", "Report 1: shelling in Zetaland near Amberfield"),
    ("k2", "Report 2: shelling in Zetaland near Coldwater"),
]


@pytest.mark.integration
def test_sigkill_after_the_fold_commits_loses_nothing_and_sends_the_digest_at_most_twice(
    tmp_path: Path,
) -> None:
    """Held alerts whose digest time has passed are folded at the daemon's first tick; SIGKILL on that
    log line with the channel failing, so the digest is still pending after the kill; restart with the
    channel back: the restarted daemon sends the digest with both alerts, accepted once (twice at most,
    for a request in flight at the kill), and the outbox ends with one sent digest and no held row."""
    db = tmp_path / "monitor.db"
    with feed_server() as feeds, webhook_receiver() as hook:
        feeds.put(
            "/rss.xml",
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
            + "".join(
                f"<item><guid>{g}</guid><title>{t}</title><description>{t}</description>"
                f"<link>https://news.example/{g}</link></item>"
                for g, t in ITEMS
            )
            + "</channel></rss>",
        )
        (tmp_path / "rules").mkdir()
        (tmp_path / "rules" / "r.yaml").write_text(RULES, encoding="utf-8")
        config = tmp_path / "monitor.yaml"
        config.write_text(
            "database: sqlite:///monitor.db\n"
            "poll: {interval: 1h, timeout: 10s, allow_private_networks: true, tick: 0.2s}\n"
            f"feeds:\n  - {{name: wire, url: '{feeds.url('/rss.xml')}'}}\n"
            "stories: {similarity: 1.0, copy_similarity: 1.0}\n"
            f"channels:\n  brief: {{url: '{hook.json_url()}', mode: digest, digest: '0 8 * * *'}}\n"
            "delivery: {claim_lease: 1s, retry_base: 1s, retry_cap: 1s}\n"
            "rules: [rules/*.yaml]\n",
            encoding="utf-8",
        )
        once = subprocess.run(
            [sys.executable, "-m", "monitor", "run", "--once", "-c", str(config)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert once.returncode == 0, once.stderr
        engine = sqlalchemy.create_engine(f"sqlite:///{db}")

        def rows() -> list[tuple[Any, ...]]:
            with engine.connect() as conn:
                return [
                    tuple(r)
                    for r in conn.execute(sqlalchemy.text("SELECT kind, status FROM delivery ORDER BY id"))
                ]

        assert rows() == [("first", "held"), ("first", "held")] and hook.requests == []
        # The alerts have waited two days: a digest time (08:00 UTC) has passed since.
        with engine.begin() as conn:
            for row_id, created in conn.execute(sqlalchemy.text("SELECT id, created_at FROM delivery")).all():
                earlier = sqlalchemy.text("UPDATE delivery SET created_at = :at WHERE id = :id")
                conn.execute(earlier, {"at": _parse(created) - timedelta(days=2), "id": row_id})

        def kill_on_fold(event: dict[str, Any]) -> None:
            if event.get("event") == "digest.folded":
                first.proc.send_signal(signal.SIGKILL)

        hook.status = 503  # down: whatever the first daemon tries before the kill lands fails
        first = start_daemon(config, stderr=tmp_path / "daemon.err", on_event=kill_on_fold)
        assert first.wait_event("digest.folded", timeout=60), first.stderr()
        assert first.kill() == -signal.SIGKILL
        assert rows() == [
            ("first", "folded"),
            ("first", "folded"),
            ("digest", "pending"),
        ]  # committed, unsent
        refused = len(hook.requests)  # each answered 503
        hook.status = 200

        second = start_daemon(config, stderr=tmp_path / "daemon.err")
        try:
            wait_until(lambda: rows()[-1] == ("digest", "sent"), timeout=60, what="the digest marked sent")
            assert second.wait_event("delivery.sent", timeout=10, channel="brief"), second.stderr()
        finally:
            assert second.stop() == 0, second.stderr()
        engine.dispose()
    posts = list(hook.requests)[refused:]
    print(f"refused before the kill: {refused}; digest copies accepted after it: {len(posts)}")
    assert 1 <= len(posts) <= 2
    for post in posts:
        assert re.findall(r"Report \d", post.json()["message"]) == ["Report 1", "Report 2"]
    assert rows() == [("first", "folded"), ("first", "folded"), ("digest", "sent")]


def _parse(value: Any) -> datetime:
    """SQLite hands the stored timestamp back as text."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
