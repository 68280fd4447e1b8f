"""What the matcher returns for one item, and its JSON form (the `news-monitor match` contract).

The JSON keeps the keys of the public `match` contract (README, "Writing rules": `topics`, `watches`,
`entities`, `evidence`) and adds, only when there is something to say, `severity` (per matched topic:
score, level, reasons), `why` (per matched topic and per fired watch, keyed `watch:NAME`, and per phase,
keyed `phase:TOPIC`: the branch of the query that made it true), `phases` (matched topic → the phase of
its story the item reports, e.g. `{"ceasefire": "agreed"}`) and `genre` (`{"kind", "cue"}`: the item is commentary, not an event report;
see `monitor.match.genre`). Items that match nothing therefore keep the exact four-key shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor.match.genre import Genre


@dataclass(frozen=True)
class Evidence:
    kind: str  # "term" | "entity"
    name: str  # topic name or entity key
    text: str  # the matched words as written in the source
    field: str  # "title" | "summary" | "content"
    start: int  # character offsets in that field
    end: int

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "text": self.text,
            "field": self.field,
            "start": self.start,
            "end": self.end,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(data["kind"], data["name"], data["text"], data["field"], data["start"], data["end"])


@dataclass(frozen=True)
class WatchHit:
    name: str
    severity: str
    topics: list[str]  # the watch's topics that matched

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "severity": self.severity, "topics": list(self.topics)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WatchHit:
        return cls(data["name"], data["severity"], list(data["topics"]))


@dataclass(frozen=True)
class TopicSeverity:
    """Severity of one matched topic: a 0-100 score, its level, and the weighted evidence that moved it."""

    score: int
    level: str
    because: list[str] = field(default_factory=list)  # e.g. "martial law or mobilisation (+30)"

    def to_json(self) -> dict[str, Any]:
        return {"score": self.score, "level": self.level, "because": list(self.because)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TopicSeverity:
        return cls(data["score"], data["level"], list(data["because"]))


@dataclass(frozen=True)
class MatchResult:
    topics: list[str]  # every topic flagged for the item, whether or not a watch fired
    watches: list[WatchHit]
    entities: list[str]  # display labels, in order of first appearance
    evidence: list[Evidence] = field(default_factory=list)
    severity: dict[str, TopicSeverity] = field(default_factory=dict)  # per matched topic
    why: dict[str, str] = field(default_factory=dict)  # topic name or "watch:NAME" → satisfied branch
    genre: Genre | None = None  # set when a matched item is commentary rather than an event report
    phases: dict[str, str] = field(default_factory=dict)  # matched topic → phase (rule order: last wins)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "topics": list(self.topics),
            "watches": [w.to_json() for w in self.watches],
            "entities": list(self.entities),
            "evidence": [e.to_json() for e in self.evidence],
        }
        if self.severity:
            out["severity"] = {name: s.to_json() for name, s in self.severity.items()}
        if self.why:
            out["why"] = dict(self.why)
        if self.genre is not None:
            out["genre"] = self.genre.to_json()
        if self.phases:
            out["phases"] = dict(self.phases)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MatchResult:
        """The result `to_json` wrote (as stored with an item). A missing key reads as empty, so `{}` is
        the result of an item that matched nothing."""
        return cls(
            topics=list(data.get("topics", [])),
            watches=[WatchHit.from_json(w) for w in data.get("watches", [])],
            entities=list(data.get("entities", [])),
            evidence=[Evidence.from_json(e) for e in data.get("evidence", [])],
            severity={name: TopicSeverity.from_json(s) for name, s in data.get("severity", {}).items()},
            why=dict(data.get("why", {})),
            genre=Genre.from_json(data["genre"]) if data.get("genre") else None,
            phases=dict(data.get("phases", {})),
        )

    def watch(self, name: str) -> WatchHit | None:
        """The hit of the watch `name`, or None when that watch did not fire."""
        return next((hit for hit in self.watches if hit.name == name), None)
