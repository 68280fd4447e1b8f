"""Alert decisions per (watch, story): first alert, updates only when it matters, corroboration."""

from __future__ import annotations

import pytest

from monitor.alerts.policy import AlertPolicy, Busy, WatchState, decide, needs_recent_count

DEFAULT = AlertPolicy()


def step(
    state: WatchState | None,
    level: str | None,
    topics: list[str],
    sources: int,
    policy: AlertPolicy = DEFAULT,
    commentary: str | None = None,
) -> tuple[str | None, list[str], WatchState]:
    decision = decide(
        state, level=level, topics=topics, sources=sources, policy=policy, commentary=commentary
    )
    return decision.kind, decision.reasons, decision.state


def test_first_match_alerts_and_retellings_do_not() -> None:
    """The first matching item alerts; more outlets with the same severity and topics send nothing."""
    kind, _, state = step(None, "high", ["escalation"], 1)
    assert kind == "first"
    for sources in (2, 3, 40):
        kind, _, state = step(state, "high", ["escalation"], sources)
        assert kind is None
    assert state.alerts == 1


def test_severity_rise_and_new_topic_each_send_one_update() -> None:
    """high → critical sends one update; a ceasefire story gaining escalation sends one more; repeats don't."""
    _, _, state = step(None, "high", ["ceasefire"], 1)
    kind, reasons, state = step(state, "critical", ["ceasefire"], 2)
    assert (kind, reasons) == ("update", ["severity rose from high to critical"])
    kind, _, state = step(state, "critical", ["ceasefire"], 3)
    assert kind is None
    kind, reasons, state = step(state, "medium", ["escalation"], 3)
    assert (kind, reasons) == ("update", ["new topic: escalation"])
    assert step(state, "critical", ["ceasefire", "escalation"], 4)[0] is None


def test_min_sources_waits_for_corroboration_even_from_non_matching_items() -> None:
    """With min_sources 2 the first alert waits for a second independent source, whatever its own match."""
    policy = AlertPolicy(min_sources=2)
    kind, reasons, state = step(None, "high", ["escalation"], 1, policy)
    assert kind is None and reasons == ["waiting for 2 sources"]
    kind, reasons, state = step(state, None, [], 2, policy)
    assert kind == "first" and "corroborated by 2 independent sources" in reasons


def test_update_at_sources_fires_once_and_update_on_can_be_narrowed() -> None:
    """update_at_sources sends one update when reached; without 'severity' in update_on a rise is silent."""
    policy = AlertPolicy(update_on=frozenset({"topic"}), update_at_sources=5)
    _, _, state = step(None, "high", ["escalation"], 1, policy)
    assert step(state, "critical", ["escalation"], 2, policy)[0] is None
    kind, reasons, state = step(state, None, [], 5, policy)
    assert (kind, reasons) == ("update", ["now reported by 5 independent sources"])
    assert step(state, None, [], 6, policy)[0] is None


def test_a_source_count_that_falls_and_rises_again_does_not_repeat_the_sources_update() -> None:
    """A late wire report can turn an outlet counted as independent into its reprint (5 -> 4); reaching 5
    again is not news."""
    policy = AlertPolicy(update_at_sources=5)
    _, _, state = step(None, "high", ["escalation"], 1, policy)
    kind, _, state = step(state, None, [], 5, policy)
    assert kind == "update"
    kind, _, state = step(state, "critical", ["escalation"], 4, policy)
    assert kind == "update"  # the severity rose; the count fell meanwhile
    assert step(state, None, [], 5, policy)[0] is None


def test_a_watch_that_never_matched_the_story_stays_silent() -> None:
    """Sources joining a story the watch never matched do not wake it."""
    assert step(None, None, [], 9)[0] is None


def test_commentary_waits_for_an_event_report_to_open_the_first_alert() -> None:
    """With events_only (the default), analysis and a live page do not open the first alert; the first
    event report does, even one that does not match the watch itself; then commentary updates as before."""
    kind, reasons, state = step(None, "high", ["escalation"], 1, commentary="analysis")
    assert kind is None and reasons == ["commentary (analysis): waits for an event report"]
    kind, reasons, state = step(state, "medium", ["escalation"], 2, commentary="live")
    assert kind is None and reasons == ["commentary (live): waits for an event report"]
    assert state.level == "high" and state.topics == ("escalation",)  # commentary is still seen
    kind, reasons, state = step(state, None, [], 3)
    assert kind == "first" and reasons == ["story matched with severity high"]
    kind, reasons, _ = step(state, "critical", ["escalation"], 4, commentary="opinion")
    assert (kind, reasons) == ("update", ["severity rose from high to critical"])


def test_events_only_off_alerts_on_commentary() -> None:
    """events_only: false restores the first alert on any matching item, commentary included."""
    kind, _, _ = step(None, "high", ["escalation"], 1, AlertPolicy(events_only=False), commentary="analysis")
    assert kind == "first"


def test_corroboration_is_checked_before_commentary() -> None:
    """Under min_sources the wait reason stays the source count; once there, commentary still waits."""
    policy = AlertPolicy(min_sources=2)
    kind, reasons, state = step(None, "high", ["escalation"], 1, policy, commentary="video")
    assert reasons == ["waiting for 2 sources"]
    kind, reasons, state = step(state, None, [], 2, policy, commentary="video")
    assert kind is None and reasons == ["commentary (video): waits for an event report"]
    assert step(state, None, [], 3, policy)[0] == "first"


@pytest.mark.parametrize(
    ("recent", "level", "sources", "policy", "kind", "reason"),
    [
        (4, "high", 1, DEFAULT, "first", "story matched with severity high"),  # not busy yet
        (5, "high", 1, DEFAULT, None, "busy watch (5 first alerts in 24 h): waiting for 2 independent sources"),
        (5, "high", 2, DEFAULT, "first", "busy watch, corroborated by 2 independent sources"),
        (9, "critical", 1, DEFAULT, "first", "story matched with severity critical"),  # never held back
        (9, "high", 1, AlertPolicy(busy=None), "first", "story matched with severity high"),  # rule off
        (2, "high", 2, AlertPolicy(busy=Busy(after=2, min_sources=3)), None, "busy watch (2 first alerts in 24 h): waiting for 3 independent sources"),
    ],
)  # fmt: skip
def test_a_busy_watch_waits_for_corroboration_unless_critical(
    recent: int, level: str, sources: int, policy: AlertPolicy, kind: str | None, reason: str
) -> None:
    """After `busy.after` first alerts within `busy.per`, a new story's first alert waits for
    `busy.min_sources` independent sources; a critical story is not held."""
    decision = decide(None, level=level, topics=["escalation"], sources=sources, policy=policy,
                      recent_first_alerts=recent)  # fmt: skip
    assert decision.kind == kind
    assert reason in decision.reasons


@pytest.mark.parametrize(
    ("state", "sources", "policy", "needed"),
    [
        (None, 1, DEFAULT, True),
        (WatchState(level="high", alerts=1), 1, DEFAULT, False),  # already alerted: updates are not held
        (None, 2, DEFAULT, False),  # corroborated already
        (None, 1, AlertPolicy(busy=None), False),
    ],
)
def test_the_recent_count_is_only_needed_when_the_busy_rule_can_hold(
    state: WatchState | None, sources: int, policy: AlertPolicy, needed: bool
) -> None:
    """The pipeline queries the watch's recent first alerts only when the answer could change the decision."""
    assert needs_recent_count(state, policy, sources) is needed


@pytest.mark.parametrize(
    ("policy", "commentary", "sources", "digest_only"),
    [
        (DEFAULT, "analysis", 1, True),  # waiting commentary goes to digest routes
        (DEFAULT, None, 1, False),  # an event report alerts instead
        (AlertPolicy(events_only=False), "analysis", 1, False),  # commentary alerts like events
        (AlertPolicy(min_sources=2), "analysis", 1, False),  # still waiting for sources: nothing yet
    ],
)
def test_only_commentary_waiting_for_an_event_report_is_for_digests(
    policy: AlertPolicy, commentary: str | None, sources: int, digest_only: bool
) -> None:
    decision = decide(
        None, level="high", topics=["escalation"], sources=sources, policy=policy, commentary=commentary
    )
    assert decision.digest_only is digest_only
