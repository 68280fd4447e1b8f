"""Delivery through Apprise; the only module that imports apprise. Rendering is `monitor.render`'s.

Which body a channel gets
    The service's own default format decides, unless the URL says ``?format=text|markdown|html``
    (`Channel.form`). Apprise 2.3 converts a body only into the service's format and then into the
    service's own dialect (``dialect_convert``), so each form is chosen for what that conversion does:

    - a text service (json://, ntfy, Discord, Matrix, console://) gets `Message.text` as plain text;
    - email gets `Message.html` as the HTML part and `Message.text` as the text/plain part of a
      multipart/alternative message (see "Email text part"); the subject is the Apprise title;
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
      escapes and ``[label](url)`` broken (`monitor.render.md_for_dialects`), so the converter writes
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
    that fits (`monitor.render.render(alert, limit=channel.limits)`) instead of letting Apprise or the
    service cut it, possibly inside a link. For Markdown that is converted to HTML (an HTML service other
    than email), the body limit is lowered by a margin for the tags the conversion adds.

Email text part
    Apprise's email plugin takes one body; for HTML it builds multipart/alternative itself, deriving the
    text/plain part with ``convert_between(HTML, TEXT, body)`` (imported into
    ``apprise.plugins.email.base``). This module wraps that one function so that, during our own send
    and only then (a context variable), converting exactly the HTML we sent returns our text template's
    output instead of a lossy derivation. Without that hook (an Apprise that no longer has it) mail still
    goes out, with Apprise's derived text part. The alternative (building and sending MIME ourselves)
    would bypass Apprise's SMTP handling, TLS modes and error reporting for every email channel.

Email headers
    In-Reply-To and References come from the email plugin's ``_protocol_headers`` hook (headers a subclass
    adds to each message), which this module sets on each email channel's plugin to return the headers of
    the send that runs it (a context variable, as Apprise runs each send in a copy of the caller's context).
    The plugin's shared `headers` mapping is never changed: a send that Apprise abandons at SEND_DEADLINE
    may still build its message later, and must not pick up the next send's headers. Apprise always generates the Message-ID itself (``email.utils.make_msgid`` imported into
    ``apprise.plugins.email.base``); this module wraps that one function so that, during our own send and
    only then (a context variable), it returns the Message-ID chosen by the outbox. Without that hook (an
    Apprise that no longer has it) mail still goes out, with Apprise's id; References then still names the
    story's first id, which clients that thread on References honour.

Delivery
    `Channel` builds one Apprise object per channel, once. `Channel.send` never raises for a delivery
    failure; it returns a `DeliveryOutcome` whose `reason` comes from Apprise's own log lines for that
    call (captured per call through a context variable, so concurrent sends do not mix) and is scrubbed
    of the channel URL's secret parts and of anything URL-shaped. `is_retryable` is the one place that
    decides retry-later versus give-up.

Time limits and retries
    Our outbox retries with backoff, so Apprise must not: every channel gets ``retry=0`` (a ``retry=``
    in the URL is ignored). Unless the URL sets ``cto=`` / ``rto=`` (seconds), connect and read
    timeouts are capped at CONNECT_TIMEOUT / READ_TIMEOUT (Apprise's HTTP defaults of 4 s are lower and
    kept; its SMTP default of 15 s is lowered). Apprise 2.x also abandons a send after SEND_DEADLINE
    seconds; that is reported as a retryable failure. Apprise also waits 5.5 s between two sends of one
    email channel; that is lowered to EMAIL_SEND_INTERVAL, so twenty emails held back by an SMTP outage
    go out in seconds once the server is back (a server that objects answers 4xx, which is retried).

Logging
    Apprise's DEBUG lines contain URLs with tokens, so this module owns the "apprise" logger: level
    DEBUG (needed to capture SMTP reply codes) and ``propagate=False``; "urllib3" (used only by Apprise's
    HTTP plugins, it logs request paths) gets ``propagate=False`` too. Nothing Apprise logs reaches the
    application's logs except through the scrubbed `DeliveryOutcome.reason`.

console://
    A scheme registered here that prints the plain-text alert to stdout (flushed), so the default
    configuration, which ships no secrets, shows alerts in the terminal or the journal.
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape as html_escape
from typing import Any, Literal
from urllib.parse import quote, unquote

import apprise
from apprise import NotifyFormat
from apprise.conversion import convert_between

from monitor.core.errors import DeliveryError
from monitor.render.escaping import md_escape, md_for_dialects
from monitor.render.fields import shorten
from monitor.render.model import Limits, Message

__all__ = [
    "Channel",
    "DeliveryOutcome",
    "check_channel_url",
    "is_retryable",
    "scrub",
    "secret_parts",
]

CONNECT_TIMEOUT = 10.0  # seconds; upper bound unless the URL sets cto=
READ_TIMEOUT = 15.0  # seconds; upper bound unless the URL sets rto=
SEND_DEADLINE = 30.0  # seconds; Apprise 2.x stops waiting for a service after this
EMAIL_SEND_INTERVAL = 0.25  # seconds between two emails of one channel (Apprise's default: 5.5)
REASON_MAX = 400  # characters kept of a failure reason
APPRISE_WIKI = "https://github.com/caronc/apprise/wiki"

CONVERTED_MARGIN = 0.75  # share of a body limit left to Markdown that Apprise converts to HTML


# --- secrets --------------------------------------------------------------------------------------

_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*)://", re.DOTALL)
_DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$", re.IGNORECASE)
# Query keys whose values are settings rather than secrets; every other value is treated as secret.
_SAFE_QUERY_KEYS = frozenset(
    {"mode", "format", "overflow", "cto", "rto", "method", "verify", "retry", "wait", "name", "smtp"}
)
_MIN_SECRET = 4  # shorter fragments are not replaced (they would mangle ordinary words)


def _is_public_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return host.lower() == "localhost" or bool(_DNS_NAME.match(host))


def secret_parts(url: str) -> set[str]:
    """The parts of a channel URL that must never be shown: user, password, a host that is not a plain
    host name or IP (Apprise puts tokens there, e.g. tgram://TOKEN/...), every path segment and every
    query value except known settings; both raw and percent-decoded forms. Fragments shorter than
    four characters are left out."""
    match = _SCHEME.match(url)
    rest = url[match.end() :] if match else url
    rest, _, query = rest.partition("?")
    rest = rest.partition("#")[0]
    netloc, _, path = rest.partition("/")
    userinfo, at, hostport = netloc.rpartition("@")
    parts: list[str] = []
    if at:
        user, _, password = userinfo.partition(":")
        parts += [user, password, userinfo]
    host, _, port = hostport.partition(":") if not hostport.startswith("[") else (hostport, "", "")
    if host and not _is_public_host(unquote(host)):
        parts.append(host)
    if port and not port.isdigit():
        parts.append(port)
    parts += path.split("/")
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key.lower() not in _SAFE_QUERY_KEYS:
            parts.append(value)
    found: set[str] = set()
    for part in parts:
        for form in (part, unquote(part), quote(unquote(part), safe="")):
            if len(form) >= _MIN_SECRET:
                found.add(form)
    return found


_URL_IN_TEXT = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]*)://[^\s'\"<>()]+")
_URL_USERINFO = re.compile(r"^[^/@?#]*@")
_REQUESTS_PATH = re.compile(r"(with url: )\S+")


def _scrub_url(match: re.Match[str]) -> str:
    scheme = match.group(1)
    rest = match.group(0)[len(scheme) + 3 :]
    rest = _URL_USERINFO.sub("", rest)
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    shown = host if _is_public_host(host.rsplit(":", 1)[0]) else "***"
    tail = "/…" if len(rest) > len(host) else ""
    return f"{scheme}://{shown}{tail}"


def scrub(text: str, secrets: set[str] | frozenset[str] = frozenset()) -> str:
    """Text with every given secret replaced by ***, and every URL cut to scheme://host (credentials,
    path and query removed; a host that is not a plain host name or IP is replaced too)."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _URL_IN_TEXT.sub(_scrub_url, text)
    return _REQUESTS_PATH.sub(r"\1…", text)


# --- failure classification -----------------------------------------------------------------------

_HTTP_STATUS = re.compile(
    r"\berror=(\d{3})\b|\bHTTP(?: status)?[ :]+(\d{3})\b|\bstatus(?: code)?[ =:]+(\d{3})\b"
)
_SMTP_REPLY = re.compile(r"\((\d{3}), b?['\"]|\brefused: (\d{3})\b|^(\d{3})[ -]\d\.\d\.\d", re.MULTILINE)
_PERMANENT_WORDS = re.compile(
    r"authenticat|credentials|unauthori[sz]ed|forbidden|certificate verify failed|\bcertificate\b"
    r"|invalid (?:e-?mail|address|recipient|token|webhook|api key|chat)|no email recipients"
    r"|recipient .* refused|SMTPRecipientsRefused|SMTPSenderRefused|SMTPNotSupportedError"
    r"|auth(?:entication)? (?:extension )?not supported|could not load|unparseable",
    re.IGNORECASE,
)
_RETRYABLE_HTTP = frozenset({408, 425, 429})


def is_retryable(log_text: str) -> bool:
    """Whether a failed delivery may succeed later, judged from what Apprise logged about it.

    In order: an HTTP status (``error=NNN``) decides — 5xx, 408, 425 and 429 retry, any other 4xx is
    permanent; else an SMTP reply code — 4xx retries, 5xx (535 auth failure, 550 mailbox) is permanent;
    else permanent words (authentication, certificate, invalid address...); else transient words
    (timeout, connection refused/reset, DNS failure, 'connection error'...). Text that matches nothing
    is retryable: the outbox's attempt limit ends it, while a wrong 'permanent' would lose an alert.
    """
    for match in _HTTP_STATUS.finditer(log_text):
        code = int(next(g for g in match.groups() if g))
        if 400 <= code <= 599:
            return code >= 500 or code in _RETRYABLE_HTTP
    for match in _SMTP_REPLY.finditer(log_text):
        code = int(next(g for g in match.groups() if g))
        if 400 <= code <= 599:
            return code < 500
    # Timeouts, refused/reset connections, DNS failures, 'connection error' and anything unrecognised.
    return not _PERMANENT_WORDS.search(log_text)


# --- Apprise plumbing -----------------------------------------------------------------------------

_apprise_logger = logging.getLogger("apprise")
# Apprise's HTTP plugins use requests; urllib3 logs request paths (tokens) at DEBUG. Only Apprise uses it
# here (feeds are fetched with httpx), so its records are kept out of the application's logs as well.
_urllib3_logger = logging.getLogger("urllib3")
_capture: contextvars.ContextVar[list[logging.LogRecord] | None] = contextvars.ContextVar(
    "monitor_notify_capture", default=None
)


class _CaptureHandler(logging.Handler):
    """Hands each Apprise record to the capture list of the send() that caused it, if any."""

    monitor_capture = True

    def emit(self, record: logging.LogRecord) -> None:
        sink = _capture.get()
        if sink is not None:
            sink.append(record)


def _own_apprise_logger() -> None:
    """DEBUG level (SMTP reply codes are only logged at DEBUG) and no propagation (Apprise logs URLs
    with tokens). Re-asserted before each send, since logging set-up elsewhere may lower the level."""
    if _apprise_logger.level != logging.DEBUG:
        _apprise_logger.setLevel(logging.DEBUG)
    _apprise_logger.propagate = False
    _urllib3_logger.propagate = False


def _install_capture_handler() -> None:
    for handler in list(_apprise_logger.handlers):
        if getattr(handler, "monitor_capture", False):  # from an earlier import of this module
            _apprise_logger.removeHandler(handler)
    _apprise_logger.addHandler(_CaptureHandler(logging.DEBUG))
    _own_apprise_logger()


_install_capture_handler()


@contextmanager
def _capturing() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []
    token = _capture.set(records)
    try:
        yield records
    finally:
        _capture.reset(token)


def _record_text(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:
        return str(record.msg)


_ERRNO = re.compile(r"\[Errno -?\d+\][^\"')\]]*")


def _failure_text(records: list[logging.LogRecord]) -> str:
    """The lines that explain a failure: warnings and errors, plus the exception detail Apprise logs at
    DEBUG ('Socket Exception: ...') and the start of the response body."""
    lines = []
    for record in records:
        message = _record_text(record).strip()
        if record.levelno >= logging.WARNING:
            if message.startswith(("Notifying ", "Sent ")):
                continue
            lines.append(message)
        elif message.startswith("Socket Exception:"):
            # requests wraps the OS error in pool/URL noise; the innermost [Errno N] text is the news
            errno = _ERRNO.findall(message)
            detail = f"Socket Exception: {errno[-1].strip()}" if errno else message
            lines.append(shorten(" ".join(detail.split()), 160))
        elif message.startswith("Response Details:"):
            lines.append(shorten(" ".join(message.split()), 160))
    return "; ".join(dict.fromkeys(lines))


def _make_asset() -> apprise.AppriseAsset:
    try:  # Apprise 2.x: a per-service deadline; memory-only persistent storage
        return apprise.AppriseAsset(service_timeout=SEND_DEADLINE, storage_mode="memory")
    except Exception:  # older Apprise without these options
        return apprise.AppriseAsset()


def _query_keys(url: str) -> set[str]:
    query = url.partition("?")[2]
    return {pair.partition("=")[0].lower() for pair in query.split("&") if pair}


def _problem(url: str, records: list[logging.LogRecord], secrets: set[str]) -> str:
    match = _SCHEME.match(url)
    if not match:
        return f"this is not an Apprise URL (expected scheme://...); see {APPRISE_WIKI}"
    scheme = match.group(1).lower()
    if scheme not in _known_schemes():
        return f"Apprise does not understand this URL (scheme '{scheme}'); see {APPRISE_WIKI}"
    details = [
        _record_text(r).strip()
        for r in records
        if r.levelno == logging.WARNING and "URL" not in _record_text(r)  # ERROR lines repeat the URL
    ]
    detail = scrub("; ".join(d.rstrip(". :") for d in details), secrets)
    because = f": {shorten(detail, REASON_MAX)}" if detail else " (missing or invalid parts)"
    return f"Apprise cannot use this '{scheme}' URL{because}; see {APPRISE_WIKI}"


def _known_schemes() -> set[str]:
    try:
        from apprise.manager_plugins import NotificationManager

        return {str(s).lower() for s in NotificationManager().schemas()}
    except Exception:  # pragma: no cover - other Apprise versions
        return set()


def _load(url: str) -> tuple[Any | None, str | None]:
    """(plugin, None) when Apprise accepts the URL as exactly one service, else (None, problem)."""
    secrets = secret_parts(url)
    _own_apprise_logger()
    with _capturing() as records:
        try:
            plugin = apprise.Apprise.instantiate(url, asset=_make_asset(), suppress_exceptions=True)
        except Exception:  # defensive: instantiate() is documented not to raise
            plugin = None
    if plugin is None:
        return None, _problem(url, records, secrets)
    return plugin, None


def check_channel_url(url: str) -> str | None:
    """None if Apprise accepts this URL, else a one-line problem (never containing the URL's secrets)."""
    if not url or not url.strip():
        return f"the URL is empty; see {APPRISE_WIKI}"
    _plugin, problem = _load(url.strip())
    return problem


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


Form = Literal["text", "email", "html", "markdown", "markdown-escapes"]


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
    if body > 0 and fmt == NotifyFormat.HTML and not email:  # our Markdown grows when converted
        body = int(body * CONVERTED_MARGIN)
    return Limits(
        body=body if body > 0 else None, title=title if title > 0 else None, title_in_body=title <= 0
    )


@dataclass(frozen=True)
class DeliveryOutcome:
    ok: bool
    reason: str | None  # why it failed, from Apprise's log; never contains the URL or its secrets
    retryable: bool


class _Secrets(frozenset[str]):
    """The secret fragments of a channel URL; its repr hides them (vars(channel), debuggers, log dumps)."""

    def __repr__(self) -> str:
        return f"<{len(self)} secret URL parts hidden>"

    __str__ = __repr__


class Channel:
    """One Apprise object per channel, built once; `send` never raises for delivery failures."""

    def __init__(self, name: str, url: str) -> None:
        url = url.strip()
        plugin, problem = _load(url)
        if plugin is None:
            raise DeliveryError(f"channel '{name}': {problem}")
        self.name = name
        self._secrets = _Secrets(secret_parts(url))
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
            _hook_reply_headers(plugin)
        self.form: Form = _form(plugin, fmt, keys, self._email)
        self.limits = _limits(plugin, fmt, self._email)
        if self._email and float(getattr(plugin, "request_rate_per_sec", 0) or 0) > EMAIL_SEND_INTERVAL:
            plugin.request_rate_per_sec = (
                EMAIL_SEND_INTERVAL  # drain an outage backlog in seconds, not minutes
            )
        self._plugin = plugin
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
        _own_apprise_logger()
        with self._lock, _capturing() as records, self._threading(message), _text_part_as(text_part):
            try:
                result = self._apprise.notify(body=body, title=title, body_format=body_format)
            except Exception as exc:  # an Apprise bug must not take the delivery loop down
                reason = scrub(f"{type(exc).__name__}: {exc}", self._secrets)
                return DeliveryOutcome(ok=False, reason=shorten(reason, REASON_MAX), retryable=True)
        if result:
            return DeliveryOutcome(ok=True, reason=None, retryable=False)
        text = _failure_text(records)
        status = getattr(result, "status", None)
        if getattr(status, "name", "") == "TIMEOUT":
            text = f"no answer within {SEND_DEADLINE:g}s (timed out)" + (f"; {text}" if text else "")
        if not text:
            text = f"{self.service} reported a failure without details"
        retryable = is_retryable(text)
        reason = shorten(scrub(text, self._secrets), REASON_MAX)
        return DeliveryOutcome(ok=False, reason=reason, retryable=retryable)

    @contextmanager
    def _threading(self, message: Message) -> Iterator[None]:
        """For email only, during one send: our Message-ID, and In-Reply-To/References for updates."""
        if not self._email or not (message.message_id or message.in_reply_to):
            yield
            return
        reply: dict[str, str] = {}
        if message.in_reply_to:
            reply["In-Reply-To"] = message.in_reply_to
            reply["References"] = " ".join(message.references or (message.in_reply_to,))
        id_token, reply_token = _message_id.set(message.message_id), _reply_headers.set(reply)
        try:
            yield
        finally:
            _reply_headers.reset(reply_token)
            _message_id.reset(id_token)


# --- email text part ------------------------------------------------------------------------------

_text_part: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "monitor_text_part", default=None
)


@contextmanager
def _text_part_as(pair: tuple[str, str] | None) -> Iterator[None]:
    """During one send: (the HTML body sent, the text/plain part to go with it)."""
    token = _text_part.set(pair)
    try:
        yield
    finally:
        _text_part.reset(token)


def _hook_email_base(name: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Replace the function `name` that Apprise's email plugin imported by `wrap(original)`, once (a
    re-import of this module finds its hook and leaves it); nothing when Apprise no longer has it."""
    try:
        from apprise.plugins.email import base as email_base
    except ImportError:  # pragma: no cover
        return
    original = getattr(email_base, name, None)
    if original is None or getattr(original, "monitor_hook", False):
        return
    hooked = wrap(original)
    hooked.monitor_hook = True  # type: ignore[attr-defined]
    setattr(email_base, name, hooked)


def _text_part_hook(original: Callable[..., Any]) -> Callable[..., Any]:
    """Let `Channel.send` supply the text/plain part of an HTML email (see the module docstring)."""

    def convert_between(
        from_format: Any, to_format: Any, content: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        pair = _text_part.get()
        if (
            pair is not None
            and from_format == NotifyFormat.HTML
            and to_format == NotifyFormat.TEXT
            and isinstance(content, str)
            and content.strip() == pair[0].strip()
        ):
            return pair[1]
        return original(from_format, to_format, content, *args, **kwargs)

    return convert_between


_hook_email_base("convert_between", _text_part_hook)


# --- email Message-ID -----------------------------------------------------------------------------

_message_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("monitor_message_id", default=None)


def _is_email(plugin: Any) -> bool:
    try:
        from apprise.plugins.email import NotifyEmail
    except ImportError:  # pragma: no cover - other Apprise layouts
        return False
    return isinstance(plugin, NotifyEmail) and isinstance(getattr(plugin, "headers", None), dict)


_reply_headers: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "monitor_reply_headers", default=None
)


def _hook_reply_headers(plugin: Any) -> None:
    """Let each send of this email plugin add its own In-Reply-To/References (see the module docstring)."""
    original = getattr(plugin, "_protocol_headers", None)
    if not callable(original):  # pragma: no cover - other Apprise versions: mail goes out unthreaded
        return

    def protocol_headers(body: Any) -> dict[str, str]:
        return {**(original(body) or {}), **(_reply_headers.get() or {})}

    plugin._protocol_headers = protocol_headers


def _message_id_hook(original: Callable[..., Any]) -> Callable[..., Any]:
    """Let `Channel.send` choose the Message-ID of the email it sends (see the module docstring)."""

    def make_msgid(*args: Any, **kwargs: Any) -> str:
        return _message_id.get() or original(*args, **kwargs)

    return make_msgid


_hook_email_base("make_msgid", _message_id_hook)


# --- console:// -----------------------------------------------------------------------------------

_console_lock = threading.Lock()


def _console_send(body: str, title: str, *args: Any, **kwargs: Any) -> bool:
    """console:// — print the alert to stdout, flushed, so the terminal or journal shows it at once."""
    with _console_lock:  # keep concurrent alerts from interleaving
        out = sys.stdout
        out.write(f"{title}\n{body}" if title else body)
        if not body.endswith("\n"):
            out.write("\n")
        out.write("\n")
        out.flush()
    return True


def _register_console() -> None:
    """Register console:// once; a second import (reload, test re-import) finds it and does nothing."""
    if "console" in _known_schemes():
        return
    from apprise.decorators import notify

    notify(on="console", name="Console (stdout)", body_format=NotifyFormat.TEXT)(_console_send)


_register_console()
