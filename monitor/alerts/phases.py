"""Turning points: per watch and topic, the phase a conflict is in (a ceasefire proposed, agreed, in
effect, extended, violated, collapsed; an offensive), and which reported phase is a turn that alerts at
once, even inside a story already alerted. Pure: the pipeline loads the watch's states, asks `turns`, and
stores the answer with the outbox rows in the item's transaction.

The transition table (`TURNS`), for a phase P of topic T reported by an item, given the watch's current
state of T (phase C, since, last reported):

=================  ==========================================================================  =========
when               meaning                                                                     alerts
=================  ==========================================================================  =========
``start``          no state for T, or C not reported for `QUIET` (72 h): a new cycle begins      yes
``forward``        P comes after C in the topic's phase order (agreed → in effect → violated)    yes
``restart``        C is the topic's last phase (collapsed) and P an earlier one that opens a     yes
                   cycle (`starts_cycle`: proposed, agreed): a new truce
``after``          a phase P lists in `also_after` (another topic's) is the watch's live state   yes
                   and began after C (or T has no live state), unless P comes before C:
                   an offensive after a truce agreed is fighting resumed
``repeat``         P is C (more reports of the same state): only "last reported" moves           no
``backward``       P comes before C (a truce in effect still called "agreed"; a truce collapsed  no
                   then called "violated"), not a restart: state unchanged
=================  ==========================================================================  =========

Outside these rows a state ends only by going unreported for `QUIET`: a truce in effect that is still
called "agreed" stays in effect, and a phase reported after a long quiet is news again. After the last
phase (a collapse) the cycle is over at once: a new truce agreed the next day alerts, while "violations"
blamed on each other during the collapse do not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.match.rules import PhaseSpec, TopicSpec

__all__ = ["QUIET", "TURNS", "PhaseState", "PhaseTable", "Turn", "phase_table", "turns"]

QUIET = timedelta(hours=72)  # a state not reported for this long is over: the next phase starts a cycle

# the transition table above, as data: how a reported phase relates to the current state → whether it alerts
TURNS: Mapping[str, bool] = {
    "start": True,
    "forward": True,
    "restart": True,
    "after": True,
    "repeat": False,
    "backward": False,
}


@dataclass(frozen=True)
class PhaseState:
    """A watch's current phase of one topic: since when, and when it was last reported."""

    topic: str
    phase: str
    since: datetime
    last_seen: datetime
    story: int | None = None  # the story and item that opened it
    item: str | None = None


@dataclass(frozen=True)
class Turn:
    """A reported phase that alerts: `label` is the subject tag ("CEASEFIRE IN EFFECT"), `reason` the line
    the alert gives ("phase: ceasefire in effect"), `when` its row of `TURNS`."""

    topic: str
    phase: str
    label: str
    reason: str
    when: str


@dataclass(frozen=True)
class PhaseTable:
    """The phases of a rule pack: per topic its phase specs in order."""

    topics: Mapping[str, Sequence[PhaseSpec]]

    def spec(self, topic: str, phase: str) -> PhaseSpec | None:
        return next((p for p in self.topics.get(topic, ()) if p.name == phase), None)

    def rank(self, topic: str, phase: str) -> int:
        return next((i for i, p in enumerate(self.topics.get(topic, ())) if p.name == phase), -1)


def phase_table(topics: Mapping[str, TopicSpec]) -> PhaseTable:
    """The phase table of a rule pack's topics (topics without phases left out)."""
    return PhaseTable({name: tuple(spec.phases) for name, spec in topics.items() if spec.phases})


def _after(
    table: PhaseTable, current: Mapping[str, PhaseState], topic: str, phase: str, now: datetime
) -> PhaseState | None:
    """The `also_after` state of the watch that became current after this topic's state began (any time
    when the topic has no live state), if there is one."""
    spec = table.spec(topic, phase)
    state = current.get(topic)
    live = state is not None and now - state.last_seen < QUIET
    for ref in spec.also_after if spec else ():
        other_topic, _, other_phase = ref.partition(".")
        other = current.get(other_topic)
        if other is None or other.phase != other_phase or now - other.last_seen >= QUIET:
            continue
        if not live or (state is not None and other.since > state.since):
            return other
    return None


def _when(
    table: PhaseTable, current: Mapping[str, PhaseState], topic: str, phase: str, now: datetime
) -> tuple[str, PhaseState | None]:
    """The row of `TURNS` for `phase` of `topic` reported now, and the `also_after` state it follows."""
    state = current.get(topic)
    after = _after(table, current, topic, phase, now)
    if after is not None and (state is None or table.rank(topic, phase) >= table.rank(topic, state.phase)):
        return "after", after
    if state is None or now - state.last_seen >= QUIET:
        return "start", None
    if phase == state.phase:
        return "repeat", None
    rank, current_rank = table.rank(topic, phase), table.rank(topic, state.phase)
    if rank > current_rank:
        return "forward", None
    spec = table.spec(topic, phase)
    if current_rank == len(table.topics.get(topic, ())) - 1 and spec is not None and spec.starts_cycle:
        return "restart", None
    return "backward", None


def turns(
    table: PhaseTable,
    current: Mapping[str, PhaseState],
    reported: Mapping[str, str],
    *,
    now: datetime,
    story: int | None = None,
    item: str | None = None,
) -> tuple[list[Turn], dict[str, PhaseState]]:
    """The turns among the phases an item reports (`reported`: topic → phase, only topics the watch
    matched), and the states to store (only those that changed). Phases unknown to `table` are ignored."""
    found: list[Turn] = []
    changed: dict[str, PhaseState] = {}
    for topic, phase in reported.items():
        spec = table.spec(topic, phase)
        if spec is None:
            continue
        when, after = _when(table, current, topic, phase, now)
        state = current.get(topic)
        if when == "backward":
            continue
        if when == "repeat":
            assert state is not None
            changed[topic] = PhaseState(topic, phase, state.since, now, state.story, state.item)
            continue
        label = (spec.after_label or spec.tag(topic)) if after else spec.tag(topic)
        reason = f"phase: {topic} {phase.replace('_', ' ')}"
        if after is not None:
            reason += f" after {after.topic} {after.phase.replace('_', ' ')}"
        found.append(Turn(topic, phase, label, reason, when))
        changed[topic] = PhaseState(topic, phase, now, now, story, item)
    return [t for t in found if TURNS[t.when]], changed
