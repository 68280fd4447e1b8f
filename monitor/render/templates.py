"""The Jinja2 templates of a message: the built-in ones and a channel's overrides; the only module that
imports jinja2.

Forms
    Every message has a subject and three bodies, each from its own template (built-in ones in
    ``monitor/render/templates``): ``text`` (plain text: text services such as json://, Discord, ntfy,
    console://, and the text/plain part of email, and Slack: see `monitor.delivery`), ``markdown``
    (Markdown services, and Telegram through Apprise's Markdown→HTML conversion) and ``html`` (the HTML part
    of email). `monitor.delivery` picks the form.

Sandbox
    Templates run in a Jinja2 sandbox with StrictUndefined, and every ``{{ ... }}`` output is escaped for
    its form (`monitor.render.escaping`), so a user's override is as safe as ours. `check_templates`
    renders each override against a sample alert and digest when the config is loaded, so a misspelt
    field is found by ``check-config``; an override that fails later, at send time, is replaced by the
    built-in template, so no alert is lost to it.
"""

from __future__ import annotations

import re
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import FunctionLoader, StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from monitor.core.hints import did_you_mean
from monitor.render.escaping import FINALIZERS
from monitor.render.fields import alert_fields, digest_fields
from monitor.render.model import NOTICE_PARTS, PARTS, Alert, Digest, OtherSource

_BUILTIN = resources.files("monitor.render") / "templates"
_SUFFIX = {"text": "txt", "markdown": "md", "html": "html"}


def _form_of(part: str) -> str:
    """The form a part is written in: ``text`` for subjects, else the part's last word
    (``digest_markdown``: ``markdown``)."""
    last = part.rsplit("_", 1)[-1]
    return "text" if last == "subject" else last


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
            finalize=FINALIZERS[form],
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
    """The templates of one channel: the built-in ones with the channel's overrides (any of `PARTS`) on top."""

    def __init__(self, overrides: Mapping[str, Path] | None = None, *, lenient: bool = False) -> None:
        """Raise TemplateProblem for an override that cannot be loaded, unless `lenient`: then the built-in
        template stands in and the problem is kept in `broken` (for a file edited after the check)."""
        self.overrides = {k: Path(v) for k, v in (overrides or {}).items()}
        unknown = set(self.overrides) - set(PARTS)
        if unknown:
            raise ValueError(f"unknown template part(s): {', '.join(sorted(unknown))}")
        self.broken: list[str] = []
        self._builtin = _builtin_templates()
        self._compiled = dict(self._builtin)
        for part in (p for p in PARTS if p in self.overrides):
            try:
                self._compiled[part] = self._load_override(part, self.overrides[part])
            except TemplateProblem as exc:
                if not lenient:
                    raise
                self.broken.append(f"template {part}: {exc}; used the built-in one")

    @staticmethod
    def _load_override(part: str, path: Path) -> Template:
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
        env = _make_env(_form_of(part), {part: (source, str(path))})
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
        hint = did_you_mean(name.group(1), fields) if name else ""
        return f"{where}{text}{hint} (the fields are listed in README, section Templates)"
    return f"{where}{type(exc).__name__}: {exc}"


_CACHE_LOCK = threading.Lock()  # channels render on worker threads
_BUILTIN_CACHE: dict[str, Template] = {}


def _builtin_templates() -> dict[str, Template]:
    with _CACHE_LOCK:
        if not _BUILTIN_CACHE:
            compiled = {}
            for part in PARTS + NOTICE_PARTS:
                name = f"{part}.{_SUFFIX[_form_of(part)]}.j2"
                source = (_BUILTIN / name).read_text(encoding="utf-8")
                env = _make_env(_form_of(part), {part: (source, f"monitor/render/templates/{name}")})
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
        "alert": {form: alert_fields(sample, form) for form in _SUFFIX},
        "digest": {form: digest_fields(_sample_digest(sample), form) for form in _SUFFIX},
    }
    for part in usable:
        kind = "digest" if part.startswith("digest_") else "alert"
        try:
            templates.check(part, contexts[kind][_form_of(part)])
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
