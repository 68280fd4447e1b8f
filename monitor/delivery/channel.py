"""A channel: one Apprise service, the body form and size limits it gets, and sending to it.

Which body a channel gets
    The service's own default format decides, unless the URL says ``?format=text|markdown|html``
    (`Channel.form`). Apprise 2.3 converts a body only into the service's format and then into the
    service's own dialect (``dialect_convert``), so each form is chosen for what that conversion does:

    - a text service (json://, ntfy, Discord, Matrix, console://) gets `Message.text` as plain text;
    - email gets `Message.html` as the HTML part and `Message.text` as the text/plain part of a
      multipart/alternative message (`monitor.delivery.hooks`); the subject is the Apprise title;
    - another service whose format is HTML (Telegram, whose Markdown dialect has no entities and
      only some escapes) gets `Message.markdown` converted to HTML by Apprise's own Markdown→HTML
      conversion (our escapes and entities come out as literal text, mentions stay broken) and sent as
      HTML, which the plugin reduces to the tags the service takes;
    - a Markdown service whose Markdown Apprise converts into a dialect that escapes ``&`` again while
      the service also takes plain text (Slack: ``&`` would become ``&amp;amp;``, backslash escapes
      would be kept, and mrkdwn has no escape for ``*`` or ``_``) gets `Message.text` as plain text:
      Apprise escapes ``& < >`` once for it and the service shows the text as written;
    - a Markdown service whose converter decodes CommonMark's backslash escapes but not its entities
      (Google Chat, which escapes ``& < >`` itself; WhatsApp through Whapi or Evolution and Zoho Cliq,
      whose dialects have no escapes) gets `Message.markdown` with the entities written as backslash
      escapes and ``[label](url)`` broken (`monitor.render.escaping.md_for_dialects`), so the converter writes
      ``& < >`` as its dialect needs and cannot make feed text a link;
    - any other Markdown service gets `Message.markdown` as written (CommonMark).

    A service without a title field (``title_maxlen`` 0) gets the subject put into the body by Apprise,
    in the body's format and through the same conversion, so for the HTML and dialect-converted forms
    the subject is escaped for that format first (our subject is text: a feed's ``*two*`` or ``<b>``
    in it would otherwise become markup). A Markdown service without a dialect converter gets the
    subject as before, as a ``# heading`` line.
    Known gap: a dialect without escapes for ``*`` and ``_`` (WhatsApp, Zoho Cliq) may still show a
    feed's ``*word*`` in bold; links and mentions from feed text stay broken there (`monitor.render`).

Limits
    `Channel.limits` reads the plugin's ``body_maxlen``/``title_maxlen`` (a service without a title,
    ``title_maxlen`` 0, gets the subject prepended to the body), so the caller can render a message
    that fits (`monitor.render.fitting.render(alert, limit=channel.limits)`) instead of letting Apprise or the
    service cut it, possibly inside a link. For Markdown that is converted to HTML (an HTML service other
    than email), the body limit is lowered by a margin for the tags the conversion adds.

Delivery
    `Channel` builds one Apprise object per channel, once. `Channel.send` never raises for a delivery
    failure; it returns a `DeliveryOutcome` whose `reason` comes from Apprise's own log lines for that
    call (`monitor.delivery.failures`) and is scrubbed of the channel URL's secret parts and of anything
    URL-shaped (`monitor.delivery.secrets`). A URL Apprise cannot use is a `DeliveryError` when the
    channel is built, and a one-line problem from `check_channel_url` when the config is checked.

Time limits and retries
    Our outbox retries with backoff, so Apprise must not: every channel gets ``retry=0`` (a ``retry=``
    in the URL is ignored). Unless the URL sets ``cto=`` / ``rto=`` (seconds), connect and read
    timeouts are capped at CONNECT_TIMEOUT / READ_TIMEOUT (Apprise's HTTP defaults of 4 s are lower and
    kept; its SMTP default of 15 s is lowered). Apprise 2.x also abandons a send after SEND_DEADLINE
    seconds; that is reported as a retryable failure. Apprise also waits 5.5 s between two sends of one
    email channel; that is lowered to EMAIL_SEND_INTERVAL, so twenty emails held back by an SMTP outage
    go out in seconds once the server is back (a server that objects answers 4xx, which is retried).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from html import escape as html_escape
from typing import Any, Literal

import apprise
from apprise import NotifyFormat
from apprise.conversion import convert_between

from monitor.core.errors import DeliveryError
from monitor.core.secrets import split_scheme
from monitor.delivery import hooks
from monitor.delivery.failures import failure_text, is_retryable, record_text
from monitor.delivery.secrets import Secrets, scrub_reason, secret_parts
from monitor.render.escaping import md_escape, md_for_dialects
from monitor.render.fields import shorten
from monitor.render.model import Limits, Message

CONNECT_TIMEOUT = 10.0  # seconds; upper bound unless the URL sets cto=
READ_TIMEOUT = 15.0  # seconds; upper bound unless the URL sets rto=
SEND_DEADLINE = 30.0  # seconds; Apprise 2.x stops waiting for a service after this
EMAIL_SEND_INTERVAL = 0.25  # seconds between two emails of one channel (Apprise's default: 5.5)
REASON_MAX = 400  # characters kept of a failure reason
APPRISE_WIKI = "https://github.com/caronc/apprise/wiki"

CONVERTED_MARGIN = 0.75  # share of a body limit left to Markdown that Apprise converts to HTML

Form = Literal["text", "email", "html", "markdown", "markdown-escapes"]


@dataclass(frozen=True)
class DeliveryOutcome:
    ok: bool
    reason: str | None  # why it failed, from Apprise's log; never contains the URL or its secrets
    retryable: bool


class Channel:
    """One Apprise object per channel, built once; `send` never raises for delivery failures."""

    def __init__(self, name: str, url: str) -> None:
        url = url.strip()
        self._secrets = secret_parts(url)
        plugin, problem = _load(url, self._secrets)
        if plugin is None:
            raise DeliveryError(f"channel '{name}': {problem}")
        self.name = name
        keys = _query_keys(url)
        if hasattr(plugin, "retry"):
            plugin.retry = 0  # the outbox retries with backoff
        if "cto" not in keys and getattr(plugin, "socket_connect_timeout", None):
            plugin.socket_connect_timeout = min(float(plugin.socket_connect_timeout), CONNECT_TIMEOUT)
        if "rto" not in keys and getattr(plugin, "socket_read_timeout", None):
            plugin.socket_read_timeout = min(float(plugin.socket_read_timeout), READ_TIMEOUT)
        self.service: str = str(getattr(plugin, "service_name", "unknown"))
        fmt = _format(plugin)
        self._email = _is_email(plugin)
        if self._email:
            hooks.hook_reply_headers(plugin)
        self.form: Form = _form(plugin, fmt, keys, self._email)
        self.limits = _limits(plugin, fmt, self._email)
        if self._email and float(getattr(plugin, "request_rate_per_sec", 0) or 0) > EMAIL_SEND_INTERVAL:
            plugin.request_rate_per_sec = (
                EMAIL_SEND_INTERVAL  # drain an outage backlog in seconds, not minutes
            )
        self.plugin = plugin  # the Apprise service object, with the settings above
        self._lock = threading.Lock()
        self._apprise = apprise.Apprise(asset=plugin.asset)
        self._apprise.add(plugin)

    def __repr__(self) -> str:
        return f"Channel(name={self.name!r}, service={self.service!r})"

    def send(self, message: Message) -> DeliveryOutcome:
        """Deliver one message; the outcome says whether it arrived and, if not, whether to retry."""
        text_part: tuple[str, str] | None = None
        title = message.subject
        if self.form == "text":
            body, body_format = message.text, NotifyFormat.TEXT
        elif self.form == "email" and message.html:
            body, body_format = message.html, NotifyFormat.HTML
            text_part = (message.html, message.text)
        elif self.form == "html":
            body, body_format = _markdown_as_html(message.markdown), NotifyFormat.HTML
            if body is None:  # the conversion failed: plain text, which Apprise escapes for HTML itself
                body, body_format = message.text, NotifyFormat.TEXT
            elif self.limits.title_in_body:
                title = html_escape(title, quote=False)
        else:
            body, body_format = message.markdown, NotifyFormat.MARKDOWN
            if self.form == "markdown-escapes":
                body = md_for_dialects(body)
                title = md_for_dialects(md_escape(title)) if self.limits.title_in_body else title
        message_id, reply_headers = self._threading(message)
        with (
            self._lock,
            hooks.capturing() as records,
            hooks.sending(text_part=text_part, message_id=message_id, reply_headers=reply_headers),
        ):
            try:
                result = self._apprise.notify(body=body, title=title, body_format=body_format)
            except Exception as exc:  # an Apprise bug must not take the delivery loop down
                reason = scrub_reason(f"{type(exc).__name__}: {exc}", self._secrets)
                return DeliveryOutcome(ok=False, reason=shorten(reason, REASON_MAX), retryable=True)
        if result:
            return DeliveryOutcome(ok=True, reason=None, retryable=False)
        text = failure_text(records)
        status = getattr(result, "status", None)
        if getattr(status, "name", "") == "TIMEOUT":
            text = f"no answer within {SEND_DEADLINE:g}s (timed out)" + (f"; {text}" if text else "")
        if not text:
            text = f"{self.service} reported a failure without details"
        retryable = is_retryable(text)
        reason = shorten(scrub_reason(text, self._secrets), REASON_MAX)
        return DeliveryOutcome(ok=False, reason=reason, retryable=retryable)

    def _threading(self, message: Message) -> tuple[str | None, dict[str, str] | None]:
        """For email only: our Message-ID, and the In-Reply-To/References headers of an update."""
        if not self._email or not (message.message_id or message.in_reply_to):
            return None, None
        reply: dict[str, str] = {}
        if message.in_reply_to:
            reply["In-Reply-To"] = message.in_reply_to
            reply["References"] = " ".join(message.references or (message.in_reply_to,))
        return message.message_id, reply


def check_channel_url(url: str) -> str | None:
    """None if Apprise accepts this URL, else a one-line problem (never containing the URL's secrets)."""
    if not url or not url.strip():
        return f"the URL is empty; see {APPRISE_WIKI}"
    url = url.strip()
    _plugin, problem = _load(url, secret_parts(url))
    return problem


def _load(url: str, secrets: Secrets) -> tuple[Any | None, str | None]:
    """(plugin, None) when Apprise accepts the URL as exactly one service, else (None, problem)."""
    with hooks.capturing() as records:
        try:
            plugin = apprise.Apprise.instantiate(url, asset=_make_asset(), suppress_exceptions=True)
        except Exception:  # defensive: instantiate() is documented not to raise
            plugin = None
    if plugin is None:
        return None, _problem(url, records, secrets)
    return plugin, None


def _make_asset() -> apprise.AppriseAsset:
    try:  # Apprise 2.x: a per-service deadline; memory-only persistent storage
        return apprise.AppriseAsset(service_timeout=SEND_DEADLINE, storage_mode="memory")
    except Exception:  # older Apprise without these options
        return apprise.AppriseAsset()


def _query_keys(url: str) -> set[str]:
    query = url.partition("?")[2]
    return {pair.partition("=")[0].lower() for pair in query.split("&") if pair}


def _problem(url: str, records: list[logging.LogRecord], secrets: Secrets) -> str:
    scheme = split_scheme(url)[0]
    if scheme is None:
        return f"this is not an Apprise URL (expected scheme://...); see {APPRISE_WIKI}"
    scheme = scheme.lower()
    if scheme not in hooks.known_schemes():
        return f"Apprise does not understand this URL (scheme '{scheme}'); see {APPRISE_WIKI}"
    details = [
        record_text(r).strip()
        for r in records
        if r.levelno == logging.WARNING and "URL" not in record_text(r)  # ERROR lines repeat the URL
    ]
    detail = scrub_reason("; ".join(d.rstrip(". :") for d in details), secrets)
    because = f": {shorten(detail, REASON_MAX)}" if detail else " (missing or invalid parts)"
    return f"Apprise cannot use this '{scheme}' URL{because}; see {APPRISE_WIKI}"


def _is_email(plugin: Any) -> bool:
    try:
        from apprise.plugins.email import NotifyEmail
    except ImportError:  # pragma: no cover - other Apprise layouts
        return False
    return isinstance(plugin, NotifyEmail) and isinstance(getattr(plugin, "headers", None), dict)


def _format(plugin: Any) -> Any:
    """The service's (possibly ?format= overridden) default format."""
    resolve = getattr(plugin, "resolve_format", None)
    if callable(resolve):  # Apprise 2.x
        return resolve(None)
    fmt = plugin.notify_format
    return fmt[0] if isinstance(fmt, tuple) else fmt


def _dialect(plugin: Any, markdown: str) -> str | None:
    """Apprise's conversion of a probe in Markdown into the service's own dialect; None when the plugin has
    no converter or it fails on the probe (the Markdown form is then kept as written)."""
    convert = getattr(plugin, "dialect_convert", None)
    if not callable(convert):
        return None
    try:
        return str(convert(markdown, NotifyFormat.MARKDOWN))
    except Exception:
        return None


def _escapes_markdown_again(plugin: Any) -> bool:
    """Whether Apprise's conversion of Markdown into the service's own dialect escapes ``&`` itself (so
    our entity-escaped Markdown would arrive double-escaped) while the service also takes plain text."""
    resolve = getattr(plugin, "resolve_format", None)
    if not callable(resolve) or resolve(NotifyFormat.TEXT) != NotifyFormat.TEXT:
        return False
    converted = _dialect(plugin, "&amp;")
    return converted is not None and converted != "&amp;"


def _decodes_escapes(plugin: Any) -> bool:
    """Whether Apprise's conversion of Markdown into the service's own dialect decodes CommonMark's
    backslash escapes of ``& < >`` (so they reach the service as its dialect writes them), while it would
    show our ``&amp;`` entities as they are or escape them again."""
    converted = _dialect(plugin, "\\&\\<\\>")
    return converted is not None and "\\" not in converted


def _markdown_as_html(markdown: str) -> str | None:
    """Our Markdown as HTML by Apprise's own conversion (None if it fails: the text form goes instead)."""
    try:
        return str(convert_between(NotifyFormat.MARKDOWN, NotifyFormat.HTML, markdown))
    except Exception:  # an Apprise bug must not stop the alert
        return None


def _form(plugin: Any, fmt: Any, keys: set[str], email: bool) -> Form:
    """Which body the channel gets, from the service's format and Apprise's conversion for it (see the
    module docstring)."""
    if fmt == NotifyFormat.TEXT:
        return "text"
    if fmt == NotifyFormat.HTML:
        return "email" if email else "html"
    if "format" not in keys and _escapes_markdown_again(plugin):
        return "text"
    return "markdown-escapes" if _decodes_escapes(plugin) else "markdown"


def _limits(plugin: Any, fmt: Any, email: bool) -> Limits:
    """The service's size limits, as `monitor.render` needs them (see the module docstring)."""
    body = int(getattr(plugin, "body_maxlen", 0) or 0)
    title = int(getattr(plugin, "title_maxlen", 0) or 0)
    if body > 0 and fmt == NotifyFormat.HTML and not email:
        body = int(body * CONVERTED_MARGIN)  # our Markdown grows when converted
    return Limits(
        body=body if body > 0 else None, title=title if title > 0 else None, title_in_body=title <= 0
    )
