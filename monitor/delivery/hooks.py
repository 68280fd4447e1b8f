"""Everything that patches or configures Apprise, installed by `install()`, never on import.

`install()` is called at start-up (the daemon's dependencies, ``news-monitor test-channel``) and again by
`capturing()`, the doorway every call into Apprise goes through, so that a config check or a test that
builds a channel gets the same Apprise as the daemon. It is idempotent and thread-safe, and each step
recognises its own earlier work (a marker on the handler and the wrappers, the scheme list), so a
reloaded module installs nothing twice.

Logging
    Apprise's DEBUG lines contain URLs with tokens, so this module owns the "apprise" logger: level DEBUG
    (needed to capture SMTP reply codes) and ``propagate=False``; "urllib3" (used only by Apprise's HTTP
    plugins, it logs request paths) gets ``propagate=False`` too. One handler hands each record to the
    `capturing()` block that caused it (a context variable, so concurrent sends do not mix). Nothing
    Apprise logs reaches the application's logs except through a scrubbed failure reason.

Email text part
    Apprise's email plugin takes one body; for HTML it builds multipart/alternative itself, deriving the
    text/plain part with ``convert_between(HTML, TEXT, body)`` (imported into
    ``apprise.plugins.email.base``). That one function is wrapped so that, inside `sending()` and only
    then, converting exactly the HTML being sent returns our text template's output instead of a lossy
    derivation. Without that hook (an Apprise that no longer has it) mail still goes out, with Apprise's
    derived text part. The alternative (building and sending MIME ourselves) would bypass Apprise's SMTP
    handling, TLS modes and error reporting for every email channel.

Email headers
    In-Reply-To and References come from the email plugin's ``_protocol_headers`` hook (headers a
    subclass adds to each message), which `hook_reply_headers` sets on each email channel's plugin to
    return the headers of the `sending()` block that runs it (a context variable, as Apprise runs each
    send in a copy of the caller's context). The plugin's shared `headers` mapping is never changed: a
    send that Apprise abandons at its deadline may still build its message later, and must not pick up
    the next send's headers. Apprise always generates the Message-ID itself (``email.utils.make_msgid``
    imported into ``apprise.plugins.email.base``); that one function is wrapped so that, inside
    `sending()` and only then, it returns the Message-ID chosen by the outbox. Without that hook mail
    still goes out, with Apprise's id; References then still names the story's first id, which clients
    that thread on References honour.

console://
    A scheme that prints the plain-text alert to stdout (flushed), so the default configuration, which
    ships no secrets, shows alerts in the terminal or the journal.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from apprise import NotifyFormat
from apprise.decorators import notify
from apprise.manager_plugins import NotificationManager

_install_lock = threading.Lock()
_installed = False


def install() -> None:
    """Own Apprise's logger, hook its email module and register console://; once per process."""
    global _installed
    if _installed:
        return
    with _install_lock:
        if _installed:
            return
        _install_capture_handler()
        _hook_email_base("convert_between", _text_part_hook)
        _hook_email_base("make_msgid", _message_id_hook)
        _register_console()
        _installed = True


def known_schemes() -> set[str]:
    """The URL schemes this Apprise understands (console:// once installed), lower-case."""
    try:
        return {str(s).lower() for s in NotificationManager().schemas()}
    except Exception:  # pragma: no cover - other Apprise versions
        return set()


# --- logging ---------------------------------------------------------------------------------------

_apprise_logger = logging.getLogger("apprise")
_urllib3_logger = logging.getLogger("urllib3")
_capture: contextvars.ContextVar[list[logging.LogRecord] | None] = contextvars.ContextVar(
    "monitor_notify_capture", default=None
)


class _CaptureHandler(logging.Handler):
    """Hands each Apprise record to the capture list of the `capturing()` block that caused it, if any."""

    monitor_capture = True

    def emit(self, record: logging.LogRecord) -> None:
        sink = _capture.get()
        if sink is not None:
            sink.append(record)


def _own_logger() -> None:
    """DEBUG level (SMTP reply codes are only logged at DEBUG) and no propagation (Apprise logs URLs
    with tokens). Re-asserted on each capture, since logging set-up elsewhere may lower the level."""
    if _apprise_logger.level != logging.DEBUG:
        _apprise_logger.setLevel(logging.DEBUG)
    _apprise_logger.propagate = False
    _urllib3_logger.propagate = False


def _install_capture_handler() -> None:
    for handler in list(_apprise_logger.handlers):
        if getattr(handler, "monitor_capture", False):  # from an earlier load of this module
            _apprise_logger.removeHandler(handler)
    _apprise_logger.addHandler(_CaptureHandler(logging.DEBUG))
    _own_logger()


@contextmanager
def capturing() -> Iterator[list[logging.LogRecord]]:
    """The records Apprise logs inside this block (in this context only); installs the hooks first."""
    install()
    _own_logger()
    records: list[logging.LogRecord] = []
    token = _capture.set(records)
    try:
        yield records
    finally:
        _capture.reset(token)


# --- email -----------------------------------------------------------------------------------------

_text_part: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "monitor_text_part", default=None
)
_message_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("monitor_message_id", default=None)
_reply_headers: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "monitor_reply_headers", default=None
)


@contextmanager
def sending(
    *,
    text_part: tuple[str, str] | None = None,
    message_id: str | None = None,
    reply_headers: dict[str, str] | None = None,
) -> Iterator[None]:
    """During one send: (the HTML body sent, the text/plain part to go with it), the Message-ID to use,
    and the In-Reply-To/References headers to add (see the module docstring)."""
    tokens = (
        _text_part.set(text_part),
        _message_id.set(message_id),
        _reply_headers.set(reply_headers),
    )
    try:
        yield
    finally:
        _reply_headers.reset(tokens[2])
        _message_id.reset(tokens[1])
        _text_part.reset(tokens[0])


def hook_reply_headers(plugin: Any) -> None:
    """Let each send of this email plugin add its own In-Reply-To/References (see the module docstring)."""
    original = getattr(plugin, "_protocol_headers", None)
    if not callable(original):  # pragma: no cover - other Apprise versions: mail goes out unthreaded
        return

    def protocol_headers(body: Any) -> dict[str, str]:
        return {**(original(body) or {}), **(_reply_headers.get() or {})}

    plugin._protocol_headers = protocol_headers


def _hook_email_base(name: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Replace the function `name` that Apprise's email plugin imported by `wrap(original)`, once (a
    later call finds its hook and leaves it); nothing when Apprise no longer has it."""
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
    """Let a send supply the text/plain part of an HTML email (see the module docstring)."""

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


def _message_id_hook(original: Callable[..., Any]) -> Callable[..., Any]:
    """Let a send choose the Message-ID of the email it sends (see the module docstring)."""

    def make_msgid(*args: Any, **kwargs: Any) -> str:
        return _message_id.get() or original(*args, **kwargs)

    return make_msgid


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
    """Register console:// unless this Apprise already has it (from an earlier load of this module)."""
    if "console" in known_schemes():
        return
    notify(on="console", name="Console (stdout)", body_format=NotifyFormat.TEXT)(_console_send)
