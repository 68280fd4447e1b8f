"""Messages from alerts and digests through Jinja2 templates; the only module that imports jinja2 and nh3.

Forms
    Every message has a subject and three bodies, each from its own template in ``monitor/templates``:
    ``text`` (plain text: text services such as json://, Discord, ntfy, console://, and the text/plain
    part of email, and Slack: see `monitor.delivery`), ``markdown`` (Markdown services, and Telegram through
    Apprise's Markdown→HTML conversion) and ``html`` (the HTML part of email). `monitor.delivery` picks the form.

Escaping is the environment's job, not the template's
    Templates run in a Jinja2 sandbox with StrictUndefined (a misspelt field is an error, found by
    ``check-config``), and every ``{{ ... }}`` output is escaped for its form: HTML by autoescape; Markdown
    by backslash-escaping its punctuation and turning ``<``/``>``/``&`` into entities; text and Markdown
    also neutralise chat mentions (``@everyone``, ``@here``, ``@room``, ``@user``, ``<@123>``,
    ``<!channel>``...) with an invisible zero-width space and break link/ping constructs (``[x](url)``,
    ``<url|x>``), so feed text can neither ping a room nor add a link. A user's override template is
    therefore as safe as ours. Links (`Link`) are only http(s) and are written as links: ``<url>`` in
    Markdown, ``href`` in HTML, as-is in text (an ``@`` in their path percent-encoded).

Untrusted text
    Feed fields are reduced to one line of plain text (`monitor.feeds.text`), except the summary in the
    HTML form: it is sanitised with nh3 (a few inline tags and http(s) links kept; scripts, styles,
    event handlers and ``javascript:`` links removed) and passed as markup.

Limits
    `Limits` (from the channel's Apprise plugin) bound the subject and each body. A message that does not
    fit is rendered again with the least important parts dropped first — other sources, then the
    summary, then evidence and entities, then a shorter headline — and the template is told what was
    dropped (``*_omitted`` fields). If even the barest rendering is too long, an alert becomes its
    headline (shortened) and its link; the link is never cut: kept whole, or left out whole when it
    cannot fit at all. A subject that the service puts into the body takes at most a third of it.
    A digest that does not fit keeps its highest-ranked stories: the number kept is searched for
    (O(log n) renders, so a weekly digest of thousands of stories renders in well under a second).
"""

from __future__ import annotations

import difflib
import re
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nh3
from jinja2 import FunctionLoader, StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from monitor.feeds.text import clean_line, html_to_text
from monitor.match.rules import level_rank

__all__ = [
    "ALERT_PARTS",
    "DIGEST_PARTS",
    "PARTS",
    "Alert",
    "Digest",
    "Limits",
    "Link",
    "Message",
    "OtherSource",
    "TemplateProblem",
    "Templates",
    "check_templates",
    "md_escape",
    "md_for_dialects",
    "neutralise",
    "render",
    "render_dead_letter",
    "render_digest",
    "render_test",
    "sanitise_html",
    "shorten",
    "templates_for",
]

TOPIC_PRIORITY = ("escalation", "ceasefire")  # earlier wins the subject tag
SUMMARY_MAX = 600
SUBJECT_HEADLINE_MAX = 160

ALERT_PARTS = ("subject", "text", "markdown", "html")
DIGEST_PARTS = ("digest_subject", "digest_text", "digest_markdown", "digest_html")
PARTS = ALERT_PARTS + DIGEST_PARTS  # the keys of a channel's `templates:` override mapping


# --- inputs and output ----------------------------------------------------------------------------


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


# --- escaping -------------------------------------------------------------------------------------

plain = html_to_text  # untrusted feed text as one line of plain text

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


def _link(value: str | None) -> Link | None:
    value = (value or "").strip()
    return Link(value) if value and _SAFE_LINK.match(value) else None


_SUMMARY_TAGS = {"a", "b", "strong", "i", "em", "code", "br", "sub", "sup"}


def sanitise_html(fragment: str) -> str:
    """Untrusted feed HTML reduced to a few inline tags and http(s) links (nh3): no scripts, styles,
    event handlers, images or javascript: links. Plain text comes back HTML-escaped."""
    return nh3.clean(
        fragment,
        tags=_SUMMARY_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


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


# --- templates ------------------------------------------------------------------------------------

_BUILTIN = resources.files("monitor.render") / "templates"
_FORM_OF = {
    "subject": "text",
    "text": "text",
    "markdown": "markdown",
    "html": "html",
    "digest_subject": "text",
    "digest_text": "text",
    "digest_markdown": "markdown",
    "digest_html": "html",
}
_SUFFIX = {"text": "txt", "markdown": "md", "html": "html"}


def _builtin_name(part: str) -> str:
    return f"{part}.{_SUFFIX[_FORM_OF[part]]}.j2"


def _make_env(form: str, sources: dict[str, tuple[str, str]]) -> SandboxedEnvironment:
    def load(name: str) -> tuple[str, str, Callable[[], bool]] | None:
        found = sources.get(name)
        return (found[0], found[1], lambda: True) if found else None

    if form == "html":
        env = SandboxedEnvironment(loader=FunctionLoader(load), autoescape=True, undefined=StrictUndefined)
    else:
        env = SandboxedEnvironment(
            loader=FunctionLoader(load),
            autoescape=False,
            undefined=StrictUndefined,
            finalize=_finalize_markdown if form == "markdown" else _finalize_text,
        )
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.keep_trailing_newline = True
    return env


class TemplateProblem(Exception):
    """An override template that cannot be used: `where` is file:line, `what` the problem."""

    def __init__(self, part: str, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}")
        self.part, self.where, self.what = part, where, what


def _error_line(exc: BaseException, filename: str) -> int | None:
    """The template line a render error happened on (Jinja maps template lines into the traceback)."""
    lineno = getattr(exc, "lineno", None)
    if lineno:
        return int(lineno)
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == filename:
            return frame.lineno
    return None


class Templates:
    """The eight templates of one channel: the built-in ones with the channel's overrides on top."""

    def __init__(self, overrides: Mapping[str, Path] | None = None, *, lenient: bool = False) -> None:
        """Raise TemplateProblem for an override that cannot be loaded, unless `lenient`: then the built-in
        template stands in and the problem is kept in `broken` (for a file edited after the check)."""
        self.overrides = {k: Path(v) for k, v in (overrides or {}).items()}
        unknown = set(self.overrides) - set(PARTS)
        if unknown:
            raise ValueError(f"unknown template part(s): {', '.join(sorted(unknown))}")
        self.broken: list[str] = []
        self._compiled: dict[str, Any] = {}
        self._builtin = _builtin_templates()
        for part in PARTS:
            path = self.overrides.get(part)
            self._compiled[part] = self._builtin[part]
            if path is None:
                continue
            try:
                self._compiled[part] = self._load_override(part, path)
            except TemplateProblem as exc:
                if not lenient:
                    raise
                self.broken.append(f"template {part}: {exc}; used the built-in one")

    @staticmethod
    def _load_override(part: str, path: Path) -> Any:
        try:
            source = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TemplateProblem(part, str(path), "no such template file") from None
        except UnicodeDecodeError as exc:
            raise TemplateProblem(
                part, str(path), f"not UTF-8 text ({exc.reason}); save it as UTF-8"
            ) from None
        except OSError as exc:
            raise TemplateProblem(part, str(path), f"cannot read: {exc.strerror or exc}") from None
        env = _make_env(_FORM_OF[part], {part: (source, str(path))})
        try:
            return env.get_template(part)
        except TemplateSyntaxError as exc:
            raise TemplateProblem(
                part, f"{path}:{exc.lineno}", f"Jinja syntax error: {exc.message}"
            ) from None

    def run(self, part: str, context: Mapping[str, Any]) -> tuple[str, str | None]:
        """(rendered text, problem): an override that fails at send time falls back to the built-in."""
        template = self._compiled[part]
        try:
            return template.render(context), None
        except Exception as exc:
            if template is self._builtin[part]:
                raise  # our own template failing is a bug, not a user's typo
            problem = _describe_runtime_error(exc, str(self.overrides[part]), list(context))
            return self._builtin[part].render(context), f"template {part}: {problem}; used the built-in one"

    def check(self, part: str, context: Mapping[str, Any]) -> None:
        """Render an override against a sample context; raise TemplateProblem with file:line if it fails."""
        path = self.overrides[part]
        try:
            self._compiled[part].render(context)
        except Exception as exc:
            line = _error_line(exc, str(path))
            raise TemplateProblem(
                part,
                f"{path}:{line}" if line else str(path),
                _describe_runtime_error(exc, None, list(context)),
            ) from None


_UNDEFINED_NAME = re.compile(r"^'(\w+)' is undefined")


def _describe_runtime_error(exc: BaseException, filename: str | None, fields: Sequence[str] = ()) -> str:
    line = _error_line(exc, filename) if filename else None
    where = f"{filename}:{line}: " if filename and line else (f"{filename}: " if filename else "")
    if isinstance(exc, TemplateError) and "is undefined" in str(exc):
        text = exc.message or str(exc)
        name = _UNDEFINED_NAME.match(text)
        close = difflib.get_close_matches(name.group(1), fields, n=1) if name else []
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"{where}{text}{hint} (the fields are listed in README, section Templates)"
    return f"{where}{type(exc).__name__}: {exc}"


_CACHE_LOCK = threading.Lock()  # channels render on worker threads
_BUILTIN_CACHE: dict[str, Any] = {}


def _builtin_templates() -> dict[str, Any]:
    with _CACHE_LOCK:
        if not _BUILTIN_CACHE:
            compiled = {}
            for part in PARTS:
                name = _builtin_name(part)
                source = (_BUILTIN / name).read_text(encoding="utf-8")
                env = _make_env(_FORM_OF[part], {part: (source, f"monitor/render/templates/{name}")})
                compiled[part] = env.get_template(part)
            _BUILTIN_CACHE.update(compiled)
        return _BUILTIN_CACHE


_TEMPLATES_CACHE: dict[tuple[tuple[str, str, int, int], ...], Templates] = {}


def templates_for(overrides: Mapping[str, Path] | None) -> Templates:
    """The channel's templates, compiled once per version of its files (an edited file is re-read; one
    that no longer compiles is replaced by the built-in template, and `render` reports it)."""
    key = []
    for part, path in sorted((overrides or {}).items()):
        try:
            stat = Path(path).stat()
            key.append((part, str(path), stat.st_mtime_ns, stat.st_size))
        except OSError:
            key.append((part, str(path), -1, -1))
    with _CACHE_LOCK:
        cached = _TEMPLATES_CACHE.get(tuple(key))
    if cached is None:
        cached = Templates(overrides, lenient=True)  # a file broken since the config was checked: built-in
        with _CACHE_LOCK:
            _TEMPLATES_CACHE[tuple(key)] = cached
    return cached


def check_templates(overrides: Mapping[str, Path]) -> list[TemplateProblem]:
    """Every problem with a channel's override templates: missing file, syntax error, or an error when
    rendering a sample alert and digest (a misspelt field). Empty when they are all usable."""
    problems: list[TemplateProblem] = []
    usable: dict[str, Path] = {}
    for part, path in overrides.items():
        try:
            Templates({part: path})
            usable[part] = Path(path)
        except TemplateProblem as exc:
            problems.append(exc)
    if not usable:
        return problems
    templates = Templates(usable)
    sample = _sample_alert()
    contexts = {
        "alert": {form: _alert_context(sample, form, _FULL) for form in _SUFFIX},
        "digest": {form: _digest_context(_sample_digest(sample), form, None) for form in _SUFFIX},
    }
    for part in usable:
        kind = "digest" if part.startswith("digest_") else "alert"
        try:
            templates.check(part, contexts[kind][_FORM_OF[part]])
        except TemplateProblem as exc:
            problems.append(exc)
    return problems


def _sample_alert() -> Alert:
    published = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    return Alert(
        watch="karabakh",
        severity="critical",
        topics=["escalation"],
        place="Nagorno-Karabakh",
        entities=["Stepanakert"],
        headline="Sample headline",
        outlet="Sample outlet",
        published_at=published,
        link="https://example.org/story",
        evidence=['escalation: "shelled" (title)'],
        summary="Sample summary.",
        update=True,
        reasons=["severity rose from high to critical"],
        sources=[OtherSource("Other outlet", "Other headline", "https://example.net/a", copy=True)],
        message_id="<sample@news-monitor>",
    )


def _sample_digest(alert: Alert) -> Digest:
    return Digest(
        channel="sample", alerts=[alert], period_start=alert.published_at, period_end=alert.published_at
    )


# --- alert context --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cut:
    """How much of an alert to show; each step of `_CUTS` shows less."""

    sources: int | None = None  # at most this many other sources (None: all)
    summary: int | None = SUMMARY_MAX  # characters of summary (0: none)
    evidence: int | None = None
    entities: bool = True
    headline: int | None = None


_FULL = _Cut()
_CUTS = (
    _FULL,
    _Cut(sources=3),
    _Cut(sources=0),
    _Cut(sources=0, summary=200),
    _Cut(sources=0, summary=0),
    _Cut(sources=0, summary=0, evidence=1),
    _Cut(sources=0, summary=0, evidence=0),
    _Cut(sources=0, summary=0, evidence=0, entities=False),
    _Cut(sources=0, summary=0, evidence=0, entities=False, headline=80),
)


def shorten(text: str, limit: int) -> str:
    """`text` within `limit` characters: cut at a character, an ellipsis in place of the rest."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def subject_tag(topics: Sequence[str]) -> str:
    """ONE tag for the subject: ESCALATION before CEASEFIRE, else the first topic."""
    lowered = [t.lower() for t in topics]
    for topic in TOPIC_PRIORITY:
        if topic in lowered:
            return topic.upper()
    return topics[0].upper() if topics else "ALERT"


def _published(value: datetime | None) -> str:
    if value is None:
        return "unknown"
    if value.tzinfo is None:  # the store keeps UTC; treat naive values as UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _clean_list(values: Sequence[str]) -> list[str]:
    return [v for v in (plain(x) for x in values) if v]


def _summary_html(raw: str, limit: int | None) -> Markup:
    """The summary for the HTML form: sanitised markup when it fits, else escaped shortened text."""
    text = plain(raw)
    if not text or limit == 0:
        return Markup("")
    if limit is None or len(text) <= limit:
        return Markup(sanitise_html(raw))
    return Markup(sanitise_html(shorten(text, limit)))


def _alert_context(alert: Alert, form: str, cut: _Cut) -> dict[str, Any]:
    topics = _clean_list(alert.topics)
    headline = plain(alert.headline) or "(no headline)"
    if cut.headline is not None:
        headline = shorten(headline, cut.headline)
    evidence = _clean_list(alert.evidence)
    all_sources = [
        {
            "outlet": plain(s.outlet) or "unknown outlet",
            "title": plain(s.title),
            "link": _link(s.link),
            "link_text": clean_line(s.link),
            "reprint": s.copy,
        }
        for s in alert.sources
    ]
    shown_sources = all_sources if cut.sources is None else all_sources[: cut.sources]
    shown_evidence = evidence if cut.evidence is None else evidence[: cut.evidence]
    summary_text = plain(alert.summary)
    summary: str | Markup = (
        _summary_html(alert.summary, cut.summary)
        if form == "html"
        else (shorten(summary_text, cut.summary) if cut.summary and summary_text else "")
    )
    entities = _clean_list(alert.entities)
    return {
        "kind": "update" if alert.update else "alert",
        "update": alert.update,
        "reasons": _clean_list(alert.reasons) if alert.update else [],
        "watch": plain(alert.watch),
        "place": plain(alert.place),
        "severity": plain(alert.severity) or "unknown",
        "tag": subject_tag(topics),
        "topics": topics,
        "topic_tags": " + ".join(t.upper() for t in topics) or "ALERT",
        "entities": entities if cut.entities else [],
        "entities_omitted": 0 if cut.entities else len(entities),
        "headline": headline,
        "subject_headline": shorten(headline, SUBJECT_HEADLINE_MAX),
        "outlet": plain(alert.outlet) or "unknown outlet",
        "published": _published(alert.published_at),
        "published_at": _aware(alert.published_at),
        "link": _link(alert.link),
        "link_text": clean_line(alert.link),
        "evidence": shown_evidence,
        "evidence_omitted": len(evidence) - len(shown_evidence),
        "summary": summary,
        "summary_cut": bool(summary_text) and (cut.summary == 0 or len(summary_text) > (cut.summary or 0)),
        "sources": shown_sources,
        "sources_total": len(all_sources),
        "sources_omitted": len(all_sources) - len(shown_sources),
        "cut": cut is not _FULL,
        "message_id": alert.message_id or "",
    }


# --- fitting --------------------------------------------------------------------------------------


def _hard_cut(body: str, limit: int, protected: Sequence[str]) -> str:
    """`body` cut to `limit` characters (an ellipsis included), never inside a protected string: the cut
    moves to before it."""
    if len(body) <= limit:
        return body
    if limit <= 1:
        return body[: max(limit, 0)]
    cut = limit - 1
    for needle in protected:
        if not needle:
            continue
        start = body.find(needle)
        while start != -1:
            if start < cut < start + len(needle):
                cut = start
            start = body.find(needle, start + 1)
    return body[:cut].rstrip() + "…"


def _subject(
    templates: Templates, part: str, context: dict[str, Any], limit: Limits
) -> tuple[str, str | None]:
    """The one-line subject, within the title limit; a subject that goes into the body takes at most a
    third of the body limit, so the headline link still has room."""
    raw, problem = templates.run(part, context)
    subject = " ".join(raw.split())
    if limit.title and not limit.title_in_body and len(subject) > limit.title:
        subject = shorten(subject, limit.title)
    if limit.title_in_body and limit.body and len(subject) > limit.body // 3:
        subject = shorten(subject, limit.body // 3)
    return subject, problem


def _budget(limit: Limits, subject: str, form: str) -> int | None:
    if not limit.body:
        return None
    if limit.title_in_body:  # Apprise prepends the title: text "title\r\n", Markdown "# title\n",
        overhead = {"text": 2, "markdown": 3, "html": 16}[form]  # HTML "<b>title</b><br />\r\n"
        return limit.body - len(subject) - overhead
    return limit.body


def _fullest(
    render_form: Callable[[int], str], steps: int, budget: int | None, *, shrinking: bool = False
) -> tuple[str, bool]:
    """(the rendering of the first step that fits the budget, True), else (the last step's, False).
    Step 0 shows everything and each later step less. A few steps are tried in turn; with `shrinking`
    (many steps, each one story fewer, so never longer) the step is searched for: galloping from the
    last step, then bisecting, so a digest of n stories takes O(log n) renders instead of n."""
    body = render_form(0)
    if budget is None or len(body) <= budget:
        return body, True
    if not shrinking:
        for step in range(1, steps):
            body = render_form(step)
            if len(body) <= budget:
                return body, True
        return body, False
    bodies = {0: body}

    def fits(step: int) -> bool:
        if step not in bodies:
            bodies[step] = render_form(step)
        return len(bodies[step]) <= budget

    good, bad, gap = steps - 1, 0, 1  # invariant: `bad` does not fit; `good` fits (once checked)
    if not fits(good):
        return bodies[good], False
    while good - gap > bad:  # the fewest stories first: a limit usually fits few of many
        if not fits(good - gap):
            bad = good - gap
            break
        good, gap = good - gap, gap * 2
    while good - bad > 1:
        middle = (good + bad) // 2
        if fits(middle):
            good = middle
        else:
            bad = middle
    return bodies[good], True


def _headline_and_link(headline: str, link: Link | None, form: str, budget: int) -> str:
    """The smallest alert: its headline (shortened) and its link (whole, if it fits at all)."""
    shown = md_escape(headline) if form == "markdown" else neutralise(headline)
    if link is None:
        return _hard_cut(shown, budget, [])
    written = f"<{link.shown()}>" if form == "markdown" else link.shown()
    room = budget - len(written) - 1
    if room < 0:
        return _hard_cut(shown, budget, [])
    if room < 2:
        return written
    cut = _hard_cut(shown, room, [])
    if form == "markdown" and cut.endswith("\\…"):  # a cut escape must not leave its backslash
        cut = cut[:-2] + "…"
    return f"{cut}\n{written}"


def _protected_links(link: Link | None, form: str) -> list[str]:
    if not link:
        return []
    if form == "markdown":
        return [f"<{link.shown()}>"]
    if form == "html":
        return []  # an HTML body is never cut by characters (see _compose)
    return [link.shown()]


@dataclass(frozen=True)
class _Plan:
    """What an alert and a digest message differ in: their templates, their fields at each step (step 0
    shows everything, each later step less), how to search the steps, and what to do when none fits."""

    prefix: str  # "" for an alert's templates, "digest_" for a digest's
    context: Callable[[str, int], dict[str, Any]]  # (form, step) -> template fields
    steps: int
    shrinking: bool  # see `_fullest`
    links: list[Link | None]  # never cut inside
    last_resort: Callable[[str, int], str] | None = None  # (form, budget) -> a body when no step fits


def _compose(plan: _Plan, templates: Templates, limit: Limits) -> Message:
    """The subject and the three bodies, each the fullest step that fits the channel's limits; a text or
    Markdown body that cannot fit is the plan's last resort or the last step cut, never inside a link;
    HTML is never cut by characters (email, its only user, has no practical limit)."""
    problems: list[str] = list(templates.broken)
    subject, problem = _subject(templates, f"{plan.prefix}subject", plan.context("text", 0), limit)
    problems += [problem] if problem else []
    bodies: dict[str, str] = {}
    for form in ("text", "markdown", "html"):
        budget = _budget(limit, subject, form)

        def one(step: int, form: str = form) -> str:
            text, problem = templates.run(f"{plan.prefix}{form}", plan.context(form, step))
            if problem and problem not in problems:
                problems.append(problem)
            return text

        body, fits = _fullest(one, plan.steps, budget, shrinking=plan.shrinking)
        if not fits and budget is not None and form != "html":
            if plan.last_resort is not None:
                body = plan.last_resort(form, max(budget, 0))
            else:
                protected = [p for link in plan.links for p in _protected_links(link, form)]
                body = _hard_cut(body.rstrip("\n"), max(budget, 0), protected)
        bodies[form] = body
    return Message(
        subject=subject,
        text=bodies["text"],
        markdown=bodies["markdown"],
        html=bodies["html"],
        problem="; ".join(problems) or None,
    )


# --- alerts ---------------------------------------------------------------------------------------


def render(alert: Alert, *, templates: Templates | None = None, limit: Limits | None = None) -> Message:
    """The subject and the text, Markdown and HTML bodies for one alert (see the module docstring)."""
    link = _link(alert.link)
    headline = plain(alert.headline) or "(no headline)"
    plan = _Plan(
        prefix="",
        context=lambda form, step: _alert_context(alert, form, _CUTS[step]),
        steps=len(_CUTS),
        shrinking=False,
        links=[link],
        last_resort=lambda form, budget: _headline_and_link(headline, link, form, budget),
    )
    message = _compose(plan, templates or templates_for(None), limit or Limits())
    return replace(
        message,
        message_id=alert.message_id,
        in_reply_to=alert.in_reply_to,
        references=tuple(alert.references),
    )


# --- digests --------------------------------------------------------------------------------------


def _severity_rank(severity: str) -> int:
    """A sort key, highest severity first; an unknown one (absent or odd in stored data) comes last."""
    return -level_rank(severity.lower())


def _newest_first_key(alert: Alert) -> float:
    published = _aware(alert.published_at)
    return -published.timestamp() if published else float("inf")


def _digest_groups(digest: Digest) -> list[tuple[str, str, list[Alert]]]:
    """(watch, place, alerts) per watch: watches by their highest severity (then name), stories by
    severity, then newest first."""
    by_watch: dict[str, list[Alert]] = {}
    for alert in digest.alerts:
        by_watch.setdefault(alert.watch, []).append(alert)
    groups = []
    for watch, alerts in by_watch.items():
        alerts = sorted(alerts, key=lambda a: (_severity_rank(a.severity), _newest_first_key(a)))
        groups.append((watch, alerts[0].place, alerts))
    groups.sort(key=lambda g: (_severity_rank(g[2][0].severity), g[0]))
    return groups


def _digest_context(
    digest: Digest, form: str, keep: int | None, groups: list[tuple[str, str, list[Alert]]] | None = None
) -> dict[str, Any]:
    """The template fields of a digest; `keep` limits the stories shown (the rest are counted); `groups`
    is `_digest_groups(digest)` when the caller has it already."""
    groups = _digest_groups(digest) if groups is None else groups
    counts: dict[str, int] = {}
    for alert in digest.alerts:
        severity = plain(alert.severity).lower() or "unknown"
        counts[severity] = counts.get(severity, 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: (_severity_rank(kv[0]), kv[0]))
    shown_groups = []
    remaining = len(digest.alerts) if keep is None else keep
    for watch, place, alerts in groups:
        stories = []
        for alert in alerts[: max(remaining, 0)]:
            topics = _clean_list(alert.topics)
            stories.append(
                SimpleNamespace(  # not a dict: `s.update` in a template must be the field, not dict.update
                    severity=plain(alert.severity) or "unknown",
                    topics=topics,
                    tag=subject_tag(topics),
                    topic_tags=" + ".join(t.upper() for t in topics) or "ALERT",
                    headline=plain(alert.headline) or "(no headline)",
                    outlet=plain(alert.outlet) or "unknown outlet",
                    link=_link(alert.link),
                    link_text=clean_line(alert.link),
                    published=_published(alert.published_at),
                    published_at=_aware(alert.published_at),
                    source_count=1 + len(alert.sources),
                    update=alert.update,
                )
            )
        remaining -= len(stories)
        if stories:
            shown_groups.append(
                {
                    "watch": plain(watch),
                    "place": plain(place) or plain(watch),
                    "severity": stories[0].severity,
                    "stories": stories,
                    "total": len(alerts),
                }
            )
    shown = sum(len(g["stories"]) for g in shown_groups)
    start, end = _aware(digest.period_start), _aware(digest.period_end)
    return {
        "kind": "digest",
        "channel": plain(digest.channel),
        "total": len(digest.alerts),
        "counts": [{"severity": s, "count": n} for s, n in ordered],
        "counts_line": ", ".join(f"{n} {s}" for s, n in ordered),
        "groups": shown_groups,
        "stories_omitted": len(digest.alerts) - shown,
        "period_start": start,
        "period_end": end,
        "period": (
            f"{_published(start)} – {_published(end)}"
            if start and end
            else (f"since {_published(start)}" if start else (f"until {_published(end)}" if end else ""))
        ),
        "cut": shown < len(digest.alerts),
    }


def render_digest(
    digest: Digest, *, templates: Templates | None = None, limit: Limits | None = None
) -> Message:
    """One message with every story of the digest, grouped by watch (see `_digest_groups` for the order);
    when it does not fit the channel, the lowest-ranked stories are left out and counted."""
    total = len(digest.alerts)
    groups = _digest_groups(digest)
    plan = _Plan(
        prefix="digest_",  # step 0: every story; each later step one fewer, so never longer
        context=lambda form, step: _digest_context(digest, form, None if step == 0 else total - step, groups),
        steps=total + 1,
        shrinking=True,
        links=[_link(a.link) for a in digest.alerts],
    )
    return _compose(plan, templates or templates_for(None), limit or Limits())


# --- notices --------------------------------------------------------------------------------------


def _escape_html(text: str) -> str:
    return str(Markup.escape(text))


def render_dead_letter(*, delivery_id: int, watch: str, channel: str, headline: str, reason: str,
                       attempts: int) -> Message:  # fmt: skip
    """The operator's notice that an alert was given up: watch, channel name (never its URL), headline
    and the (already scrubbed) reason, and how to retry it."""
    headline, reason = plain(headline) or "(no headline)", plain(reason) or "unknown"
    fields = [
        ("Watch", plain(watch)),
        ("Channel", plain(channel)),
        ("Headline", headline),
        ("Reason", reason),
    ]
    first = f"An alert could not be delivered and was given up after {attempts} attempt(s)."
    retry = f"news-monitor outbox --retry {delivery_id}"
    text = [first, "", *[f"{k + ':':<9} {neutralise(v)}" for k, v in fields], "", f"Retry it with: {retry}"]
    md = [first, "", *[f"**{k}:** {md_escape(v)}" for k, v in fields], "", f"Retry it with: `{retry}`"]
    html = (
        f"<p>{_escape_html(first)}</p>\n<p>"
        + "<br>\n".join(f"<b>{k}:</b> {_escape_html(v)}" for k, v in fields)
        + f"</p>\n<p>Retry it with: <code>{_escape_html(retry)}</code></p>\n"
    )
    subject = f"[DELIVERY FAILED] {plain(channel)}: {shorten(headline, SUBJECT_HEADLINE_MAX)}"
    return Message(
        subject=neutralise(subject), text="\n".join(text) + "\n", markdown="\n".join(md) + "\n", html=html
    )


def render_test(channel: str) -> Message:
    """The short message `news-monitor test-channel` sends."""
    text = f"This is a test message from news-monitor to the channel '{plain(channel)}'. It arrived."
    return Message(
        subject="news-monitor test message",
        text=neutralise(text) + "\n",
        markdown=md_escape(text) + "\n",
        html=f"<p>{_escape_html(text)}</p>\n",
    )
