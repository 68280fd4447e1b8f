"""Configuration: YAML → validated models, with every problem reported at once as `file:line: key: message`.

Users edit these files by hand on a server; a daemon that stops at the first typo, or that silently skips a
misspelt key, costs them a restart loop or a missed alert. So everything is validated up front, with line
numbers, did-you-mean hints, and secrets resolved from the environment or systemd credentials.
"""

from __future__ import annotations

import difflib
import glob
import os
import re
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor.alerts.retry import RetryPolicy
from monitor.alerts.routing import (
    ChannelRules,
    CronFields,
    QuietHours,
    RateLimit,
    parse_clock_time,
    parse_cron,
    parse_zone,
)
from monitor.core.errors import ConfigError
from monitor.match import check_rules
from monitor.match.rules import ROUTE_TAGS, EntitySpec, RuleFile, RulePack, Severity, TopicSpec, WatchSpec
from monitor.render import check_templates
from monitor.stories.clusterer import ClusterParams

DEFAULT_CONFIG = Path("config/monitor.yaml")
CONFIG_ENV = "NEWS_MONITOR_CONFIG"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}
_SECRET_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
MIN_TICK = timedelta(seconds=0.2)  # a shorter daemon tick would only spin on the database


def parse_duration(value: Any) -> timedelta:
    """`90s`, `5m`, `1.5h`, `2d`, or a bare number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration; write it like 90s, 5m, 2h or 1d")
    return timedelta(seconds=float(match[1]) * _DURATION_UNITS[(match[2] or "s").lower()])


def parse_size(value: Any) -> int:
    """`5MB`, `512KiB`, or a bare number of bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a size; write it like 512KB, 5MB or 1GiB")
    return int(float(match[1]) * _SIZE_UNITS[(match[2] or "b").lower()])


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PollSettings(_Strict):
    interval: Duration = timedelta(minutes=5)
    timeout: Duration = timedelta(seconds=20)
    max_bytes: Size = 5_000_000
    allow_private_networks: bool = False
    concurrency: int = Field(default=10, ge=1, le=50)
    max_backoff: Duration = timedelta(hours=6)
    tick: Duration = timedelta(seconds=15)  # how often the daemon checks for due feeds and pending deliveries

    @field_validator("tick")
    @classmethod
    def _tick_not_too_short(cls, tick: timedelta) -> timedelta:
        if tick < MIN_TICK:
            raise ValueError(
                f"{tick.total_seconds():g}s is too short; the tick must be at least 0.2s (e.g. 15s)"
            )
        return tick


class FeedSettings(_Strict):
    name: str = Field(min_length=1, pattern=r"^[\w.-]+$")
    url: str
    interval: Duration | None = None
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(
                f"{url!r} is not an http(s) URL; feeds are fetched over HTTP, e.g. https://example.org/rss"
            )
        return url


ClockTime = Annotated[time, BeforeValidator(parse_clock_time)]
TimeZone = Annotated[ZoneInfo, BeforeValidator(parse_zone)]
Cron = Annotated[CronFields, BeforeValidator(parse_cron)]


class QuietHoursSettings(_Strict):
    """Local hours in which only critical alerts go out at once; the rest wait until they end."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    start: ClockTime
    end: ClockTime
    timezone: TimeZone | None = None  # default: the channel's timezone

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHoursSettings:
        if self.start == self.end:
            raise ValueError("start and end are the same time; quiet hours need a span, e.g. 22:00 to 07:00")
        return self


class RateLimitSettings(_Strict):
    """At most `max` messages per `per`; alerts beyond it are folded into a digest, never dropped."""

    max: int = Field(ge=1, le=100_000)
    per: Duration

    @field_validator("per")
    @classmethod
    def _positive(cls, per: timedelta) -> timedelta:
        if per <= timedelta(0):
            raise ValueError("per must be a positive duration, e.g. 1h")
        return per


class ChannelTemplates(_Strict):
    """Template files that replace the built-in ones for one channel, any subset (paths relative to the
    config file's folder); the keys are `monitor.render.PARTS` and the fields are in README, Templates."""

    subject: str | None = None
    text: str | None = None
    markdown: str | None = None
    html: str | None = None
    digest_subject: str | None = None
    digest_text: str | None = None
    digest_markdown: str | None = None
    digest_html: str | None = None

    def paths(self, base: Path) -> dict[str, Path]:
        """Each override as a path, relative ones taken from `base` (the config file's folder)."""
        return {
            part: base / Path(value).expanduser()
            for part, value in self.model_dump(exclude_none=True).items()
        }


class ChannelSettings(_Strict):
    """A named Apprise URL with its routing defaults (see `monitor.alerts.routing`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    url: SecretStr
    min_severity: Severity = "low"  # alerts below this severity are not sent here
    topics: list[str] | None = None  # only alerts about one of these topics (default: any)
    mode: Literal["immediate", "digest"] = "immediate"
    digest: Cron | None = None  # crontab schedule of this channel's digest, e.g. "0 8 * * *"
    timezone: TimeZone = Field(default_factory=lambda: ZoneInfo("UTC"))  # for digest (and quiet hours)
    quiet_hours: QuietHoursSettings | None = None
    rate_limit: RateLimitSettings | None = None
    templates: ChannelTemplates | None = None  # override templates (see README, Templates)


class StorySettings(_Strict):
    """How items from different outlets are grouped into one story (see `monitor.stories.clusterer`)."""

    window: Duration = timedelta(hours=48)  # an item is compared only with reports this close in time
    similarity: float = Field(default=ClusterParams.similarity, gt=0, le=1)  # higher: fewer, surer merges
    copy_similarity: float = Field(default=ClusterParams.copy_similarity, gt=0, le=1)  # reprint threshold


UpdateReason = Literal["severity", "topic"]


class AlertPolicySettings(_Strict):
    """When a watch alerts about a story: once first, then only when it matters (see `monitor.alerts.policy`)."""

    min_sources: int = Field(default=1, ge=1, le=100)  # independent outlets needed before the first alert
    update_on: list[UpdateReason] = Field(default_factory=lambda: ["severity", "topic"])
    update_at_sources: int | None = Field(default=None, ge=2, le=1000)  # one update when this many carry it


class AlertSettings(_Strict):
    defaults: AlertPolicySettings = AlertPolicySettings()
    watches: dict[str, AlertPolicySettings] = Field(default_factory=dict)  # per watch name


class DeliverySettings(_Strict):
    """How the outbox retries a failing channel and when it gives up (see `monitor.alerts.retry`)."""

    max_attempts: int = Field(default=12, ge=1, le=1000)  # sends before a row is dead-lettered
    max_age: Duration = timedelta(hours=24)  # a row older than this is dead-lettered instead of retried
    retry_base: Duration = timedelta(seconds=30)  # wait ceiling after the first failure (doubles each time)
    retry_cap: Duration = timedelta(hours=1)  # the wait never grows beyond this
    operator_channel: str | None = None  # told once about every dead-lettered delivery
    # How long a send may hold its row. It must outlive one send (Apprise gives up after 30 s), or another
    # instance could send the same alert; a restart on the same host releases a crashed process's claims
    # at once, so the lease only delays rows of a process on another host (or container) that died.
    claim_lease: Duration = Field(default=timedelta(seconds=60), ge=timedelta(seconds=1))

    @model_validator(mode="after")
    def _cap_not_below_base(self) -> DeliverySettings:
        if self.retry_cap < self.retry_base:
            raise ValueError("retry_cap must be at least retry_base")
        return self


class Settings(_Strict):
    database: str = "sqlite:///var/monitor.db"
    poll: PollSettings = PollSettings()
    feeds: list[FeedSettings] = Field(default_factory=list)
    channels: dict[str, ChannelSettings] = Field(default_factory=dict)
    rules: list[str] = Field(default_factory=lambda: ["rules/*.yaml"])
    stories: StorySettings = StorySettings()
    alerts: AlertSettings = AlertSettings()
    delivery: DeliverySettings = DeliverySettings()


@dataclass(frozen=True)
class Config:
    path: Path
    settings: Settings
    rules: RulePack
    rule_files: tuple[Path, ...]

    @property
    def database_url(self) -> str:
        """SQLite paths in the file are relative to the config file, like every other path."""
        url = self.settings.database
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str((self.path.parent / url[len(prefix) :]).resolve())
        return url

    def feed_interval(self, feed: FeedSettings) -> timedelta:
        return feed.interval or self.settings.poll.interval

    @property
    def story_params(self) -> ClusterParams:
        """The clustering knobs shared by the daemon and `news-monitor cluster`."""
        stories = self.settings.stories
        return ClusterParams(
            window=stories.window, similarity=stories.similarity, copy_similarity=stories.copy_similarity
        )

    @property
    def retry_policy(self) -> RetryPolicy:
        delivery = self.settings.delivery
        return RetryPolicy(
            max_attempts=delivery.max_attempts,
            max_age=delivery.max_age,
            base=delivery.retry_base,
            cap=delivery.retry_cap,
        )

    def alert_policy(self, watch: str) -> AlertPolicySettings:
        return self.settings.alerts.watches.get(watch, self.settings.alerts.defaults)

    def channel_rules(self, name: str) -> ChannelRules:
        """The routing defaults and limits of one channel (plain defaults for an unknown name)."""
        channel = self.settings.channels.get(name)
        if channel is None:
            return ChannelRules(name=name)
        quiet = channel.quiet_hours
        rate = channel.rate_limit
        return ChannelRules(
            name=name,
            min_severity=channel.min_severity,
            topics=frozenset(channel.topics) if channel.topics is not None else None,
            mode=channel.mode,
            digest=channel.digest,
            timezone=channel.timezone,
            quiet=QuietHours(quiet.start, quiet.end, quiet.timezone or channel.timezone) if quiet else None,
            rate=RateLimit(rate.max, rate.per) if rate else None,
        )


# --- YAML with positions -----------------------------------------------------------------------


class _Located:
    """Maps key paths of a YAML document to line numbers (and scalar columns) for error messages."""

    def __init__(self, file: Path, node: yaml.Node | None) -> None:
        self.file = file
        self.marks: dict[tuple[Any, ...], yaml.Mark] = {}
        self.scalars: dict[tuple[Any, ...], yaml.ScalarNode] = {}
        if node is not None:
            self._walk(node, ())

    def _walk(self, node: yaml.Node, path: tuple[Any, ...]) -> None:
        self.marks[path] = node.start_mark
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self._walk(value, (*path, key.value))
                self.marks[(*path, key.value)] = key.start_mark
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                self._walk(value, (*path, index))
        elif isinstance(node, yaml.ScalarNode):
            self.scalars[path] = node

    def line(self, path: tuple[Any, ...]) -> int:
        for cut in range(len(path), -1, -1):
            mark = self.marks.get(tuple(path[:cut]))
            if mark is not None:
                return mark.line + 1
        return 1

    def where(self, path: tuple[Any, ...], column: int | None = None) -> str:
        """`file:line` or, for a position inside a one-line scalar, `file:line:column`."""
        line = self.line(path)
        node = self.scalars.get(tuple(path))
        if column is not None and node is not None and node.start_mark.line == node.end_mark.line:
            quote = 1 if node.style in ("'", '"') else 0
            return f"{self.file}:{line}:{node.start_mark.column + quote + column}"
        return f"{self.file}:{line}"


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _read_yaml(file: Path, problems: list[str]) -> tuple[Any, _Located]:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(f"{file}: cannot read: {exc.strerror or exc}")
        return None, _Located(file, None)
    except UnicodeDecodeError as exc:
        problems.append(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8")
        return None, _Located(file, None)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else str(file)
        problem = getattr(exc, "problem", None) or str(exc)
        problems.append(f"{where}: YAML syntax error: {problem}")
        return None, _Located(file, None)
    return data, _Located(file, node)


def _resolve_secrets(data: Any, located: _Located, problems: list[str], path: tuple[Any, ...] = ()) -> Any:
    """Replace `${NAME}` from the environment, else from `$CREDENTIALS_DIRECTORY/NAME` (systemd)."""
    if isinstance(data, dict):
        return {k: _resolve_secrets(v, located, problems, (*path, k)) for k, v in data.items()}
    if isinstance(data, list):
        return [_resolve_secrets(v, located, problems, (*path, i)) for i, v in enumerate(data)]
    if not isinstance(data, str) or "${" not in data:
        return data

    def lookup(match: re.Match[str]) -> str:
        name = match[1]
        if name in os.environ:
            return os.environ[name]
        cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
        if cred_dir and (Path(cred_dir) / name).is_file():
            return (Path(cred_dir) / name).read_text(encoding="utf-8").strip()
        problems.append(
            f"{located.where(path)}: {_dotted(path)}: ${{{name}}} is not set; export {name} in the environment "
            f"(e.g. the EnvironmentFile of the systemd unit) or provide a credential file named {name} "
            f"(systemd LoadCredential=)"
        )
        return match[0]

    return _SECRET_REF.sub(lookup, data)


def _known_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names valid at `loc` (for did-you-mean); walks nested models, lists and dicts."""
    current: Any = model
    mapping_key = False  # the previous field is a dict: this part is one of its keys, not a field
    for part in loc[:-1]:
        if isinstance(part, int) or current is None or mapping_key:
            mapping_key = False
            continue
        field = current.model_fields.get(part) if isinstance(current, type) else None
        if field is None:
            return []
        mapping_key = "dict[" in str(field.annotation)
        current = _inner_model(field.annotation)
    return list(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _validate(model: type[BaseModel], data: Any, located: _Located, problems: list[str]) -> Any:
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if part not in ROUTE_TAGS)
            if error["type"] == "extra_forbidden":
                known = _known_fields(model, loc)
                hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
                tip = f"did you mean '{hint[0]}'?" if hint else f"allowed keys: {', '.join(known)}"
                problems.append(f"{located.where(loc)}: {_dotted(loc)}: unknown key; {tip}")
            else:
                message = error["msg"].removeprefix("Value error, ")
                problems.append(f"{located.where(loc)}: {_dotted(loc)}: {message}")
        return None


def did_you_mean(name: str, choices: Any) -> str:
    """`; did you mean 'x'?` for the closest of `choices`, or an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


# --- loading -----------------------------------------------------------------------------------


def default_config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(path: Path | str) -> Config:
    """Load and validate the main file and every rule file; raise ConfigError listing every problem."""
    path = Path(path)
    problems: list[str] = []
    if not path.is_file():
        raise ConfigError(
            [
                f"{path}: no such config file; pass -c FILE or set {CONFIG_ENV} (the shipped one is config/monitor.yaml)"
            ]
        )
    raw, located = _read_yaml(path, problems)
    if raw is not None and not isinstance(raw, dict):
        problems.append(
            f"{path}:1: the config must be a mapping of keys (database, poll, feeds, channels, rules)"
        )
        raw = None
    if raw is None:
        raise ConfigError(problems)
    raw = _resolve_secrets(raw, located, problems)
    settings: Settings | None = _validate(Settings, raw, located, problems)
    if settings is not None:
        _check_feeds(settings, located, problems)
        _check_channels(settings, located, problems)
        patterns, channels = settings.rules, list(settings.channels)
    else:  # still check the rule files, so that one run reports everything
        patterns, channels = _fallback_rules_and_channels(raw)
    pack, rule_files, sources = _load_rules(path, patterns, located, problems)
    _check_rule_references(pack, channels, sources, problems)
    if settings is not None:
        _check_alert_watches(settings, pack, located, problems)
        _check_routes(settings, pack, sources, located, problems)
    if problems or settings is None:
        raise ConfigError(problems)
    return Config(path=path, settings=settings, rules=pack, rule_files=tuple(rule_files))


def _fallback_rules_and_channels(raw: Any) -> tuple[list[str], list[str]]:
    patterns = raw.get("rules", Settings.model_fields["rules"].get_default(call_default_factory=True))
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        patterns = []
    channels = raw.get("channels")
    return patterns, list(channels) if isinstance(channels, dict) else []


def _check_feeds(settings: Settings, located: _Located, problems: list[str]) -> None:
    seen: dict[str, int] = {}
    for index, feed in enumerate(settings.feeds):
        if feed.name in seen:
            first = located.line(("feeds", seen[feed.name]))
            problems.append(
                f"{located.where(('feeds', index, 'name'))}: feeds[{index}].name: '{feed.name}' is already used "
                f"at line {first}; feed names must be unique"
            )
        seen.setdefault(feed.name, index)


def _check_alert_watches(settings: Settings, pack: RulePack, located: _Located, problems: list[str]) -> None:
    names = [w.name for w in pack.watches]
    for name in settings.alerts.watches:
        if name not in names:
            problems.append(
                f"{located.where(('alerts', 'watches', name))}: alerts.watches.{name}: no watch of that name in "
                f"the rule files{did_you_mean(name, names)}"
            )


def _check_channels(settings: Settings, located: _Located, problems: list[str]) -> None:
    from monitor.delivery.channel import check_channel_url  # Apprise: only when channels are checked

    for name, channel in settings.channels.items():
        problem = check_channel_url(channel.url.get_secret_value())
        if problem:
            problems.append(f"{located.where(('channels', name, 'url'))}: channels.{name}.url: {problem}")
        if channel.templates is not None:
            _check_channel_templates(name, channel.templates, located, problems)
    operator = settings.delivery.operator_channel
    if operator is not None and operator not in settings.channels:
        known = ", ".join(settings.channels) or "none defined"
        problems.append(
            f"{located.where(('delivery', 'operator_channel'))}: delivery.operator_channel: unknown channel "
            f"'{operator}'{did_you_mean(operator, settings.channels)} (channels in this file: {known})"
        )


def _check_channel_templates(
    name: str, templates: ChannelTemplates, located: _Located, problems: list[str]
) -> None:
    """Each override must exist, compile, and render a sample alert and digest (a misspelt field or a
    syntax error is reported with both the config line and the template line)."""
    for problem in check_templates(templates.paths(located.file.parent)):
        key = ("channels", name, "templates", problem.part)
        how = (
            "paths are relative to the config file's folder; fix the path or remove the key to use the built-in template"
            if problem.what.startswith(("no such", "cannot read", "not UTF-8"))
            else "fix the template or remove the key to use the built-in one"
        )
        problems.append(
            f"{located.where(key)}: channels.{name}.templates.{problem.part}: {problem.where}: {problem.what}; {how}"
        )


def _check_routes(
    settings: Settings,
    pack: RulePack,
    sources: dict[tuple[str, str], _Source],
    located: _Located,
    problems: list[str],
) -> None:
    """Routing that names what does not exist, or digests without a schedule (see `monitor.alerts.routing`)."""
    for name, channel in settings.channels.items():
        if channel.mode == "digest" and channel.digest is None:
            problems.append(
                f"{located.where(('channels', name, 'mode'))}: channels.{name}.mode: digest needs a schedule; "
                f'add channels.{name}.digest, e.g. digest: "0 8 * * *" (08:00 daily)'
            )
        for i, topic in enumerate(channel.topics or []):
            if topic not in pack.topics:
                problems.append(
                    f"{located.where(('channels', name, 'topics', i))}: channels.{name}.topics: unknown topic "
                    f"'{topic}'{did_you_mean(topic, pack.topics)}"
                )
    for watch in pack.watches:
        source = sources[("watches", watch.name)]
        for i, route in enumerate(watch.routes):
            channel = settings.channels.get(route.channel)
            at = (*source.path, "notify", i)
            _check_route_can_match(watch, i, channel, pack, source, problems)
            for j, topic in enumerate(route.topics or []):
                allowed = watch.topics or list(pack.topics)
                if topic not in allowed:
                    problems.append(
                        f"{source.located.where((*at, 'topics', j))}: watch '{watch.name}': notify "
                        f"{route.channel}: topic '{topic}' is not one of the watch's topics "
                        f"({', '.join(allowed) or 'none'}){did_you_mean(topic, allowed)}"
                    )
            if route.mode == "digest" and channel is not None and channel.digest is None:
                problems.append(
                    f"{source.located.where((*at, 'mode'))}: watch '{watch.name}': notify {route.channel}: "
                    f"mode digest needs a schedule; add channels.{route.channel}.digest to the main config, "
                    'e.g. digest: "0 8 * * *"'
                )


def _check_route_can_match(
    watch: WatchSpec,
    index: int,
    channel: ChannelSettings | None,
    pack: RulePack,
    source: _Source,
    problems: list[str],
) -> None:
    """A channel's topics must share one with the watch's (its alerts carry only the watch's topics), and
    a notify entry's topics must not be empty: otherwise the route can never deliver anything."""
    route = watch.routes[index]
    entry = watch.notify[index]
    at = (*source.path, "notify", index, *(() if isinstance(entry, str) else ("channel",)))
    alerted = watch.topics or list(pack.topics)
    wanted = channel.topics if channel is not None else None
    if wanted is not None and all(t in pack.topics for t in wanted) and not set(wanted) & set(alerted):
        problems.append(
            f"{source.located.where(at)}: watch '{watch.name}': notify {route.channel}: can never match: "
            f"channels.{route.channel}.topics ({', '.join(wanted) or 'none'}) has none of the watch's topics "
            f"({', '.join(alerted) or 'none'}); add one of them to the channel's topics, or drop "
            f"{route.channel} from this watch's notify list"
        )
    if route.topics is not None and not route.topics:
        problems.append(
            f"{source.located.where((*source.path, 'notify', index, 'topics'))}: watch '{watch.name}': notify "
            f"{route.channel}: topics: [] can never match; list some of the watch's topics or remove the key"
        )


@dataclass(frozen=True)
class _Source:
    located: _Located
    path: tuple[Any, ...]


def _load_rules(
    config_path: Path, patterns: list[str], located: _Located, problems: list[str]
) -> tuple[RulePack, list[Path], dict[tuple[str, str], _Source]]:
    """Merge every rule file; remember where each entity, topic and watch was written."""
    entities: dict[str, EntitySpec] = {}
    topics: dict[str, TopicSpec] = {}
    watches: list[WatchSpec] = []
    sources: dict[tuple[str, str], _Source] = {}
    files: list[Path] = []
    for index, pattern in enumerate(patterns):
        matched = sorted(Path(p) for p in glob.glob(str(config_path.parent / pattern)))
        if not matched:
            problems.append(
                f"{located.where(('rules', index))}: rules[{index}]: '{pattern}' matches no file "
                f"(relative to {config_path.parent}/)"
            )
        files.extend(p for p in matched if p not in files)
    for file in files:
        raw, where = _read_yaml(file, problems)
        rule_file: RuleFile | None = _validate(RuleFile, raw, where, problems)
        if rule_file is None:
            continue
        for kind, items in (("entities", rule_file.entities), ("topics", rule_file.topics)):
            target: dict[str, Any] = entities if kind == "entities" else topics
            for name, spec in items.items():
                if (kind, name) in sources:
                    problems.append(
                        f"{where.where((kind, name))}: {kind}.{name}: already defined at {_at(sources[(kind, name)])}"
                    )
                    continue
                target[name] = spec
                sources[(kind, name)] = _Source(where, (kind, name))
        for index, watch in enumerate(rule_file.watches):
            if ("watches", watch.name) in sources:
                problems.append(
                    f"{where.where(('watches', index, 'name'))}: watches[{index}].name: '{watch.name}' already "
                    f"defined at {_at(sources[('watches', watch.name)])}"
                )
                continue
            watches.append(watch)
            sources[("watches", watch.name)] = _Source(where, ("watches", index))
    return RulePack(entities=entities, topics=topics, watches=watches), files, sources


def _at(source: _Source) -> str:
    return source.located.where(source.path)


def _check_rule_references(
    pack: RulePack, channels: list[str], sources: dict[tuple[str, str], _Source], problems: list[str]
) -> None:
    for watch in pack.watches:
        source = sources[("watches", watch.name)]
        for i, topic in enumerate(watch.topics):
            if topic not in pack.topics:
                problems.append(
                    f"{source.located.where((*source.path, 'topics', i))}: watch '{watch.name}': unknown topic "
                    f"'{topic}'{did_you_mean(topic, pack.topics)}"
                )
        for i, route in enumerate(watch.routes):
            channel = route.channel
            at = (*source.path, "notify", i, *(() if isinstance(watch.notify[i], str) else ("channel",)))
            if channel not in channels:
                known = ", ".join(channels) or "none defined"
                problems.append(
                    f"{source.located.where(at)}: watch '{watch.name}': unknown channel "
                    f"'{channel}'{did_you_mean(channel, channels)} (channels in the main config: {known})"
                )
            elif channel in [r.channel for r in watch.routes[:i]]:
                problems.append(
                    f"{source.located.where(at)}: watch '{watch.name}': channel '{channel}' is listed twice in "
                    "notify; list each channel once (a mapping entry can narrow what it gets)"
                )
    watch_index = {f"watches.{i}": w.name for i, w in enumerate(pack.watches)}
    for key, error in check_rules(pack):
        kind, name, field = key.split(".", 2)
        source = (
            sources[("watches", watch_index[f"{kind}.{name}"])]
            if kind == "watches"
            else sources[(kind, name)]
        )
        path = (*source.path, *(int(p) if p.isdigit() else p for p in field.split(".")))
        caret = " " * (error.column - 1) + "^"
        problems.append(
            f"{source.located.where(path, error.column)}: {_dotted(path)}: {error.message}\n"
            f"    {error.query}\n    {caret}"
        )
