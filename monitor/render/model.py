"""What the renderer takes and gives: an alert or a digest in, a message out, within a channel's limits;
and the names of the template parts a channel may override.

Plain data with no rendering library, so the config layer can import the part names cheaply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

ALERT_PARTS = ("subject", "text", "markdown", "html")
DIGEST_PARTS = ("digest_subject", "digest_text", "digest_markdown", "digest_html")
PARTS = ALERT_PARTS + DIGEST_PARTS  # the keys of a channel's `templates:` override mapping
# operator notices: built-in templates only (they go to the operator, not to a channel's readers)
NOTICE_PARTS = tuple(f"{notice}_{form}" for notice in ("dead_letter", "test") for form in ALERT_PARTS)


@dataclass(frozen=True)
class OtherSource:
    outlet: str
    title: str
    link: str | None
    copy: bool = False  # a reprint of another outlet's report


@dataclass(frozen=True)
class Alert:
    watch: str  # watch name
    severity: str  # low|medium|high|critical
    topics: list[str]  # e.g. ["ceasefire", "escalation"]
    place: str  # display label for the subject, e.g. "Nagorno-Karabakh"
    entities: list[str]  # labels
    headline: str
    outlet: str  # feed name / channel title
    published_at: datetime | None
    link: str | None
    evidence: list[str]  # short human-readable lines, e.g. 'escalation: "shelled" (summary)'
    summary: str = ""
    update: bool = False  # an update to an alert already sent about this story
    reasons: list[str] = field(default_factory=list)  # why an update was sent
    sources: list[OtherSource] = field(default_factory=list)  # the other outlets carrying the story
    message_id: str | None = None  # email threading (RFC 5322 ids with angle brackets)
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    # the rule pack's `tag_priority` per topic: of `topics`, the highest names the alert in its subject
    # (ties and topics not listed: the first); empty: the first topic
    tag_priority: Mapping[str, int] = field(default_factory=dict)
    # the turning point this alert announces, as its subject tag ("CEASEFIRE IN EFFECT"); None: not a turn
    phase: str | None = None


@dataclass(frozen=True)
class Digest:
    """Several stories in one message for one channel (built by the routing side)."""

    channel: str
    alerts: list[Alert]
    period_start: datetime | None = None
    period_end: datetime | None = None


@dataclass(frozen=True)
class Message:
    subject: str
    text: str  # plain text
    markdown: str  # Markdown body for channels that take it
    html: str = ""  # the HTML part of an email (empty: the channel converts the Markdown body)
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    problem: str | None = None  # an override template failed at send time; the built-in one was used


@dataclass(frozen=True)
class Limits:
    """A channel's size limits in characters (None: none). `title_in_body`: the service has no title, so
    the subject is put in front of the body (subject, a line break, body) and counts against `body`."""

    body: int | None = None
    title: int | None = None
    title_in_body: bool = False
