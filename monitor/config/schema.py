"""The file format of `monitor.yaml`: pydantic models with defaults and per-key validation.

These models are the grammar of the file, not the objects the daemon works with: `monitor.config.loader`
turns them once into domain objects (channel routing rules, retry and alert policies, story parameters).
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from monitor.alerts.schedule import Schedule, parse_cron
from monitor.alerts.windows import parse_clock_time, parse_zone
from monitor.config.units import Duration, Size
from monitor.core.severity import Severity
from monitor.stories.clusterer import ClusterParams

MIN_TICK = timedelta(seconds=0.2)  # a shorter daemon tick would only spin on the database


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
Cron = Annotated[Schedule, BeforeValidator(parse_cron)]


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
    config file's folder); the keys are `monitor.render.model.PARTS` and the fields are in README, Templates."""

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
    core_reports: int = Field(default=ClusterParams.core_reports, ge=1, le=1000)  # a story's first reports
    core_similarity: float = Field(default=ClusterParams.core_similarity, ge=0, le=1)  # 0: no core check
    core_span: Duration | None = Field(default=ClusterParams.core_span, gt=timedelta(0))  # null: no limit


UpdateReason = Literal["severity", "topic"]


class BusySettings(_Strict):
    """A busy stretch: after `after` first alerts within `per`, new stories wait for `min_sources` sources."""

    after: int = Field(default=5, ge=1, le=10_000)
    per: Duration = Field(default=timedelta(hours=24), gt=timedelta(0))
    min_sources: int = Field(default=2, ge=2, le=100)


class AlertPolicySettings(_Strict):
    """When a watch alerts about a story: once first, then only when it matters (see `monitor.alerts.policy`)."""

    min_sources: int = Field(default=1, ge=1, le=100)  # independent outlets needed before the first alert
    update_on: list[UpdateReason] = Field(default_factory=lambda: ["severity", "topic"])
    update_at_sources: int | None = Field(default=None, ge=2, le=1000)  # one update when this many carry it
    # an item published longer than this before it is first seen never alerts (it still joins its story):
    # a new feed's backlog or an outlet's late batch does not flood anyone
    max_age: Duration = Field(default=timedelta(hours=24), gt=timedelta(0))
    events_only: bool = True  # commentary (analysis, opinion, live pages...) never opens a first alert
    busy: BusySettings | None = BusySettings()  # null: no busy rule
    phases: bool = True  # a turning point (ceasefire agreed, in effect...; an offensive) alerts at once


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
