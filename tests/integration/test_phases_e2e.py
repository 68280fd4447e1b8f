"""Turning points end to end with the shipped rule pack, on loopback (a feed server, a webhook receiver, a
SQLite file or PostgreSQL) and the daemon's own dependencies with a fake clock: an offensive alerts; a
ceasefire agreed that joins the same story alerts at once with the turn in its subject; a repeat report of
it sends nothing; the truce taking effect alerts; `news-monitor stories` shows the watch's phase. The item
texts are invented for this test."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy

from monitor import pipeline
from monitor.config import Config, load_config
from tests.helpers.servers import webhook_receiver
from tests.integration.routing_world import World, titles

REPO = Path(__file__).resolve().parents[2]

WATCH = """\
entities:
  zeta: {label: Zetaland, aliases: [Zetaland, Zetalander]}
  ost: {label: Ostland, aliases: [Ostland, Ostlander]}
watches:
  - {name: zeta, label: Zetaland, query: '@zeta', topics: [ceasefire, escalation], notify: [hook]}
"""

OFFENSIVE = (
    "Ostland army launches offensive on Zetaland border towns",
    "Ostland troops and tanks crossed into Zetaland at dawn and launched an offensive on the border towns "
    "of Amberfield and Birchmoor, shelling both, Zetaland defence officials said.",
)
AGREED = (
    "Ostland and Zetaland agree ceasefire after offensive on border towns",
    "Ostland and Zetaland agreed a ceasefire on Monday evening after the Ostland offensive on the border "
    "towns of Amberfield and Birchmoor, Zetaland defence officials said.",
)
AGREED_AGAIN = (
    "Ceasefire agreed between Ostland and Zetaland for border towns",
    "A ceasefire was agreed on Monday between Ostland and Zetaland after the offensive on the border towns "
    "of Amberfield and Birchmoor, officials in Zetaland said.",
)
IN_EFFECT = (
    "Ceasefire between Ostland and Zetaland takes effect in border towns",
    "The ceasefire agreed by Ostland and Zetaland took effect at midnight in the border towns of "
    "Amberfield and Birchmoor after the offensive, Zetaland defence officials said.",
)


def configure(world: World, hook_url: str, extra: str = "") -> Config:
    """The shipped conflict topics, a Zetaland watch posting to the webhook, and `extra` main-config text."""
    (world.tmp / "rules").mkdir(exist_ok=True)
    (world.tmp / "rules" / "zeta.yaml").write_text(WATCH, encoding="utf-8")
    (world.tmp / "monitor.yaml").write_text(
        f"database: '{world.database_url}'\n"
        "poll: {interval: 1m, timeout: 10s, allow_private_networks: true}\n"
        f"feeds:\n  - {{name: wire, url: '{world.feeds.url('/rss.xml')}'}}\n"
        f"channels:\n  hook: {{url: '{hook_url}'}}\n"
        f"{extra}rules: ['{REPO}/config/rules/conflict.yaml', 'rules/zeta.yaml']\n",
        encoding="utf-8",
    )
    return load_config(world.tmp / "monitor.yaml")


def story_ids(database_url: str) -> list[int]:
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sqlalchemy.text("SELECT story_id FROM story_item ORDER BY item_id")).all()
    finally:
        engine.dispose()
    return [r[0] for r in rows]


@pytest.mark.integration
def test_a_ceasefire_agreed_inside_an_offensive_story_alerts_at_once_and_a_repeat_does_not(
    world: World,
) -> None:
    """Offensive (first alert, tagged NEW OFFENSIVE) → ceasefire agreed in the same story (a phase message
    at once, CEASEFIRE AGREED, threaded under the first) → the same agreement from another report (nothing)
    → the truce in effect (CEASEFIRE IN EFFECT); the stories command shows the watch in effect."""
    with webhook_receiver() as hook:
        config = configure(world, hook.json_url())
        with world.deps(config) as deps:
            sent, start = 0, world.clock.at
            expected: list[str] = []
            for hours, (title, summary), tag in (
                (0, OFFENSIVE, "NEW OFFENSIVE"),
                (6, AGREED, "CEASEFIRE AGREED"),
                (7, AGREED_AGAIN, None),
                (20, IN_EFFECT, "CEASEFIRE IN EFFECT"),
            ):
                world.at(start + timedelta(hours=hours))
                world.publish(title, summary)
                assert pipeline.run_cycle(deps, only_due=False)
                if tag is not None:
                    sent += 1
                    expected.append(f"[{tag}] Zetaland: {title}")
                posts = hook.requests.wait_for(sent)
                assert titles(posts) == expected, title
            assert len(hook.requests) == sent  # the repeat report queued nothing
        stories = story_ids(world.database_url)
        assert len(stories) == 4 and len(set(stories)) == 1, "precondition: the four reports are one story"
        assert world.statuses("hook") == [
            ("first", "sent", None),
            ("phase", "sent", None),
            ("phase", "sent", None),
        ]
        agreed = posts[1].json()["message"]
        assert "Turning point: CEASEFIRE AGREED (new topic: ceasefire; phase: ceasefire agreed)" in agreed

    def stories(*args: str) -> str:
        command = [sys.executable, "-m", "monitor", "stories", *args, "-c", str(world.tmp / "monitor.yaml")]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout

    [watch] = [json.loads(line) for line in stories("--phases", "--json").splitlines()]
    assert watch["watch"] == "zeta"
    assert {(p["topic"], p["phase"]) for p in watch["phases"]} == {
        ("ceasefire", "in_effect"),
        ("escalation", "offensive"),
    }
    in_effect = next(p for p in watch["phases"] if p["topic"] == "ceasefire")
    assert in_effect["since"].startswith("2026-01-16T02:00")  # 20 hours after 06:00 on the 15th
    text = stories()
    assert text.startswith("watch zeta · phase: ceasefire in effect since 2026-01-16 02:00 UTC")
    story_lines = stories("--json", "--since", "3650d").splitlines()
    assert story_lines and all("id" in json.loads(line) for line in story_lines)  # the story contract holds


# Items that report a turn but must not open one: commentary (an analysis piece) under events_only, and a
# report first seen long after it was published (older than max_age).
ANALYSIS = (
    "Analysis: Ostland and Zetaland agree ceasefire after offensive on border towns",
    AGREED[1],
)
UPDATE = ("update", "sent", None)
PHASE = ("phase", "sent", None)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("extra", "item", "late", "after_item", "after_repeat"),
    [
        # the new topic still sends its plain update; no turn, and none later either
        ("alerts: {watches: {zeta: {phases: false}}}\n", AGREED, False, [UPDATE], [UPDATE]),
        # commentary sends the plain update (updates are unchanged by events_only); the turn waits for an
        # event report
        ("", ANALYSIS, False, [UPDATE], [UPDATE, PHASE]),
        # too old: nothing at all; the next report is the turn
        ("", AGREED, True, [], [PHASE]),
    ],
    ids=["phases-off", "commentary", "max-age"],
)
def test_a_turn_that_must_not_alert_opens_no_phase(
    world: World,
    extra: str,
    item: tuple[str, str],
    late: bool,
    after_item: list[tuple[str, str, None]],
    after_repeat: list[tuple[str, str, None]],
) -> None:
    """After the offensive's alert, a ceasefire agreed in the same story makes no turn when the watch has
    phases off, when the report is commentary, or when it is older than max_age (no phase message, no
    ceasefire state); the same agreement reported next by a fresh event report is the turn, unless phases
    are off."""
    first = ("first", "sent", None)
    with webhook_receiver() as hook:
        config = configure(world, hook.json_url(), extra)
        with world.deps(config) as deps:
            start = world.clock.at
            world.publish(*OFFENSIVE)
            assert pipeline.run_cycle(deps, only_due=False)
            world.at(start + timedelta(hours=6))
            world.publish(*item)
            if late:  # the feed shows the item only 30 h after it was published
                world.at(start + timedelta(hours=36))
            assert pipeline.run_cycle(deps, only_due=False)
            assert world.statuses("hook") == [first, *after_item]
            assert "ceasefire" not in {p.topic for s in deps.store.watch_phases().values() for p in s}
            world.at(world.clock.at + timedelta(hours=1))
            world.publish(*AGREED_AGAIN)
            assert pipeline.run_cycle(deps, only_due=False)
            assert world.statuses("hook") == [first, *after_repeat]
            posts = titles(hook.requests.wait_for(1 + len(after_repeat)))
        if after_item:
            assert posts[1] == f"[UPDATE] [CEASEFIRE] Zetaland: {item[0]}"
        if PHASE in after_repeat:
            assert posts[-1] == f"[CEASEFIRE AGREED] Zetaland: {AGREED_AGAIN[0]}"
