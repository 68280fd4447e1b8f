"""Rule-file models: entities, topics and watches, as written in `config/rules/*.yaml`.

Pure data (pydantic, `extra="forbid"`): the settings loader validates YAML into these, and the
matcher compiles them. Query strings are parsed by the matcher, which reports errors with columns.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, model_validator

from monitor.core.severity import SEVERITY_ORDER, Severity


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntitySpec(_Strict):
    """An alias set; `label` is the display name (defaults to the first alias)."""

    label: str | None = None
    aliases: list[str] = Field(min_length=1)

    @property
    def display(self) -> str:
        return self.label or self.aliases[0]


class SeverityWeight(_Strict):
    """Extra evidence that makes a matched topic more (or less) severe."""

    query: str = Field(min_length=1)  # evaluated on the same item, same language as topic queries
    weight: int = Field(ge=-100, le=100)  # added to the score when the query matches too
    reason: str | None = None  # shown in explanations, e.g. "martial law or mobilisation"


def _default_levels() -> dict[Severity, int]:
    return {"low": 0, "medium": 30, "high": 60, "critical": 85}


class SeveritySpec(_Strict):
    """Score 0-100 from weighted evidence; the level is the highest whose threshold the score reaches."""

    base: int = Field(default=50, ge=0, le=100)  # score of any item the topic matches
    weights: list[SeverityWeight] = Field(default_factory=list)
    levels: dict[Severity, int] = Field(default_factory=_default_levels)  # minimum score per level


def _severity(value: Any) -> Any:
    """One clear message for both spellings, instead of one error per union member."""
    if isinstance(value, str) and value not in SEVERITY_ORDER:
        raise ValueError(
            f"{value!r} is not a severity; write one of {', '.join(SEVERITY_ORDER)}, or a mapping with "
            "base, weights and levels"
        )
    if not isinstance(value, str | dict | SeveritySpec):
        raise ValueError(
            "severity must be a level (low, medium, high, critical) or a mapping with base, weights, levels"
        )
    return value


class PhaseSpec(_Strict):
    """A stage of the story a topic tells (a ceasefire proposed, agreed, in effect... ): what makes a
    report a turning point worth an alert of its own (see `monitor.alerts.phases`). A topic lists its
    phases in the order a conflict goes through them; of several that match one item, the last listed
    wins (it is the further stage: "the truce agreed on Monday collapsed" is a collapse)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")  # e.g. in_effect
    query: str = Field(min_length=1)  # same language as topic queries, evaluated on items the topic matched
    reason: str | None = None  # shown by `match --explain` after the phase name (the matched words follow)
    label: str | None = None  # the subject tag of this turn; default "TOPIC NAME" ("CEASEFIRE IN EFFECT")
    # "topic.phase" states after which this phase is a turn even when it repeats its topic's state: an
    # offensive after a truce agreed or in effect is fighting resumed
    also_after: list[str] = Field(default_factory=list)
    after_label: str | None = None  # the subject tag of such a turn (default: `label`)
    # a phase that opens a new cycle once the topic is in its last phase (a truce proposed or agreed after a
    # collapse alerts); other earlier phases reported then are backward (a collapse's blame-trading "violation")
    starts_cycle: bool = False

    def tag(self, topic: str) -> str:
        """The subject tag of this phase reached as a plain turn."""
        return self.label or f"{topic} {self.name.replace('_', ' ')}".upper()


class TopicSpec(_Strict):
    query: str = Field(min_length=1)
    # a fixed level, or a score from weighted evidence
    severity: Annotated[Severity | SeveritySpec, BeforeValidator(_severity)] = "medium"
    description: str | None = None
    tag_priority: int = 0  # of an alert's topics, the highest names it in the subject (ties: the first)
    phases: list[PhaseSpec] = Field(default_factory=list)  # turning points, in the order they happen

    @model_validator(mode="after")
    def _unique_phases(self) -> TopicSpec:
        names = [p.name for p in self.phases]
        if len(names) != len(set(names)):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"phase names must be unique within a topic; listed twice: {', '.join(twice)}")
        if self.phases and self.phases[-1].starts_cycle:
            raise ValueError(
                f"phase {self.phases[-1].name!r} is the last listed and cannot have starts_cycle: a new cycle "
                "starts with an earlier phase reported after the last one"
            )
        return self


class NotifyRoute(_Strict):
    """A `notify` entry written as a mapping: the channel plus this watch's overrides of the channel's
    routing defaults (see `monitor.alerts.routing`)."""

    channel: str = Field(min_length=1)
    min_severity: Severity | None = None
    topics: list[str] | None = None  # a subset of the watch's topics
    mode: Literal["immediate", "digest"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _mapping(cls, value: Any) -> Any:
        if not isinstance(value, dict | NotifyRoute):
            raise ValueError(
                "a notify entry is a channel name or a mapping like "
                "{channel: team-chat, min_severity: high, mode: digest, topics: [escalation]}"
            )
        return value


# pydantic puts these tags in error locations; the settings loader drops them
ROUTE_TAGS = ("channel-name", "channel-route")


def _notify_kind(value: Any) -> str:
    return ROUTE_TAGS[0] if isinstance(value, str) else ROUTE_TAGS[1]


# A channel name (the original form, still the common one) or a NotifyRoute mapping.
NotifyEntry = Annotated[
    Annotated[str, Tag(ROUTE_TAGS[0])] | Annotated[NotifyRoute, Tag(ROUTE_TAGS[1])],
    Discriminator(_notify_kind),
]


class WatchSpec(_Strict):
    name: str = Field(min_length=1)
    label: str | None = None  # shown in alert subjects, e.g. "Nagorno-Karabakh"; defaults to the name
    query: str = Field(min_length=1)
    topics: list[str] = Field(default_factory=list)
    notify: list[NotifyEntry] = Field(default_factory=list)  # channel names or NotifyRoute mappings
    enabled: bool = True
    description: str | None = None

    @property
    def routes(self) -> list[NotifyRoute]:
        """Every `notify` entry as a NotifyRoute (a bare channel name keeps the channel's defaults)."""
        return [NotifyRoute(channel=e) if isinstance(e, str) else e for e in self.notify]


class RuleFile(_Strict):
    entities: dict[str, EntitySpec] = Field(default_factory=dict)
    topics: dict[str, TopicSpec] = Field(default_factory=dict)
    watches: list[WatchSpec] = Field(default_factory=list)


class RulePack(_Strict):
    """All rule files of a config merged; names are unique across files."""

    entities: dict[str, EntitySpec] = Field(default_factory=dict)
    topics: dict[str, TopicSpec] = Field(default_factory=dict)
    watches: list[WatchSpec] = Field(default_factory=list)
