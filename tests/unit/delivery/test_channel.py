"""monitor.delivery.channel: construction and URL checks, the body form and limits per service, sending,
and secrets kept out of outcomes, reprs and errors."""

from __future__ import annotations

import apprise
import pytest

from monitor.core.errors import DeliveryError
from monitor.delivery.channel import CONNECT_TIMEOUT, Channel, DeliveryOutcome, check_channel_url
from monitor.render.fitting import render
from monitor.render.model import Limits
from tests.helpers.servers import free_port
from tests.unit.render.samples import ALERT  # one sample alert for the rendering and delivery tests

CANARY = "canary7Q2xZ9vK4mW1"


# --- secrets ---------------------------------------------------------------------------------------


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


def test_an_exception_inside_apprise_becomes_a_scrubbed_retryable_outcome(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """send() does not raise when Apprise itself fails; the exception text is scrubbed of the URL."""
    url = f"json://127.0.0.1:{free_port()}/hook/{CANARY}"
    channel = Channel("ops", url)

    def explode(self: apprise.Apprise, **kwargs: object) -> None:
        raise RuntimeError(f"internal error while posting to {url}")

    monkeypatch.setattr(apprise.Apprise, "notify", explode)
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
    from monitor.render.escaping import md_escape, md_for_dialects

    escaped = md_escape("AT&T <b> &amp; *x* [a](b) [c][d]") + " <https://example.org/a?b=1&amp;c=2>"
    assert md_for_dialects(escaped) == (
        "AT\\&T \\<b\\> \\&amp; \\*x\\* \\[a\\]\u200b(b) \\[c\\]\u200b\\[d\\]"
        " <https://example.org/a?b=1&amp;c=2>"
    )


def test_apprise_retries_are_off_and_timeouts_capped_unless_the_url_sets_them() -> None:
    """Apprise never retries by itself; SMTP waits at most 10 s by default, and cto=/rto= in the URL win."""
    mail = Channel("m", "mailto://u:p@example.org?to=x@example.org&retry=5").plugin
    assert mail.retry == 0
    assert mail.socket_connect_timeout == CONNECT_TIMEOUT
    hook = Channel("h", "json://localhost/hook?cto=2.5&rto=30").plugin
    assert (hook.socket_connect_timeout, hook.socket_read_timeout) == (2.5, 30.0)


# --- limits ----------------------------------------------------------------------------------------


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
