"""Severity of a matched topic: a fixed level, or a 0-100 score from weighted evidence in the rule file.

A plain level (``severity: high``) means that level, scored at its default threshold (low 0, medium 30,
high 60, critical 85). A mapping scores ``clamp(base + Σ weights whose query also matches the item, 0, 100)``
and takes the highest level whose threshold the score reaches, so rule authors can say that martial law or
a collapsing ceasefire weighs more than a call for restraint. Weight queries are ordinary queries,
evaluated on the same item with the same memo as the topic itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from monitor.core.severity import SEVERITY_ORDER, Severity
from monitor.match.nodes import Compiled, Ctx
from monitor.match.results import TopicSeverity
from monitor.match.rules import SeveritySpec

RANK = {name: index for index, name in enumerate(SEVERITY_ORDER)}
DEFAULT_LEVELS: dict[Severity, int] = {"low": 0, "medium": 30, "high": 60, "critical": 85}


@dataclass(frozen=True)
class Weight:
    root: Compiled
    weight: int
    reason: str


@dataclass(frozen=True)
class CompiledSeverity:
    base: int
    weights: tuple[Weight, ...]
    levels: tuple[tuple[int, str], ...]  # (threshold, level), the highest-ranked level first
    fixed: str | None  # a plain level: no scoring

    def assess(self, ctx: Ctx) -> TopicSeverity:
        """Score one matched topic on the item in `ctx`."""
        if self.fixed is not None:
            return TopicSeverity(self.base, self.fixed, [])
        score, because = self.base, []
        for weight in self.weights:
            if weight.root.eval(ctx, None) is not None:
                score += weight.weight
                because.append(f"{weight.reason} ({weight.weight:+d})")
        score = max(0, min(100, score))
        level = next((name for threshold, name in self.levels if threshold <= score), "low")
        return TopicSeverity(score, level, because)


def compile_severity(
    spec: Severity | SeveritySpec, compile_query: Callable[[int, str], Compiled | None]
) -> CompiledSeverity:
    """`compile_query(index, query)` compiles weight `index` (returning None after recording an error)."""
    if isinstance(spec, str):
        return CompiledSeverity(DEFAULT_LEVELS[spec], (), (), spec)
    weights = []
    for index, weight in enumerate(spec.weights):
        root = compile_query(index, weight.query)
        if root is not None:
            weights.append(Weight(root, weight.weight, weight.reason or weight.query))
    levels = tuple(sorted(((t, name) for name, t in spec.levels.items()), key=lambda x: -RANK[x[1]]))
    return CompiledSeverity(spec.base, tuple(weights), levels, None)


def highest(levels: list[str], default: str = "medium") -> str:
    """The most severe of `levels` (`default` when empty)."""
    return max(levels, key=RANK.__getitem__, default=default)
