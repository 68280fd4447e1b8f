"""The transition table: which reported phase is a turn that alerts, given the watch's current phases, and
what state is kept (repeats move only "last reported"; a long quiet or a collapse starts a new cycle)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.alerts.phases import TURNS, PhaseState, phase_table, turns
from monitor.match.rules import PhaseSpec, TopicSpec

TABLE = phase_table(
    {
        "ceasefire": TopicSpec(
            query="truce",
            phases=[  # as shipped: a truce proposed or agreed opens a new cycle after a collapse
                PhaseSpec(name=n, query="x", starts_cycle=n in ("proposed", "agreed"))
                for n in ("proposed", "agreed", "in_effect", "extended", "violated", "collapsed")
            ],
        ),
        "escalation": TopicSpec(
            query="shelling",
            phases=[
                PhaseSpec(
                    name="offensive",
                    query="x",
                    label="NEW OFFENSIVE",
                    after_label="FIGHTING RESUMED",
                    also_after=["ceasefire.agreed", "ceasefire.in_effect", "ceasefire.extended"],
                )
            ],
        ),
        "plain": TopicSpec(query="y"),
    }
)
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def state(topic: str, phase: str, since_h: float, seen_h: float | None = None) -> PhaseState:
    """A state begun `since_h` hours before T0, last reported `seen_h` hours before T0 (default: then)."""
    return PhaseState(topic, phase, T0 - since_h * H, T0 - (since_h if seen_h is None else seen_h) * H)


# (current states, reported phases, expected turns as (topic, phase, label, when))
CASES = [
    ("first phase ever", [], {"ceasefire": "agreed"}, [("ceasefire", "agreed", "CEASEFIRE AGREED", "start")]),
    ("repeat", [state("ceasefire", "agreed", 5)], {"ceasefire": "agreed"}, []),
    (
        "forward",
        [state("ceasefire", "agreed", 5)],
        {"ceasefire": "in_effect"},
        [("ceasefire", "in_effect", "CEASEFIRE IN EFFECT", "forward")],
    ),
    ("backward", [state("ceasefire", "in_effect", 5)], {"ceasefire": "agreed"}, []),
    (
        "violated after extended",
        [state("ceasefire", "extended", 30, 2)],
        {"ceasefire": "violated"},
        [("ceasefire", "violated", "CEASEFIRE VIOLATED", "forward")],
    ),
    (
        "a new truce after a collapse",
        [state("ceasefire", "collapsed", 10)],
        {"ceasefire": "agreed"},
        [("ceasefire", "agreed", "CEASEFIRE AGREED", "restart")],
    ),
    (
        "a truce proposed after a collapse",
        [state("ceasefire", "collapsed", 10)],
        {"ceasefire": "proposed"},
        [("ceasefire", "proposed", "CEASEFIRE PROPOSED", "restart")],
    ),
    (
        "violations blamed after a collapse: backward",
        [state("ceasefire", "collapsed", 10)],
        {"ceasefire": "violated"},
        [],
    ),
    (
        "in effect after a collapse: backward",
        [state("ceasefire", "collapsed", 10)],
        {"ceasefire": "in_effect"},
        [],
    ),
    (
        "extended after a collapse: backward",
        [state("ceasefire", "collapsed", 10)],
        {"ceasefire": "extended"},
        [],
    ),
    (
        "violated after a collapse, 72 h quiet: a new cycle",
        [state("ceasefire", "collapsed", 100, 72)],
        {"ceasefire": "violated"},
        [("ceasefire", "violated", "CEASEFIRE VIOLATED", "start")],
    ),
    (
        "a repeat after 72 h of quiet starts a cycle",
        [state("ceasefire", "agreed", 100, 72)],
        {"ceasefire": "agreed"},
        [("ceasefire", "agreed", "CEASEFIRE AGREED", "start")],
    ),
    (
        "backward after 72 h of quiet starts a cycle",
        [state("ceasefire", "violated", 100, 80)],
        {"ceasefire": "agreed"},
        [("ceasefire", "agreed", "CEASEFIRE AGREED", "start")],
    ),
    ("repeat just inside the quiet", [state("ceasefire", "agreed", 100, 71)], {"ceasefire": "agreed"}, []),
    (
        "offensive at the start of a cycle",
        [],
        {"escalation": "offensive"},
        [("escalation", "offensive", "NEW OFFENSIVE", "start")],
    ),
    ("offensive repeated", [state("escalation", "offensive", 20, 1)], {"escalation": "offensive"}, []),
    (
        "offensive after a truce agreed",
        [state("escalation", "offensive", 20, 1), state("ceasefire", "agreed", 10)],
        {"escalation": "offensive"},
        [("escalation", "offensive", "FIGHTING RESUMED", "after")],
    ),
    (
        "offensive after a truce in effect, no offensive before",
        [state("ceasefire", "in_effect", 10)],
        {"escalation": "offensive"},
        [("escalation", "offensive", "FIGHTING RESUMED", "after")],
    ),
    (
        "offensive that began after the truce: a repeat",
        [state("ceasefire", "agreed", 10), state("escalation", "offensive", 5, 1)],
        {"escalation": "offensive"},
        [],
    ),
    (
        "offensive while the truce is already violated: a repeat",
        [state("escalation", "offensive", 20, 1), state("ceasefire", "violated", 10)],
        {"escalation": "offensive"},
        [],
    ),
    (
        "offensive after a truce unreported for 72 h: a repeat",
        [state("escalation", "offensive", 100, 1), state("ceasefire", "agreed", 90, 75)],
        {"escalation": "offensive"},
        [],
    ),
    (
        "two topics at once",
        [state("ceasefire", "agreed", 10)],
        {"ceasefire": "collapsed", "escalation": "offensive"},
        [
            ("ceasefire", "collapsed", "CEASEFIRE COLLAPSED", "forward"),
            ("escalation", "offensive", "FIGHTING RESUMED", "after"),
        ],
    ),
    ("a phase the table does not know", [], {"ceasefire": "paused", "plain": "x"}, []),
]


@pytest.mark.parametrize(
    ("current", "reported", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_transition_table(
    current: list[PhaseState], reported: dict[str, str], expected: list[tuple[str, str, str, str]]
) -> None:
    """Each row of the documented table: whether the reported phase alerts, with which subject tag."""
    found, _ = turns(TABLE, {s.topic: s for s in current}, reported, now=T0)
    assert [(t.topic, t.phase, t.label, t.when) for t in found] == expected


def test_blame_trading_during_a_collapse_alerts_once() -> None:
    """agreed → collapsed → violated → collapsed → violated, an hour apart: the truce agreed and its collapse
    alert; the "violations" reported during the collapse are backward (state kept, no alert), and the
    collapse reported again is a repeat. A truce agreed after it starts a new cycle."""
    current: dict[str, PhaseState] = {}
    alerted = []
    for hour, phase in enumerate(["agreed", "collapsed", "violated", "collapsed", "violated", "agreed"]):
        found, changed = turns(TABLE, current, {"ceasefire": phase}, now=T0 + hour * H)
        current.update(changed)
        alerted.append([(t.phase, t.when) for t in found])
        assert current["ceasefire"].phase == ("agreed" if hour in (0, 5) else "collapsed")
    assert alerted == [[("agreed", "start")], [("collapsed", "forward")], [], [], [], [("agreed", "restart")]]


def test_the_table_is_data_and_only_changes_of_state_alert() -> None:
    """`TURNS` is the documented table: starts, forward moves, restarts and turns after a truce alert;
    repeats and backward reports do not."""
    assert {when for when, alerts in TURNS.items() if alerts} == {"start", "forward", "restart", "after"}
    assert {when for when, alerts in TURNS.items() if not alerts} == {"repeat", "backward"}


def test_a_repeat_moves_only_last_seen_and_a_turn_starts_the_state_now() -> None:
    """What is stored: a repeat keeps `since` and its story, moves `last_seen`; a turn begins now with the
    item that made it; a backward report changes nothing."""
    current = {"ceasefire": PhaseState("ceasefire", "agreed", T0 - 5 * H, T0 - 2 * H, 7, "a")}
    _, repeat = turns(TABLE, current, {"ceasefire": "agreed"}, now=T0, story=9, item="b")
    assert repeat == {"ceasefire": PhaseState("ceasefire", "agreed", T0 - 5 * H, T0, 7, "a")}
    _, forward = turns(TABLE, current, {"ceasefire": "in_effect"}, now=T0, story=9, item="b")
    assert forward == {"ceasefire": PhaseState("ceasefire", "in_effect", T0, T0, 9, "b")}
    _, backward = turns(TABLE, current, {"ceasefire": "proposed"}, now=T0, story=9, item="b")
    assert backward == {}


def test_reasons_say_the_turn_and_what_it_follows() -> None:
    """The reason an alert gives names the phase, and the truce an offensive follows."""
    found, _ = turns(
        TABLE, {"ceasefire": state("ceasefire", "in_effect", 3)}, {"escalation": "offensive"}, now=T0
    )
    assert [t.reason for t in found] == ["phase: escalation offensive after ceasefire in effect"]
    found, _ = turns(TABLE, {}, {"ceasefire": "in_effect"}, now=T0)
    assert [t.reason for t in found] == ["phase: ceasefire in effect"]
