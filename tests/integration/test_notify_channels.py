"""monitor.notify against real loopback servers: aiosmtpd for mailto://, an HTTP receiver for json://."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from monitor import notify
from monitor.notify import Channel, DeliveryOutcome
from monitor.render import Alert, render
from tests.helpers.servers import Collector, free_port, smtp_server, webhook_receiver

pytestmark = pytest.mark.integration

CANARY = "canary5Hq8Wz3Lp0Rt"

ALERT = Alert(
    watch="karabakh",
    severity="critical",
    topics=["ceasefire", "escalation"],
    place="Nagorno-Karabakh",
    entities=["Nagorno-Karabakh", "Armenia", "Azerbaijan", "Stepanakert"],
    headline="Ceasefire violated as artillery shells Stepanakert <script>alert(1)</script>",
    outlet="Caucasus Wire",
    published_at=datetime(2020, 9, 27, 14, 5, tzinfo=UTC),
    link="https://example.org/news/cw-1?id=7&lang=en",
    evidence=['escalation: "shells" (title)', 'ceasefire: "ceasefire" (title)'],
    summary="Martial law and mobilisation were declared.",
)
MESSAGE = render(ALERT)


def _assert_secret_safe(outcome: DeliveryOutcome) -> None:
    assert CANARY not in repr(outcome)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections but never says anything (a hung server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


# --- email -----------------------------------------------------------------------------------------


def test_email_arrives_with_subject_headline_link_and_evidence() -> None:
    """mailto:// over plain SMTP with AUTH delivers one email whose subject is the alert subject and whose
    text and HTML parts carry the headline, link and evidence, with feed HTML escaped."""
    with smtp_server() as smtp:
        channel = Channel("ops-email", smtp.mailto_url(password=CANARY))
        outcome = channel.send(MESSAGE)
        [mail] = smtp.messages.wait_for(1)

    assert outcome == DeliveryOutcome(ok=True, reason=None, retryable=False)
    assert mail["Subject"] == MESSAGE.subject
    assert mail["Subject"].startswith("[ESCALATION] Nagorno-Karabakh: Ceasefire violated")
    assert (mail.mail_from, mail.rcpt_tos, mail.login) == (
        "monitor@example.org",
        ("ops@example.org",),
        "alerts",
    )
    text, html = mail.part("text/plain"), mail.part("text/html")
    assert text is not None and html is not None
    for part in (text, unescape(html)):  # the HTML part as a reader sees it (entities decoded)
        for expected in (
            "Ceasefire violated as artillery shells Stepanakert",
            "Caucasus Wire",
            "2020-09-27 14:05 UTC",
            "critical",
            "Stepanakert",
            '"shells" (title)',
            '"ceasefire" (title)',
        ):
            assert expected in part, (expected, part)
    assert "https://example.org/news/cw-1?id=7&lang=en" in text
    assert 'href="https://example.org/news/cw-1?id=7&amp;lang=en"' in html
    assert "<script>" not in html


def test_email_auth_failure_535_is_permanent() -> None:
    """An SMTP server answering AUTH with 535 gives ok=False, retryable=False, a reason naming 535, no password."""
    with smtp_server(reject_auth=True) as smtp:
        outcome = Channel("ops-email", smtp.mailto_url(password=CANARY)).send(MESSAGE)
        assert set(smtp.logins) == {"alerts"}  # smtplib tries each AUTH mechanism once
        assert smtp.messages == []

    assert outcome.ok is False and outcome.retryable is False
    assert outcome.reason and "535" in outcome.reason
    _assert_secret_safe(outcome)


@pytest.mark.parametrize(
    "url",
    [
        f"mailto://alerts:{CANARY}@127.0.0.1:{{port}}?mode=insecure&from=a@example.org&to=b@example.org",
        f"json://user:{CANARY}@127.0.0.1:{{port}}/alerts/{CANARY}?token={CANARY}",
    ],
    ids=["email", "json-webhook"],
)
def test_a_closed_port_is_retryable_and_quick(url: str) -> None:
    """mailto:// or json:// to a port where nothing listens fails as retryable (connection refused) in
    under 5 s, without the URL's secrets."""
    started = time.monotonic()
    outcome = Channel("ops", url.format(port=free_port())).send(MESSAGE)
    assert time.monotonic() - started < 5
    assert outcome.ok is False and outcome.retryable is True
    assert outcome.reason and "refused" in outcome.reason.lower()
    _assert_secret_safe(outcome)


def test_email_to_a_hung_server_times_out_as_retryable(silent_port: int) -> None:
    """A server that never greets makes mailto:// give up after the URL's cto= seconds, as retryable."""
    url = (
        f"mailto://alerts:{CANARY}@127.0.0.1:{silent_port}"
        "?mode=insecure&from=a@example.org&to=b@example.org&cto=1"
    )
    started = time.monotonic()
    outcome = Channel("ops-email", url).send(MESSAGE)
    assert time.monotonic() - started < 5
    assert outcome.ok is False and outcome.retryable is True
    assert outcome.reason and "timed out" in outcome.reason
    _assert_secret_safe(outcome)


@contextmanager
def held_smtp_gate(smtp_port: int, hold: int) -> Iterator[int]:
    """A loopback port that keeps its first `hold` connections silent (a hung server) until the last of
    them arrives, then joins each to the SMTP server at `smtp_port`."""
    gate = socket.create_server(("127.0.0.1", 0))
    sockets: list[socket.socket] = [gate]

    def pump(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def serve() -> None:
        with suppress(OSError):
            held = [gate.accept()[0] for _ in range(hold)]
            for client in held:
                upstream = socket.create_connection(("127.0.0.1", smtp_port))
                sockets.extend((client, upstream))
                threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
                threading.Thread(target=pump, args=(upstream, client), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield gate.getsockname()[1]
    finally:
        for sock in sockets:
            sock.close()


def test_an_email_abandoned_at_the_deadline_keeps_its_own_reply_headers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An email that Apprise abandons at the send deadline (server hung) and that goes out later carries its
    own In-Reply-To/References, not those of the email the channel sends meanwhile."""
    monkeypatch.setattr(notify, "SEND_DEADLINE", 1.0)
    first = replace(MESSAGE, message_id="<a2@x>", in_reply_to="<a1@x>", references=("<a1@x>",))
    second = replace(MESSAGE, message_id="<b2@x>", in_reply_to="<b1@x>", references=("<b0@x>", "<b1@x>"))
    with smtp_server() as smtp, held_smtp_gate(smtp.port, hold=2) as gate_port:
        channel = Channel(
            "ops-email", smtp.mailto_url().replace(f":{smtp.port}?", f":{gate_port}?") + "&rto=20"
        )
        abandoned = channel.send(first)  # its connection is held: Apprise stops waiting, the send goes on
        assert not abandoned.ok and abandoned.reason and "timed out" in abandoned.reason
        sent = channel.send(second)  # its connection releases both
        mails = {mail["Message-ID"]: mail for mail in smtp.messages.wait_for(2)}

    assert sent.ok, sent
    assert (mails["<a2@x>"]["In-Reply-To"], mails["<a2@x>"]["References"]) == ("<a1@x>", "<a1@x>")
    assert (mails["<b2@x>"]["In-Reply-To"], mails["<b2@x>"]["References"]) == ("<b1@x>", "<b0@x> <b1@x>")


# --- json:// webhook --------------------------------------------------------------------------------


def test_json_webhook_receives_title_and_plain_text_message() -> None:
    """json:// POSTs {title: subject, message: plain-text body} with the headline, link and evidence."""
    with webhook_receiver() as hook:
        outcome = Channel("team-hook", hook.json_url(f"/alerts/{CANARY}")).send(MESSAGE)
        [post] = hook.requests.wait_for(1)

    assert outcome == DeliveryOutcome(ok=True, reason=None, retryable=False)
    assert post.method == "POST" and post.path == f"/alerts/{CANARY}"
    assert post.headers["Content-Type"] == "application/json"
    assert post.json()["title"] == MESSAGE.subject
    assert post.json()["message"] == MESSAGE.text.rstrip("\n")
    for expected in ("Ceasefire violated", "https://example.org/news/cw-1?id=7&lang=en", '"shells" (title)'):
        assert expected in post.json()["message"]


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(404, False), (401, False), (400, False), (500, True), (503, True), (429, True)],
)
def test_json_webhook_error_status_is_classified(status: int, retryable: bool) -> None:
    """A webhook answering 4xx is a permanent failure, 5xx and 429 are retryable; the path token stays hidden."""
    with webhook_receiver(status=status) as hook:
        outcome = Channel("team-hook", hook.json_url(f"/alerts/{CANARY}")).send(MESSAGE)
        hook.requests.wait_for(1)

    assert outcome.ok is False and outcome.retryable is retryable
    assert outcome.reason and f"error={status}" in outcome.reason
    _assert_secret_safe(outcome)


def test_json_webhook_that_never_answers_times_out_as_retryable(silent_port: int) -> None:
    """A webhook that accepts the connection but never answers gives up after rto= seconds, as retryable."""
    url = f"json://127.0.0.1:{silent_port}/alerts/{CANARY}?rto=1"
    started = time.monotonic()
    outcome = Channel("team-hook", url).send(MESSAGE)
    assert time.monotonic() - started < 5
    assert outcome.ok is False and outcome.retryable is True
    assert outcome.reason and "timed out" in outcome.reason.lower()
    _assert_secret_safe(outcome)


def test_one_channel_object_delivers_repeatedly() -> None:
    """A Channel is built once and reused: three sends arrive as three separate POSTs."""
    with webhook_receiver() as hook:
        channel = Channel("team-hook", hook.json_url())
        outcomes = [channel.send(MESSAGE) for _ in range(3)]
        posts = hook.requests.wait_for(3)
    assert all(o.ok for o in outcomes) and len(posts) == 3


# --- Slack ---------------------------------------------------------------------------------------------

SLACK_URL = "slack://T1AAAAAAA/B1BBBBBBB/abcdefghijklmnopqrstuvwx/"


@contextmanager
def slack_receiver() -> Iterator[tuple[str, Collector[bytes]]]:
    """A loopback stand-in for Slack's webhook endpoint: records each POST body and answers "ok", as
    Slack does (the shared webhook receiver answers JSON, which Apprise's Slack plugin counts as failed)."""
    bodies: Collector[bytes] = Collector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/services", bodies
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_slack_shows_feed_text_as_written_without_double_escapes_or_mentions() -> None:
    """What Apprise's Slack plugin POSTs carries feed text escaped once (& < > as Slack entities, no
    backslashes, no markup), so Slack shows it as written, while mentions and link constructs stay broken."""
    alert = replace(
        ALERT,
        headline="AT&amp;T: 3 killed in *two* strikes on Kharkiv_city #1 market [video] &lt;!channel&gt; @here",
        summary="see &lt;https://evil.example|reuters.com&gt; now",  # feed HTML: entities are text
    )
    with slack_receiver() as (endpoint, bodies):
        channel = Channel("ops-slack", SLACK_URL)
        channel._plugin.webhook_url = endpoint  # the real Slack plugin, POSTing to loopback
        outcome = channel.send(render(alert, limit=channel.limits))
        [body] = bodies.wait_for(1)

    assert outcome.ok, outcome
    payload = json.loads(body)
    [attachment] = payload["attachments"]
    shown = attachment["text"]
    assert payload.get("mrkdwn") is False  # Slack shows * and _ as written, not as markup
    assert "AT&amp;T: 3 killed in *two* strikes on Kharkiv_city #1 market [video]" in shown
    assert "&amp;amp;" not in shown and "\\" not in shown
    assert "&lt;\u200b!channel&gt;" in shown and "@\u200bhere" in shown  # mentions broken
    assert "<https://evil.example|" not in shown and "<!channel>" not in shown
    assert "&lt;\u200bhttps://evil.example|reuters.com&gt;" in shown  # shown as text, not a link
    assert "https://example.org/news/cw-1?id=7&amp;lang=en" in shown  # the link, once escaped
