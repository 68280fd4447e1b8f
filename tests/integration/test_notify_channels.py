"""monitor.delivery against real loopback servers: aiosmtpd for mailto://, an HTTP receiver for json://."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser

import pytest

from monitor.delivery import channel as channel_module
from monitor.delivery.channel import Channel, DeliveryOutcome
from monitor.render.digest import render_digest
from monitor.render.fitting import render
from monitor.render.model import Alert, Digest
from tests.helpers.servers import Collector, ReceivedRequest, free_port, smtp_server, webhook_receiver

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
    tag_priority={"escalation": 2, "ceasefire": 1},  # the shipped pack's
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
    monkeypatch.setattr(channel_module, "SEND_DEADLINE", 1.0)
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
def service_receiver(answer: bytes = b"ok") -> Iterator[tuple[str, Collector[ReceivedRequest]]]:
    """A loopback stand-in for a chat service's API: records each POST and answers 200 with `answer` (what
    the real service says on success; Slack's plugin wants "ok", WhatsApp's {"sent": true})."""
    with webhook_receiver(answer=answer) as hook:
        yield hook.base_url, hook.requests


def test_slack_shows_feed_text_as_written_without_double_escapes_or_mentions() -> None:
    """What Apprise's Slack plugin POSTs carries feed text escaped once (& < > as Slack entities, no
    backslashes, no markup), so Slack shows it as written, while mentions and link constructs stay broken."""
    alert = replace(
        ALERT,
        headline="AT&amp;T: 3 killed in *two* strikes on Kharkiv_city #1 market [video] &lt;!channel&gt; @here",
        summary="see &lt;https://evil.example|reuters.com&gt; now",  # feed HTML: entities are text
    )
    with service_receiver() as (base, posts):
        channel = Channel("ops-slack", SLACK_URL)
        channel.plugin.webhook_url = f"{base}/services"  # the real Slack plugin, POSTing to loopback
        outcome = channel.send(render(alert, limit=channel.limits))
        [post] = posts.wait_for(1)
        body = post.body

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


# --- Telegram, Google Chat, WhatsApp: the real plugins, POSTing to loopback --------------------------------

# A headline as a feed writes it (HTML: entities are text) and as a reader must see it. The zero-width
# spaces are `monitor.render`'s: invisible, they break the mention and the [label](url) construct.
HOSTILE_FEED = (
    "AT&amp;T: 3 killed in *two* strikes on Kharkiv_city @everyone &lt;b&gt;x&lt;/b&gt; "
    "[click](https://evil.example)"
)
SHOWN = (
    "AT&T: 3 killed in *two* strikes on Kharkiv_city @\u200beveryone <b>x</b> "
    "[click]\u200b(https://evil.example)"
)
HOSTILE = replace(
    ALERT, headline=HOSTILE_FEED, summary='<a href="https://evil.example/s">Read</a> more, @here'
)
ALERT_HREF = "https://example.org/news/cw-1?id=7&lang=en"
# The tags Telegram's HTML parse mode accepts (https://core.telegram.org/bots/api#html-style)
TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
                 "tg-emoji", "code", "pre", "blockquote"}  # fmt: skip


class _HtmlView(HTMLParser):
    """What a client shows for a service's HTML: its text (entities decoded), its tags and link targets."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags: set[str] = set()
        self.hrefs: set[str] = set()
        self.feed(html)
        self.close()
        self.text = "".join(self.parts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.hrefs |= {value or "" for name, value in attrs if name == "href"}

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def test_telegram_shows_feed_text_as_written_in_its_html_mode() -> None:
    """Telegram gets HTML (its own parse mode, only tags it accepts) that shows the hostile headline as
    written in the subject and the body: no entities shown, no backslashes, mentions broken, and the
    alert's link as the only link."""
    with service_receiver(b'{"ok": true, "result": {"message_id": 1}}') as (base, posts):
        channel = Channel("ops-telegram", "tgram://123456789:abcdefg_hijklmnop/12315544/")
        channel.plugin.notify_url = f"{base}/bot"  # the real plugin; api.telegram.org is a class constant
        outcome = channel.send(render(HOSTILE, limit=channel.limits))
        [post] = posts.wait_for(1)
        path, body = post.path, post.body

    assert outcome.ok, outcome
    assert path == "/bot123456789:abcdefg_hijklmnop/sendMessage"
    payload = json.loads(body)
    assert payload["parse_mode"] == "HTML"
    view = _HtmlView(payload["text"])
    assert view.tags <= TELEGRAM_TAGS, view.tags
    assert view.text.count(SHOWN) == 1, view.text  # the subject (in the body: Telegram has no title)
    assert view.text.count(SHOWN.replace("]\u200b(", "](")) == 1  # the headline: no [label](url) in HTML
    assert "\\" not in view.text and "&amp;" not in view.text and "&lt;" not in view.text
    assert "Read more, @\u200bhere" in view.text  # the feed's summary: its link dropped, mention broken
    assert view.hrefs == {ALERT_HREF}  # no link from the feed's text


def test_google_chat_shows_feed_text_as_written_escaped_once() -> None:
    """Google Chat gets Chat markup in which & < > are entities once (not &amp;amp;), * and _ keep the
    escapes Apprise writes for Chat, and no anchor or mention comes from the feed, so it shows the
    hostile headline as written in the subject and the body."""
    with service_receiver(b"{}") as (base, posts):
        channel = Channel("ops-gchat", "gchat://workspace/key/token")
        channel.plugin.notify_url = f"{base}/v1/spaces/{{workspace}}/messages"  # real plugin, loopback
        outcome = channel.send(render(HOSTILE, limit=channel.limits))
        [post] = posts.wait_for(1)
        path, body = post.path, post.body

    assert outcome.ok, outcome
    assert path.startswith("/v1/spaces/workspace/messages?")
    text = json.loads(body)["text"]
    assert "&amp;amp;" not in text and "&amp;lt;" not in text
    assert "<https://evil.example" not in text and "<users/" not in text  # no Chat anchor or mention
    assert "\\" not in re.sub(r"\\[*_~`]", "", text)  # only the escapes Chat markup has
    shown = unescape(re.sub(r"\\([*_~`])", r"\1", text))  # as Chat shows it
    assert shown.count(SHOWN) == 2, shown  # the subject (a bold first line) and the headline
    assert "Read more, @\u200bhere" in shown


@pytest.mark.parametrize("service", ["whapi", "evolution"])
def test_whatsapp_shows_feed_text_without_entities_or_backslashes(service: str) -> None:
    """WhatsApp (Whapi.Cloud, and Evolution API on its real URL to loopback) gets text with & < > as
    written and no backslashes, mentions and the [label](url) construct broken, in the subject and body."""
    with service_receiver(b'{"sent": true, "message": {"id": "m1"}}') as (base, posts):
        if service == "whapi":
            channel = Channel("ops-wa", "whapi://abcdefghijklmnopqrstuvwxyz123456/12345678901")
            channel.plugin.notify_url = f"{base}/messages/text"  # real plugin; its host is a constant
        else:
            channel = Channel("ops-wa", f"evolution://apikey@{base.removeprefix('http://')}/inst/12345678901")
        outcome = channel.send(render(HOSTILE, limit=channel.limits))
        [post] = posts.wait_for(1)
        body = post.body

    assert outcome.ok, outcome
    payload = json.loads(body)
    text = payload.get("body", payload.get("text"))
    assert "&amp;" not in text and "&lt;" not in text and "\\" not in text
    assert text.count(SHOWN) == 2, text
    assert "Read more, @\u200bhere" in text


def test_zoho_cliq_shows_feed_text_without_entities_backslashes_or_links() -> None:
    """Zoho Cliq, whose [label](url) is a link and whose converter drops escapes, gets the headline with
    & < > as written, no backslashes and the [label](url) construct broken; the subject is its card title."""
    with service_receiver(b"{}") as (base, posts):
        channel = Channel("ops-cliq", "cliq://1001.abcdef0123456789/alerts")
        channel.plugin.notify_url = f"{base}/api/v2/{{path}}/{{name}}/message"  # real plugin, loopback
        message = render(HOSTILE, limit=channel.limits)
        outcome = channel.send(message)
        [post] = posts.wait_for(1)
        path, body = post.path, post.body

    assert outcome.ok, outcome
    assert path.startswith("/api/v2/channelsbyname/alerts/message?")
    payload = json.loads(body)
    assert payload["card"]["title"] == message.subject
    text = payload["text"]
    assert "&amp;" not in text and "&lt;" not in text and "\\" not in text
    assert text.count(SHOWN) == 1, text
    assert "](https://evil.example)" not in text


def test_a_digest_fitted_to_telegram_arrives_as_one_message_within_its_limit() -> None:
    """A digest of 200 hostile stories rendered for Telegram's limits arrives as one sendMessage whose
    text, as Telegram counts it (after parsing its HTML), is at most 4096 characters."""
    stories = [replace(HOSTILE, link=f"https://example.org/a?i={i}&x=1") for i in range(200)]
    with service_receiver(b'{"ok": true, "result": {"message_id": 1}}') as (base, posts):
        channel = Channel("ops-telegram", "tgram://123456789:abcdefg_hijklmnop/12315544/")
        channel.plugin.notify_url = f"{base}/bot"
        outcome = channel.send(render_digest(Digest(channel="ops", alerts=stories), limit=channel.limits))
        [post] = posts.wait_for(1)
        body = post.body

    assert outcome.ok, outcome
    view = _HtmlView(json.loads(body)["text"])
    assert 1000 < len(view.text) <= 4096, len(view.text)
    assert view.text.count("AT&T: 3 killed in *two* strikes") > 5 and "more stories" in view.text
