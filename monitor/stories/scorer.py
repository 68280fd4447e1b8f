"""Pair scorer of story clustering: how likely two reports tell the same event.

The evidence (`FEATURES`) is general, whatever the rule pack: full-text and title cosine, names shared
and the share of one item's names found in the other, hours apart, same outlet, shared numbers, and how
much of one title's weight the other item contains. A name counts as shared when it occurs anywhere in
the other item, so a name that opens one headline still counts. Time enters the score (a retelling's
score falls as hours pass), but the labels count a development within about two days as the same story,
so what keeps two strikes on one city apart is mostly their different words (target, weapon, toll).

The score is the logit of a logistic regression over the features. Its weights live in
`data/scorer_weights.json`, which `bench/train_story_scorer.py --write` fits on the even-numbered
labelled pairs of `bench/data/story_pairs.tsv` and writes with its provenance; the odd pairs stay held
out.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "FEATURES",
    "WEIGHTS_FILE",
    "ScoredItem",
    "Weights",
    "load_weights",
    "pair_features",
    "score",
    "trained_weights",
]

FEATURES = (
    "cosine", "title_cosine", "shared_names", "name_share", "hours", "log_hours", "same_outlet",
    "shared_numbers", "title_contained",
)  # fmt: skip

WEIGHTS_FILE = Path(__file__).parent / "data" / "scorer_weights.json"

# Upper end of each feature (all are >= 0; cosines and shares are <= 1 as every IDF weight is > 0): what
# a feature not yet computed can add to the logit at most.
_HIGHEST = {
    "cosine": 1.0, "title_cosine": 1.0, "shared_names": math.inf, "name_share": 1.0, "hours": math.inf,
    "log_hours": math.inf, "same_outlet": 1.0, "shared_numbers": math.inf, "title_contained": 1.0,
}  # fmt: skip
# The logit's float sum and the staged one in `pair_features` differ by far less than this.
_MARGIN = 1e-6


class ScoredItem(Protocol):
    """An item as the scorer reads it (the clusterer's window entries)."""

    ts: float  # publication time, POSIX seconds
    outlet: str
    words: frozenset[str]
    names: frozenset[str]
    title: frozenset[str]
    numbers: frozenset[str]
    vector: dict[str, float]  # word -> IDF weight
    title_norm: float  # norm of the title words' weights
    title_mass: float  # sum of the title words' weights


@dataclass(frozen=True)
class Weights:
    """Logistic-regression weights over `FEATURES`, and where they come from."""

    bias: float
    coefficients: tuple[float, ...]  # one per feature, in the order of FEATURES
    provenance: Mapping[str, Any] = field(default_factory=dict, compare=False)
    # bias, the weights of the features `pair_features` computes first, and the headroom after each stage
    _stages: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.coefficients) != len(FEATURES):
            raise ValueError(f"{len(self.coefficients)} weights for {len(FEATURES)} features {FEATURES}")
        first = ("cosine", "hours", "log_hours", "same_outlet", "title_cosine", "title_contained")
        stages = (
            self.bias,
            *(self.coefficients[FEATURES.index(name)] for name in first),
            self.headroom("title_cosine", "title_contained", "shared_names", "name_share", "shared_numbers"),
            self.headroom("title_contained", "shared_names", "name_share", "shared_numbers"),
            self.headroom("shared_names", "name_share", "shared_numbers"),
        )
        object.__setattr__(self, "_stages", stages)

    def headroom(self, *pending: str) -> float:
        """The most the `pending` features can add to the logit (`inf` when one is unbounded and weighs +);
        a feature of negative weight adds at most 0, as every feature is >= 0."""
        unknown = set(pending) - set(FEATURES)
        if unknown:
            raise ValueError(f"not features: {sorted(unknown)}")
        return sum(
            weight * _HIGHEST[name] if weight > 0 else 0.0
            for name, weight in zip(FEATURES, self.coefficients, strict=True)
            if name in pending
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Weights:
        """Weights from the JSON object `as_json` gives; the feature names must be FEATURES, in order."""
        by_name = data["weights"]
        if list(by_name) != list(FEATURES):
            raise ValueError(
                f"the weights are for the features {list(by_name)}, the scorer computes {list(FEATURES)}: "
                "refit them with bench/train_story_scorer.py --write"
            )
        return cls(float(data["bias"]), tuple(map(float, by_name.values())), dict(data.get("provenance", {})))

    def as_json(self) -> dict[str, Any]:
        return {
            "bias": self.bias,
            "weights": dict(zip(FEATURES, self.coefficients, strict=True)),
            "provenance": dict(self.provenance),
        }


def load_weights(path: Path) -> Weights:
    """Weights from a file written by `bench/train_story_scorer.py --write`."""
    try:
        return Weights.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: not a story scorer weights file ({exc})") from exc


@cache
def trained_weights() -> Weights:
    """The shipped weights (`WEIGHTS_FILE`), read on first use."""
    return load_weights(WEIGHTS_FILE)


def pair_features(
    a: ScoredItem, b: ScoredItem, cosine: float, floor: float = -math.inf, weights: Weights | None = None
) -> list[float] | None:
    """The features (see FEATURES) of two items whose full-text cosine is `cosine`; None as soon as the
    logit (`score`) provably stays below `floor`. Every feature is >= 0 with a known upper end, so what
    the features not yet computed can add is bounded: time and outlet come first (no set operation), then
    the features in the order that, on the 2022 corpus, settles most pairs the soonest."""
    (
        bias,
        w_cosine,
        w_hours,
        w_log_hours,
        w_outlet,
        w_title,
        w_contained,
        after_time,
        after_title,
        after_contained,
    ) = (weights or trained_weights())._stages
    need = floor - bias - _MARGIN  # what the weighted features must reach for the logit to reach floor
    hours = abs(a.ts - b.ts) / 3600.0
    log_hours = math.log1p(hours)
    same_outlet = 1.0 if a.outlet and a.outlet == b.outlet else 0.0
    reached = w_cosine * cosine + w_hours * (hours / 24.0) + w_log_hours * log_hours + w_outlet * same_outlet
    if reached + after_time < need:
        return None
    av, bv = a.vector, b.vector
    title_dot = 0.0
    for word in a.title & b.title:
        title_dot += av[word] * bv[word]
    title_cosine = title_dot / (a.title_norm * b.title_norm)
    reached += w_title * title_cosine
    if reached + after_title < need:
        return None
    inside_a = inside_b = 0.0
    for word in a.title & b.words:
        inside_a += av[word]
    for word in b.title & a.words:
        inside_b += bv[word]
    contained = max(inside_a / a.title_mass, inside_b / b.title_mass)
    reached += w_contained * contained
    if reached + after_contained < need:
        return None
    na = len(a.names & b.words)
    nb = len(b.names & a.words)
    share = max(na / len(a.names) if a.names else 0.0, nb / len(b.names) if b.names else 0.0)
    return [
        cosine,
        title_cosine,
        math.log1p(na + nb),
        share,
        hours / 24.0,
        log_hours,
        same_outlet,
        math.log1p(len(a.numbers & b.numbers)),
        contained,
    ]


def score(features: Sequence[float], weights: Weights | None = None) -> float:
    """Logit of "same event" for a pair's features."""
    w = weights or trained_weights()
    return w.bias + sum(map(operator.mul, w.coefficients, features))
