"""Reads `monitor.yaml` and its rule files once into a `Config`: validated settings, the rule pack, and the
domain objects the daemon works with, built here once (routing rules per channel, retry and story
parameters). Every problem of every file is collected before anything is raised, so one run of
`check-config` lists them all.

This layer imports no delivery or rendering library: what only those layers can judge (channel URLs
against Apprise, template overrides against Jinja) comes in as `extra_checks`, wired by the runtime.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from monitor.alerts.phases import PhaseTable, phase_table
from monitor.alerts.policy import AlertPolicy, Busy
from monitor.alerts.retry import RetryPolicy
from monitor.alerts.routing import ChannelRules
from monitor.alerts.windows import QuietHours, RateLimit
from monitor.config import checks
from monitor.config.located import Located, read_yaml, validate
from monitor.config.rules import load_rules
from monitor.config.schema import AlertPolicySettings, ChannelSettings, FeedSettings, Settings
from monitor.config.secrets import resolve_secrets
from monitor.core.errors import ConfigError
from monitor.match.rules import RulePack
from monitor.stories.clusterer import ClusterParams

DEFAULT_CONFIG = Path("config/monitor.yaml")
CONFIG_ENV = "NEWS_MONITOR_CONFIG"

# A check of the main file's settings that needs a library this layer does not import: given the settings
# and the config file's folder, it yields (key path in the main file, problem text starting with the key).
ExtraCheck = Callable[[Settings, Path], Iterable[tuple[tuple[Any, ...], str]]]


@dataclass(frozen=True)
class Config:
    """Everything the daemon and the commands need from the configuration, read once."""

    path: Path
    settings: Settings
    rules: RulePack
    rule_files: tuple[Path, ...]
    story_params: ClusterParams = field(init=False)
    retry_policy: RetryPolicy = field(init=False)
    channels: Mapping[str, ChannelRules] = field(init=False)
    alert_policies: Mapping[str, AlertPolicy] = field(init=False)  # per watch name, else the defaults
    default_alert_policy: AlertPolicy = field(init=False)
    phase_table: PhaseTable = field(init=False)  # the rule pack's phases per topic

    def __post_init__(self) -> None:
        settings = self.settings
        stories, delivery = settings.stories, settings.delivery
        set_ = object.__setattr__  # frozen: the derived objects are set once, here
        set_(
            self,
            "story_params",
            ClusterParams(
                window=stories.window,
                similarity=stories.similarity,
                copy_similarity=stories.copy_similarity,
                core_reports=stories.core_reports,
                core_similarity=stories.core_similarity,
                core_span=stories.core_span,
            ),
        )
        set_(
            self,
            "retry_policy",
            RetryPolicy(
                max_attempts=delivery.max_attempts,
                max_age=delivery.max_age,
                base=delivery.retry_base,
                cap=delivery.retry_cap,
            ),
        )
        set_(self, "channels", {name: _channel_rules(name, c) for name, c in settings.channels.items()})
        set_(self, "default_alert_policy", _alert_policy(settings.alerts.defaults))
        set_(self, "phase_table", phase_table(self.rules.topics))
        defaults = settings.alerts.defaults
        set_(
            self,
            "alert_policies",
            {w: _alert_policy(_watch_policy(defaults, p)) for w, p in settings.alerts.watches.items()},
        )

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

    def alert_policy(self, watch: str) -> AlertPolicy:
        return self.alert_policies.get(watch, self.default_alert_policy)

    def channel_rules(self, name: str) -> ChannelRules:
        """The routing defaults and limits of one channel (plain defaults for a name no longer configured)."""
        return self.channels.get(name) or ChannelRules(name=name)


def _channel_rules(name: str, channel: ChannelSettings) -> ChannelRules:
    quiet = channel.quiet_hours
    rate = channel.rate_limit
    return ChannelRules(
        name=name,
        min_severity=channel.min_severity,
        topics=frozenset(channel.topics) if channel.topics is not None else None,
        mode=channel.mode,
        digest=channel.digest.in_zone(channel.timezone) if channel.digest else None,
        quiet=QuietHours(quiet.start, quiet.end, quiet.timezone or channel.timezone) if quiet else None,
        rate=RateLimit(rate.max, rate.per) if rate else None,
    )


def _watch_policy(defaults: AlertPolicySettings, watch: AlertPolicySettings) -> AlertPolicySettings:
    """A watch's own keys over alerts.defaults, validated again as one block (so a nested `busy` block is
    settings, not a dict). A watch's `busy` block replaces the default one as a whole: the keys it leaves
    out take the built-in defaults, not those of `alerts.defaults.busy`."""
    merged = {**defaults.model_dump(exclude_unset=True), **watch.model_dump(exclude_unset=True)}
    return AlertPolicySettings.model_validate(merged)


def _alert_policy(settings: AlertPolicySettings) -> AlertPolicy:
    return AlertPolicy(
        min_sources=settings.min_sources,
        update_on=frozenset(settings.update_on),
        update_at_sources=settings.update_at_sources,
        max_age=settings.max_age,
        events_only=settings.events_only,
        busy=Busy(b.after, b.per, b.min_sources) if (b := settings.busy) else None,
        phases=settings.phases,
    )


def default_config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(path: Path | str, extra_checks: Iterable[ExtraCheck] = ()) -> Config:
    """Load and validate the main file and every rule file; raise ConfigError listing every problem."""
    path = Path(path)
    problems: list[str] = []
    if not path.is_file():
        raise ConfigError(
            [
                f"{path}: no such config file; pass -c FILE or set {CONFIG_ENV} (the shipped one is config/monitor.yaml)"
            ]
        )
    raw, located = read_yaml(path, problems)
    if raw is not None and not isinstance(raw, dict):
        problems.append(
            f"{path}:1: the config must be a mapping of keys (database, poll, feeds, channels, rules)"
        )
        raw = None
    if raw is None:
        raise ConfigError(problems)
    raw = resolve_secrets(raw, located, problems)
    settings: Settings | None = validate(Settings, raw, located, problems)
    if settings is not None:
        checks.check_feeds(settings, located, problems)
        _run_extra_checks(extra_checks, settings, located, problems)
        checks.check_operator_channel(settings, located, problems)
        patterns, channels = settings.rules, list(settings.channels)
    else:  # still check the rule files, so that one run reports everything
        patterns, channels = _fallback_rules_and_channels(raw)
    pack, rule_files, sources = load_rules(path, patterns, located, problems)
    checks.check_rule_references(pack, channels, sources, problems)
    if settings is not None:
        checks.check_alert_watches(settings, pack, located, problems)
        checks.check_routes(settings, pack, sources, located, problems)
    if problems or settings is None:
        raise ConfigError(problems)
    return Config(path=path, settings=settings, rules=pack, rule_files=tuple(rule_files))


def _run_extra_checks(
    extra_checks: Iterable[ExtraCheck], settings: Settings, located: Located, problems: list[str]
) -> None:
    for check in extra_checks:
        problems.extend(
            f"{located.where(key)}: {problem}" for key, problem in check(settings, located.file.parent)
        )


def _fallback_rules_and_channels(raw: Any) -> tuple[list[str], list[str]]:
    patterns = raw.get("rules", Settings.model_fields["rules"].get_default(call_default_factory=True))
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        patterns = []
    channels = raw.get("channels")
    return patterns, list(channels) if isinstance(channels, dict) else []
