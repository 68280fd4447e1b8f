"""monitor.pipeline.build_alert: the subject tag follows the rule pack's `tag_priority`, whatever its topic
names; the shipped pack keeps ESCALATION before CEASEFIRE."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from monitor.db.records import PendingDelivery
from monitor.match import MatchResult, WatchHit
from monitor.match.rules import RuleFile, TopicSpec
from monitor.pipeline.messages import build_alert
from monitor.render.fitting import render

SHIPPED = Path(__file__).parents[3] / "config" / "rules" / "conflict.yaml"

PACK = """\
topics:
  protest: {query: protest, tag_priority: 1}
  strike: {query: strike OR walkout, tag_priority: 5}
  aid: {query: aid}
"""


def topics_of(text: str) -> dict[str, TopicSpec]:
    return RuleFile.model_validate(yaml.safe_load(text)).topics


def row(topics: list[str]) -> PendingDelivery:
    match = MatchResult(topics, [WatchHit("w", "high", topics)], [], [])
    return PendingDelivery(
        id=1, watch="w", channel="c", attempts=0, feed="wire", feed_title="Wire", title="Headline", summary="",
        link="https://news.example/1", published_at=None, match=match, story_id=1, seq=0, kind="alert",
        reasons=[], message_id=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("topics", "tag"),
    [
        (["aid", "protest", "strike"], "STRIKE"),
        (["aid", "protest"], "PROTEST"),
        (["aid"], "AID"),
        ([], "ALERT"),
    ],
)
def test_a_pack_with_other_topics_tags_the_subject_by_their_priority(topics: list[str], tag: str) -> None:
    """A pack whose topics are not the shipped ones names the alert by its highest `tag_priority` topic."""
    alert = build_alert(row(topics), "Zetaland", (), topics_of(PACK))
    assert render(alert).subject == f"[{tag}] Zetaland: Headline"


def test_the_shipped_pack_tags_escalation_before_ceasefire() -> None:
    """conflict.yaml ranks escalation above ceasefire, and either above any other topic."""
    topics = topics_of(SHIPPED.read_text(encoding="utf-8"))
    for alert_topics, tag in (
        (["ceasefire", "escalation"], "ESCALATION"),
        (["mobilisation", "ceasefire"], "CEASEFIRE"),
        (["mobilisation"], "MOBILISATION"),
    ):
        assert render(build_alert(row(alert_topics), "Zetaland", (), topics)).subject.startswith(f"[{tag}] ")


def test_a_phase_row_names_its_turn_and_is_not_an_update() -> None:
    """An outbox row of kind "phase" carries its turn into the alert: the subject tag is the turn, with no
    [UPDATE], and its reasons are shown; the row's place in the story still threads it."""
    phase_row = replace(
        row(["ceasefire", "escalation"]), kind="phase", seq=2, phase="CEASEFIRE IN EFFECT",
        reasons=["phase: ceasefire in effect"],
    )  # fmt: skip
    alert = build_alert(phase_row, "Zetaland", (), topics_of(SHIPPED.read_text(encoding="utf-8")))
    assert (alert.phase, alert.update, alert.reasons) == (
        "CEASEFIRE IN EFFECT",
        False,
        ["phase: ceasefire in effect"],
    )
    assert alert.in_reply_to is not None
    assert render(alert).subject == "[CEASEFIRE IN EFFECT] Zetaland: Headline"
