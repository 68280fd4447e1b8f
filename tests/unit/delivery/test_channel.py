"""monitor.delivery: failure classification, secret scrubbing, channel construction, console://."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import delivery as notify
from monitor.core.errors import DeliveryError
from monitor.delivery import (
    Channel,
    DeliveryOutcome,
    check_channel_url,
    is_retryable,
    scrub,
    secret_parts,
)
from monitor.render import Limits, render
from tests.helpers.servers import free_port
from tests.unit.test_render import ALERT  # one sample alert for the rendering and delivery tests

REPO = Path(__file__).resolve().parents[2]
CANARY = "canary7Q2xZ9vK4mW1"


# --- failure classification -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("log_text", "retryable"),
    [
        # HTTP statuses as Apprise's HTTP plugins log them
        ("Failed to send JSON POST notification: Page not found., error=404.", False),
        ("Failed to send Telegram notification: Unauthorized., error=401.", False),
        ("Failed to send Slack notification: Forbidden., error=403.", False),
        ("Failed to send JSON POST notification: Bad Request., error=400.", False),
        ("Failed to send JSON POST notification: Internal server error., error=500.", True),
        ("Failed to send Discord notification: Service unavailable., error=503.", True),
        ("Failed to send JSON POST notification: error=429.", True),
        ("Failed to send JSON POST notification: error=408.", True),
        # SMTP replies as smtplib exceptions print them
        (
            'Connection error while submitting email to "smtp.example.org"; '
            "Socket Exception: (535, b'5.7.8 Authentication credentials invalid')",
            False,
        ),
        ("Socket Exception: (550, b'5.1.1 <nobody@example.org>: Recipient address rejected')", False),
        ("SMTP recipient x@example.org was refused: 550 b'no such user'", False),
        ("Socket Exception: (421, b'4.7.0 Try again later, closing connection.')", True),
        ("Socket Exception: (451, b'4.3.0 Temporary local problem')", True),
        # transport failures
        (
            'Connection error while submitting email to "127.0.0.1"; Socket Exception: [Errno 111] Connection refused',
            True,
        ),
        (
            "A Connection error occurred sending JSON notification to 127.0.0.1.; Socket Exception: "
            "HTTPConnectionPool(host='127.0.0.1', port=9): Read timed out. (read timeout=4.0)",
            True,
        ),
        ("Socket Exception: Connection unexpectedly closed: timed out", True),
        ("Socket Exception: [Errno -3] Temporary failure in name resolution", True),
        ("Socket Exception: [Errno 104] Connection reset by peer", True),
        ("no answer within 30s (timed out)", True),
        # configuration-type failures
        ("Socket Exception: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", False),
        ("SMTP AUTH extension not supported by server.", False),
        ("There are no Email recipients to notify", False),
        # nothing recognisable: retry (the outbox's attempt limit ends it)
        ("Telegram reported a failure without details", True),
    ],
)
def test_is_retryable_classifies_apprise_log_text(log_text: str, retryable: bool) -> None:
    """5xx/429/408, SMTP 4xx, timeouts and refused connections retry; 4xx, SMTP 5xx, auth and TLS do not."""
    assert is_retryable(log_text) is retryable


# --- secrets ---------------------------------------------------------------------------------------


def test_secret_parts_of_typical_urls() -> None:
    """Passwords, tokens in host or path and secret query values are secret; hosts, ports, settings are not."""
    parts = secret_parts(f"mailtos://alerts:{CANARY}@smtp.example.org:587?to=ops@example.org&mode=ssl")
    assert CANARY in parts and "smtp.example.org" not in parts and "ssl" not in parts
    parts = secret_parts(f"tgram://123456789:{CANARY}/-100200300")
    assert any(CANARY in p for p in parts) and "-100200300" in parts
    parts = secret_parts(f"json://hooks.example.org/alerts/{CANARY}?token={CANARY}x&format=text")
    assert {CANARY, f"{CANARY}x"} <= parts and "text" not in parts
    assert "hooks.example.org" not in parts


def test_scrub_removes_secrets_and_cuts_urls() -> None:
    """scrub() replaces given secrets and reduces any URL in the text to scheme://host."""
    text = (
        f"POST https://user:{CANARY}@hooks.example.org/a/{CANARY}?k=v failed; "
        f"HTTPConnectionPool(host='x', port=1): Max retries exceeded with url: /a/{CANARY} (refused); "
        f"tgram://{CANARY}/chat"
    )
    out = scrub(text, {CANARY})
    assert CANARY not in out
    assert "https://hooks.example.org/…" in out
    assert "with url: …" in out
    assert "tgram://***/…" in out


def test_canary_secret_never_appears_in_outcome_channel_or_error() -> None:
    """A token in a channel URL is absent from the failure reason, the reprs and the DeliveryError text."""
    port = free_port()  # nothing listens: connection refused
    urls = [
        f"json://user:{CANARY}@127.0.0.1:{port}/hook/{CANARY}?token={CANARY}",
        f"mailto://alerts:{CANARY}@127.0.0.1:{port}?mode=insecure&from=a@example.org&to=b@example.org",
    ]
    for url in urls:
        channel = Channel("ops", url)
        outcome = channel.send(render(ALERT))
        assert outcome.ok is False and outcome.reason
        for shown in (outcome.reason, repr(outcome), str(outcome), repr(channel), str(vars(channel))):
            assert CANARY not in shown, shown

    bad = [
        f"foo://user:{CANARY}@host/{CANARY}",
        f"mailto://user:{CANARY}@",
        f"tgram://{CANARY}/",
        f"mailto://user:{CANARY}@example.org?mode=bogus",
    ]
    for url in bad:
        with pytest.raises(DeliveryError) as info:
            Channel("ops", url)
        assert CANARY not in str(info.value) and CANARY not in repr(info.value)
        problem = check_channel_url(url)
        assert problem and CANARY not in problem


def test_apprise_log_lines_do_not_reach_application_logs() -> None:
    """Apprise's own records (which contain URLs with tokens) never propagate to root-level handlers."""
    seen: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    root = logging.getLogger()
    handler, level = Collect(logging.DEBUG), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        channel = Channel("ops", f"json://127.0.0.1:{free_port()}/hook/{CANARY}")
        outcome = channel.send(render(ALERT))
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert outcome.ok is False
    leaked = [r for r in seen if r.name.startswith(("apprise", "urllib3")) or CANARY in r.getMessage()]
    assert not leaked, [r.getMessage() for r in leaked]


def test_an_exception_inside_apprise_becomes_a_scrubbed_retryable_outcome(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """send() does not raise when Apprise itself fails; the exception text is scrubbed of the URL."""
    url = f"json://127.0.0.1:{free_port()}/hook/{CANARY}"
    channel = Channel("ops", url)

    def explode(**kwargs: object) -> None:
        raise RuntimeError(f"internal error while posting to {url}")

    monkeypatch.setattr(channel._apprise, "notify", explode)
    outcome = channel.send(render(ALERT))
    assert outcome == DeliveryOutcome(ok=False, reason=outcome.reason, retryable=True)
    assert outcome.reason and "RuntimeError" in outcome.reason and CANARY not in outcome.reason


# --- channel construction ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("foo://user:pw@host", "Apprise does not understand this URL (scheme 'foo')"),
        ("not a url", "not an Apprise URL"),
        ("", "the URL is empty"),
        ("mailto://u:p@example.org?mode=bogus", "The secure mode specified (bogus) is invalid"),
        ("tgram://onlyatoken/", "Apprise cannot use this 'tgram' URL"),
    ],
)
def test_check_channel_url_explains_rejections(url: str, expected: str) -> None:
    """Rejected URLs get a one-line problem naming the scheme (never the secrets) and the Apprise wiki."""
    problem = check_channel_url(url)
    assert problem and expected in problem and "github.com/caronc/apprise/wiki" in problem


@pytest.mark.parametrize(
    "url",
    [
        "console://",
        "mailtos://alerts:pw@example.org?to=ops@example.org",
        "json://localhost:8080/hook",
        "tgram://123456789:AAHxyz-abcdefghijklmnopqrstuv/-100200300",
    ],
)
def test_check_channel_url_accepts_valid_urls(url: str) -> None:
    """Valid Apprise URLs, including our console://, pass the check."""
    assert check_channel_url(url) is None


def test_unknown_scheme_raises_delivery_error_naming_only_the_scheme() -> None:
    """Channel() with a URL Apprise does not know raises DeliveryError naming the channel and scheme."""
    with pytest.raises(
        DeliveryError, match=r"channel 'chat': Apprise does not understand this URL \(scheme 'foo'\)"
    ):
        Channel("chat", "foo://user:topsecret@host")


def test_body_format_follows_the_service() -> None:
    """json:// gets plain text, mailto:// our HTML and text parts; ?format= overrides."""
    assert Channel("a", "json://localhost/hook").form == "text"
    assert Channel("b", "json://localhost/hook?format=markdown").form == "markdown"
    assert Channel("c", "mailto://u:p@example.org?to=x@example.org").form == "email"
    assert Channel("d", "console://").form == "text"


def test_slack_gets_plain_text_unless_the_url_asks_for_markdown() -> None:
    """Slack, whose Markdown Apprise re-escapes into mrkdwn, gets the plain-text form; ?format=markdown
    still selects Markdown, as written (Slack's converter keeps backslashes, so no escapes instead of
    entities either)."""
    slack = "slack://T1AAAAAAA/B1BBBBBBB/abcdefghijklmnopqrstuvwx/"
    assert Channel("s", slack).form == "text"
    assert Channel("s", f"{slack}?format=markdown").form == "markdown"


@pytest.mark.parametrize(
    ("url", "form"),
    [
        # HTML its own format, not email: our Markdown converted to HTML
        ("tgram://123456789:abcdefg_hijklmnop/12345", "html"),
        ("tgram://123456789:abcdefg_hijklmnop/12345?format=markdown", "markdown-escapes"),
        # converters that decode backslash escapes but not entities
        ("gchat://workspace/key/token", "markdown-escapes"),
        ("whapi://abcdefghijklmnopqrstuvwxyz123456/12345678901", "markdown-escapes"),
        ("evolution://apikey@127.0.0.1:9/inst/12345678901", "markdown-escapes"),
        # Markdown passed to the service as written (no dialect conversion in Apprise)
        ("rocket://abc123/def456@127.0.0.1:9", "markdown"),
        # text-first services
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "text"),
        ("matrix://user:pass@127.0.0.1:9/#room", "text"),
    ],
)
def test_each_chat_service_gets_the_form_its_apprise_conversion_shows_as_written(url: str, form: str) -> None:
    """The form is decided from the plugin's format and what its conversion does with our escapes."""
    assert Channel("c", url).form == form


def test_markdown_for_dialects_has_escapes_for_entities_and_no_link_construct() -> None:
    """md_for_dialects turns exactly md_escape's entities into backslash escapes, breaks an escaped
    [label](url) or [label][ref] with a zero-width space, and leaves an autolink's URL as written."""
    from monitor.render import md_escape, md_for_dialects

    escaped = md_escape("AT&T <b> &amp; *x* [a](b) [c][d]") + " <https://example.org/a?b=1&amp;c=2>"
    assert md_for_dialects(escaped) == (
        "AT\\&T \\<b\\> \\&amp; \\*x\\* \\[a\\]\u200b(b) \\[c\\]\u200b\\[d\\]"
        " <https://example.org/a?b=1&amp;c=2>"
    )


def test_apprise_retries_are_off_and_timeouts_capped_unless_the_url_sets_them() -> None:
    """Apprise never retries by itself; SMTP waits at most 10 s by default, and cto=/rto= in the URL win."""
    mail = Channel("m", "mailto://u:p@example.org?to=x@example.org&retry=5")._apprise[0]
    assert mail.retry == 0
    assert mail.socket_connect_timeout == notify.CONNECT_TIMEOUT
    hook = Channel("h", "json://localhost/hook?cto=2.5&rto=30")._apprise[0]
    assert (hook.socket_connect_timeout, hook.socket_read_timeout) == (2.5, 30.0)


# --- console:// ----------------------------------------------------------------------------------


def test_console_channel_prints_the_plain_text_alert(capsys: pytest.CaptureFixture[str]) -> None:
    """console:// prints the subject and the plain-text body to stdout and reports success."""
    message = render(ALERT)
    outcome = Channel("terminal", "console://").send(message)
    assert outcome == DeliveryOutcome(ok=True, reason=None, retryable=False)
    out = capsys.readouterr().out
    assert out.startswith(message.subject + "\n")
    assert message.text in out
    assert "**" not in out


def test_importing_notify_twice_keeps_one_console_scheme_and_one_log_handler() -> None:
    """Re-importing monitor.delivery (reload) registers nothing twice: one handler, one printed alert."""
    script = (
        "import importlib, logging\n"
        "import monitor.delivery as n\n"
        "n = importlib.reload(n)\n"
        "n._register_console(); n._install_capture_handler()\n"
        "handlers = [h for h in logging.getLogger('apprise').handlers if getattr(h, 'monitor_capture', 0)]\n"
        "assert len(handlers) == 1, handlers\n"
        "msg = n.Message(subject='S-1', text='body-1', markdown='**body-1**')\n"
        "assert n.Channel('c', 'console://').send(msg).ok\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("S-1") == 1 and result.stdout.count("body-1") == 1
    assert "already defined" not in result.stderr


# --- limits and the email text part ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rocket://abc123/def456@127.0.0.1:9", Limits(body=1000, title=None, title_in_body=True)),
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", Limits(body=2000, title=250)),
        # Telegram gets our Markdown converted to HTML: 4096 lowered by the conversion margin
        ("tgram://123456789:abcdefg_hijklmnop/12345", Limits(body=3072, title=None, title_in_body=True)),
        ("mailto://u:p@example.org?to=x@example.org", Limits(body=32768, title=250)),
    ],
)
def test_channel_limits_come_from_the_apprise_plugin(url: str, expected: Limits) -> None:
    """A channel's size limits are its Apprise plugin's body_maxlen/title_maxlen (title 0: in the body)."""
    assert Channel("c", url).limits == expected


def test_the_email_text_part_hook_answers_only_for_the_html_being_sent() -> None:
    """During a send, converting exactly the HTML being sent gives our text part; any other HTML, or any
    conversion outside a send, is Apprise's own derivation."""
    from apprise import NotifyFormat
    from apprise.plugins.email import base as email_base

    convert = email_base.convert_between
    assert getattr(convert, "monitor_hook", False)
    derived = convert(NotifyFormat.HTML, NotifyFormat.TEXT, "<p>Ours</p>")
    assert "Ours" in derived and derived != "OUR TEXT PART"
    with notify._text_part_as(("<p>Ours</p>", "OUR TEXT PART")):
        assert convert(NotifyFormat.HTML, NotifyFormat.TEXT, "<p>Ours</p>\n") == "OUR TEXT PART"
        assert convert(NotifyFormat.HTML, NotifyFormat.TEXT, "<p>Other</p>") != "OUR TEXT PART"
        assert convert(NotifyFormat.MARKDOWN, NotifyFormat.HTML, "<p>Ours</p>") != "OUR TEXT PART"
    assert convert(NotifyFormat.HTML, NotifyFormat.TEXT, "<p>Ours</p>") == derived
