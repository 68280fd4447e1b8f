"""`news-monitor replay`: the backtest contract, run as a user runs it, on the shipped config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config" / "monitor.yaml"
KEYS = {"at", "watch", "story", "kind", "severity", "topics", "item", "title", "reasons"}

# Invented reports (not from any outlet): one shelling told by two outlets, an unrelated item, and a
# strike in Ukraine, whose watch ships disabled.
ITEMS = [
    {
        "id": "a1",
        "outlet": "wire-one",
        "published": "2030-03-01T06:00:00Z",
        "title": "Azerbaijani artillery shells Stepanakert overnight, Karabakh officials say",
        "summary": "Heavy artillery fire hit residential districts of Stepanakert overnight.",
    },
    {
        "id": "b1",
        "outlet": "wire-two",
        "published": "2030-03-01T06:20:00Z",
        "title": "Stepanakert shelled overnight by Azerbaijani artillery, say Karabakh officials",
        "summary": "Residential districts of Stepanakert were hit by heavy artillery fire overnight.",
    },
    {
        "id": "c1",
        "outlet": "wire-one",
        "published": "2030-03-01T07:00:00Z",
        "title": "Village bakery wins regional bread award",
        "summary": "The judges praised its rye loaf.",
    },
    {
        "id": "d1",
        "outlet": "wire-two",
        "published": "2030-03-02T09:00:00Z",
        "title": "Russian missiles strike Kyiv power plant",
        "summary": "Missile strikes on Kyiv cut power to thousands of homes, Ukrainian officials said.",
    },
]


def run_replay(
    tmp_path: Path, *args: str, items_in: list[dict[str, str]] = ITEMS
) -> tuple[list[dict[str, object]], str, int]:
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps(i) + "\n" for i in items_in), encoding="utf-8")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "replay", "-c", str(CONFIG), *args, str(items)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    assert not list(scratch.iterdir()), "the throw-away database is deleted at the end"
    return [json.loads(line) for line in result.stdout.splitlines()], result.stderr, result.returncode


def test_one_message_per_story_at_the_items_time_and_a_summary_on_stderr(tmp_path: Path) -> None:
    """The shelling alerts once, at its first report's publication time; the second outlet's report of it
    and the unrelated item send nothing; the disabled Ukraine watch stays silent; stderr sums it up."""
    messages, stderr, code = run_replay(tmp_path)
    assert code == 0, stderr
    assert [(m["watch"], m["kind"], m["item"]) for m in messages] == [("karabakh", "alert", "a1")]
    (alert,) = messages
    assert set(alert) == KEYS
    assert alert["at"] == "2030-03-01T06:00:00+00:00"
    assert "escalation" in alert["topics"] and alert["severity"] in ("high", "critical")
    assert alert["reasons"], "every message says why it was sent"
    assert "replay: 4 items over 2 day(s); 1 messages about 1 stories" in stderr
    assert "karabakh: 1 messages, 0.5 a day (alert 1)" in stderr


def test_all_watches_switches_on_a_watch_shipped_disabled(tmp_path: Path) -> None:
    """--all-watches backtests the Ukraine watch, which the shipped pack keeps switched off."""
    messages, stderr, code = run_replay(tmp_path, "--all-watches")
    assert code == 0, stderr
    assert [(m["watch"], m["item"]) for m in messages] == [("karabakh", "a1"), ("ukraine", "d1")]
    assert "ukraine: 1 messages" in stderr


def test_held_shows_why_a_matching_item_sent_nothing(tmp_path: Path) -> None:
    """With --held, an analysis piece that opens a story (commentary waits for an event report) and an item
    first seen long after publication are printed as kind "held" with the policy's reason; the event
    report that follows still alerts."""
    analysis = {**ITEMS[0], "id": "an1", "title": "Analysis: why Stepanakert is being shelled again"}
    event = {**ITEMS[0], "published": "2030-03-01T06:30:00Z"}
    old = {**ITEMS[1], "id": "old1", "published": "2030-02-20T06:00:00Z"}
    messages, stderr, code = run_replay(tmp_path, "--held", items_in=[analysis, event, old])
    assert code == 0, stderr
    kinds = [(m["item"], m["kind"]) for m in messages]
    assert kinds == [("an1", "held"), ("a1", "alert"), ("old1", "held")]
    assert messages[0]["reasons"] == ["commentary (analysis): waits for an event report"]
    assert messages[2]["reasons"] == ["published 216 h before it was seen: older than max_age"]
    assert "matching items sent nothing (see --held)" in stderr


# Invented: shelling in Karabakh, then, the next day, a truce agreed that the same outlets report as a
# development of the same fighting, then a second report of that agreement.
PHASE_ITEMS = [
    ITEMS[0],
    {
        "id": "t1",
        "outlet": "wire-two",
        "published": "2030-03-01T18:00:00Z",
        "title": "Azerbaijan and Armenia agree ceasefire after artillery shells Stepanakert",
        "summary": "Baku and Yerevan agreed a ceasefire on Saturday evening after heavy artillery fire hit "
        "residential districts of Stepanakert, Karabakh officials said.",
    },
    {
        "id": "t2",
        "outlet": "wire-one",
        "published": "2030-03-01T19:00:00Z",
        "title": "Ceasefire agreed between Azerbaijan and Armenia after Stepanakert shelling",
        "summary": "A ceasefire was agreed between Baku and Yerevan on Saturday after artillery fire on "
        "Stepanakert, Karabakh officials said.",
    },
]


def test_a_turning_point_is_a_message_of_kind_phase_and_its_repeat_sends_nothing(tmp_path: Path) -> None:
    """The shelling alerts; the truce agreed is a turning point: one message of kind "phase" whose reasons
    name the turn, in the public replay shape; the second report of the same agreement sends nothing."""
    messages, stderr, code = run_replay(tmp_path, items_in=PHASE_ITEMS)
    assert code == 0, stderr
    assert [(m["watch"], m["kind"], m["item"]) for m in messages] == [
        ("karabakh", "alert", "a1"),
        ("karabakh", "phase", "t1"),
    ]
    phase = messages[1]
    assert set(phase) == KEYS
    assert phase["at"] == "2030-03-01T18:00:00+00:00"
    assert "phase: ceasefire agreed" in phase["reasons"]
    assert "ceasefire" in phase["topics"]


# Invented: a truce agreed, then, the next day, an offensive that breaks it (a story of its own).
RESUMED_ITEMS = [
    {
        "id": "r1",
        "outlet": "wire-one",
        "published": "2030-04-01T06:00:00Z",
        "title": "Azerbaijan and Armenia agree ceasefire in Karabakh after talks in Moscow",
        "summary": "Baku and Yerevan agreed a ceasefire in Nagorno-Karabakh on Tuesday, mediators said.",
    },
    {
        "id": "r2",
        "outlet": "wire-two",
        "published": "2030-04-02T09:00:00Z",
        "title": "Fighting resumes in Karabakh as Azerbaijani troops launch offensive on Lachin road",
        "summary": "Azerbaijani troops launched an offensive on the Lachin road on Wednesday, Armenian officials "
        "in Nagorno-Karabakh said.",
    },
]


def test_an_offensive_after_a_truce_is_a_turn_after_it(tmp_path: Path) -> None:
    """A story's first alert that is also a turn stays kind "alert" and gives the turn among its reasons:
    the truce agreed, then the offensive that follows it ("after ceasefire agreed": fighting resumed)."""
    messages, stderr, code = run_replay(tmp_path, items_in=RESUMED_ITEMS)
    assert code == 0, stderr
    assert [(m["kind"], m["item"], m["reasons"][1:]) for m in messages] == [
        ("alert", "r1", ["phase: ceasefire agreed"]),
        ("alert", "r2", ["phase: escalation offensive after ceasefire agreed"]),
    ]


def test_undated_items_take_the_time_of_the_first_dated_one(tmp_path: Path) -> None:
    """An undated first item waits for the first dated one and is replayed at its time (it alerts there);
    the summary counts it; nothing crashes on a clock that never started."""
    undated = {key: value for key, value in ITEMS[0].items() if key != "published"}
    messages, stderr, code = run_replay(tmp_path, items_in=[undated, ITEMS[2]])
    assert code == 0, stderr
    assert [(m["item"], m["at"]) for m in messages] == [("a1", "2030-03-01T07:00:00+00:00")]
    assert "replay: 2 items over 1 day(s)" in stderr
