"""Feed text made safe for each form of a message; the only module that imports nh3.

Escaping is the environment's job, not the template's
    Every ``{{ ... }}`` output of a template is passed through its form's finalizer (`FINALIZERS`), or
    HTML-escaped by autoescape in the ``html`` form: Markdown by backslash-escaping its punctuation and
    turning ``<``/``>``/``&`` into entities; text and Markdown also neutralise chat mentions
    (``@everyone``, ``@here``, ``@room``, ``@user``, ``<@123>``, ``<!channel>``...) with an invisible
    zero-width space and break link/ping constructs (``[x](url)``, ``<url|x>``), so feed text can neither
    ping a room nor add a link. A user's override template is therefore as safe as ours. Links (`Link`)
    are only http(s) and are written as links: ``<url>`` in Markdown, ``href`` in HTML, as-is in text (an
    ``@`` in their path percent-encoded).

Untrusted text
    Feed fields are reduced to one line of plain text (`monitor.feeds.text`), except the summary in the
    HTML form: it is sanitised with nh3 (a few inline tags and http(s) links kept; scripts, styles,
    event handlers and ``javascript:`` links removed) and passed as markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import nh3
from markupsafe import Markup

ZWSP = "\u200b"  # zero-width space: invisible, but it stops a service from recognising a mention
_MENTION = re.compile(r"(?<=[@＠])(?=[\w&!#])")  # @everyone, @here, @room, @user:server, <@&role>...
_ANGLE_PING = re.compile(r"<(?=[@!#&])")  # Slack <!channel> <!here> <#C1>, Discord <@123> <#1> <@&1>
_MD_LINK = re.compile(r"\](?=[(\[])")  # [text](url), [text][ref]
_SLACK_LINK = re.compile(r"<(?=[a-z][a-z0-9+.\-]*:[^>]*\|)", re.IGNORECASE)  # <url|text>
_MD_ESCAPE = re.compile(r"([\\`*_\[\]~|#])")
_SAFE_LINK = re.compile(r"^https?://[^\s<>\"'`\\]+$", re.IGNORECASE)


def neutralise(text: str) -> str:
    """Text that a chat service shows as written: mentions and link/ping constructs broken by an
    invisible zero-width space."""
    text = _MENTION.sub(ZWSP, text)
    text = _ANGLE_PING.sub("<" + ZWSP, text)
    text = _SLACK_LINK.sub("<" + ZWSP, text)
    return _MD_LINK.sub("]" + ZWSP, text)


def md_escape(text: str) -> str:
    """Plain text for a Markdown body: HTML-significant characters as entities, Markdown punctuation
    backslash-escaped and mentions neutralised, so it renders literally in email (HTML) and chat."""
    text = _MENTION.sub(ZWSP, text)  # link and angle constructs die by the escaping below
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_ESCAPE.sub(r"\\\1", text)


_MD_ENTITY = re.compile(r"(<https?://[^\s<>]*>)|&(amp|lt|gt);|\\\](?=\(|\\\[)")  # autolinks kept whole
_ENTITY_AS_ESCAPE = {"amp": "\\&", "lt": "\\<", "gt": "\\>"}


def md_for_dialects(markdown: str) -> str:
    """A Markdown body for converters into chat dialects that decode CommonMark's backslash escapes but
    not its entities (Apprise's Google Chat, WhatsApp and Zoho Cliq conversions): the ``&amp; &lt; &gt;``
    of `md_escape` written as ``\\& \\< \\>`` (the same CommonMark), and an escaped ``]`` before ``(`` or
    ``[`` followed by a zero-width space, so a dialect without escapes cannot make feed text a link."""

    def one(match: re.Match[str]) -> str:
        if match.group(1):
            return match.group(1)
        return _ENTITY_AS_ESCAPE[match.group(2)] if match.group(2) else "\\]" + ZWSP

    return _MD_ENTITY.sub(one, markdown)


class Link(str):
    """An http(s) URL to be written as a link (see the module docstring)."""

    def shown(self) -> str:
        """The URL with '@' after the host percent-encoded, so no chat service reads it as a mention."""
        scheme, sep, rest = self.partition("://")
        host, slash, path = rest.partition("/")
        return f"{scheme}{sep}{host}{slash}{path.replace('@', '%40')}"


def as_link(value: str | None) -> Link | None:
    """`value` as a Link when it is an http(s) URL, else None (shown as text, never as a link)."""
    value = (value or "").strip()
    return Link(value) if value and _SAFE_LINK.match(value) else None


_SUMMARY_TAGS = {"a", "b", "strong", "i", "em", "code", "br", "sub", "sup"}


def sanitise_html(fragment: str) -> Markup:
    """Untrusted feed HTML reduced to a few inline tags and http(s) links (nh3): no scripts, styles,
    event handlers, images or javascript: links; markup that the HTML form does not escape again. Plain
    text comes back HTML-escaped."""
    cleaned = nh3.clean(
        fragment,
        tags=_SUMMARY_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(cleaned)  # nh3 kept only the safe subset


def _finalize_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Link):
        return value.shown()
    if isinstance(value, str):
        return neutralise(value)
    return value


def _finalize_markdown(value: Any) -> Any:
    if isinstance(value, Link):
        return f"<{value.shown()}>"  # an autolink keeps the URL visible in the text Apprise derives
    if value is None:
        return ""
    return md_escape(str(value))


# what every `{{ ... }}` output passes through, per form (HTML: Jinja2's autoescape instead)
FINALIZERS: dict[str, Callable[[Any], Any]] = {"text": _finalize_text, "markdown": _finalize_markdown}
