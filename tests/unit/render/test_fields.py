"""monitor.render.fields: what the templates show of an alert and a digest — the subject tag, every field
in the text and Markdown bodies, times in UTC, updates, and the digest's counts and order."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from monitor.render.digest import render_digest
from monitor.render.fields import alert_fields, digest_fields
from monitor.render.fitting import render
from monitor.render.model import OtherSource
from tests.unit.render.samples import ALERT, DIGEST, story


@pytest.mark.parametrize(
    ("topics", "place", "expected"),
    [
        (["ceasefire", "escalation"], "Nagorno-Karabakh", "[ESCALATION] Nagorno-Karabakh: "),
        (["escalation"], "Nagorno-Karabakh", "[ESCALATION] Nagorno-Karabakh: "),
        (["ceasefire"], "Nagorno-Karabakh", "[CEASEFIRE] Nagorno-Karabakh: "),
        (["mobilisation", "ceasefire"], "Sudan", "[CEASEFIRE] Sudan: "),
        (["mobilisation", "drones"], "Sudan", "[MOBILISATION] Sudan: "),
        ([], "Sudan", "[ALERT] Sudan: "),
        (["ceasefire"], "", "[CEASEFIRE] "),
    ],
)
def test_subject_tag_is_the_highest_priority_topic(topics: list[str], place: str, expected: str) -> None:
    """The subject carries one tag (with the shipped pack's priorities: escalation before ceasefire, else the
    first topic) then place and headline."""
    subject = render(replace(ALERT, topics=topics, place=place)).subject
    assert subject == expected + ALERT.headline


@pytest.mark.parametrize(
    ("headline", "expected"),
    [
        ("Nagorno-Karabakh: shelling resumes", "[ESCALATION] Nagorno-Karabakh: shelling resumes"),
        ("nagorno-karabakh shelled again", "[ESCALATION] nagorno-karabakh shelled again"),
        (
            "Shelling resumes in Nagorno-Karabakh",
            "[ESCALATION] Nagorno-Karabakh: Shelling resumes in Nagorno-Karabakh",
        ),
        ("Karabakh: shelling resumes", "[ESCALATION] Nagorno-Karabakh: Karabakh: shelling resumes"),
    ],
)
def test_subject_does_not_repeat_a_place_the_headline_starts_with(headline: str, expected: str) -> None:
    """A headline that already opens with the place is not prefixed with it a second time."""
    assert render(replace(ALERT, topics=["escalation"], headline=headline)).subject == expected


@pytest.mark.parametrize(
    ("place", "headline", "subject_place"),
    [
        ("Ukraine", "Ukrainian forces retake a village near Kharkiv", "Ukraine"),
        ("Sudan", "Sudanese army shells Omdurman", "Sudan"),
        ("Ukraine", "Ukraine: forces retake a village", ""),
        ("Ukraine", "Ukraine retakes a village", ""),
        ("Ukraine", "Ukraine's army retakes a village", ""),
        ("Ukraine", "Ukraine-Russia talks stall", ""),
        ("Sudan", "SUDAN", ""),
        ("Sudan", "South Sudan clashes", "Sudan"),
        ("Israel–Gaza", "Israel–Gaza: strikes resume", ""),
        ("Israel–Gaza", "Israel–Gazan talks", "Israel–Gaza"),
        ("", "Sudanese army shells Omdurman", ""),
    ],
)
def test_subject_place_is_dropped_only_when_the_headline_starts_with_it_as_a_word(
    place: str, headline: str, subject_place: str
) -> None:
    """The place must be followed by a non-word character or the end: "Ukrainian forces" and "Sudanese
    army" are about the place but do not name it, so the subject keeps it."""
    fields = alert_fields(replace(ALERT, place=place, headline=headline), "text")
    assert fields["subject_place"] == subject_place


@pytest.mark.parametrize(
    ("priority", "topics", "tag"),
    [
        ({"strike": 3, "protest": 1}, ["protest", "strike"], "STRIKE"),
        ({"strike": 3, "protest": 1}, ["riot", "protest"], "PROTEST"),
        ({"strike": 3, "protest": 1}, ["riot", "looting"], "RIOT"),  # none listed: the first
        ({"flood": 2, "fire": 2}, ["fire", "flood"], "FIRE"),  # a tie: the first
        ({"flood": 2, "fire": 2}, ["flood", "fire"], "FLOOD"),
        ({"Drought": 1, "aid": -1}, ["aid", "drought"], "DROUGHT"),  # names compared without case
        ({"aid": -1}, ["aid", "riot"], "RIOT"),  # below an unlisted topic
        ({}, ["ceasefire", "escalation"], "CEASEFIRE"),  # the renderer knows no topic names itself
    ],
)
def test_the_subject_tag_follows_the_priorities_the_alert_carries(
    priority: dict[str, int], topics: list[str], tag: str
) -> None:
    """The tag is the topic with the highest priority the caller passes (the rule pack's `tag_priority`),
    ties and unlisted topics going to the alert's first topic; a digest story carries the same tag."""
    alert = replace(ALERT, topics=topics, tag_priority=priority)
    assert render(alert).subject.startswith(f"[{tag}] ")
    [group] = digest_fields(replace(DIGEST, alerts=[alert]), "text")["groups"]
    assert [s.tag for s in group["stories"]] == [tag]


def test_text_and_markdown_carry_every_field() -> None:
    """Both bodies name the topics, watch, severity, entities, headline, outlet, UTC time, link, evidence."""
    message = render(ALERT)
    for body in (message.text, message.markdown):
        for expected in (
            "CEASEFIRE + ESCALATION",
            "karabakh",
            "high",
            "Nagorno-Karabakh, Armenia, Azerbaijan",
            ALERT.headline,
            "TASS",
            "2020-09-27 14:05 UTC",
            "https://tass.com/world/1205?utm=x&id=2",
            '"shells" (title)',
            '"ceasefire" (title)',
            "Martial law and mobilisation",
        ):
            assert expected in body, (expected, body)


def test_markdown_is_markdown_and_text_is_plain() -> None:
    """The Markdown body uses bold labels and an autolink; the text body has no Markdown syntax."""
    message = render(ALERT)
    assert "**Outlet:** TASS" in message.markdown
    assert "<https://tass.com/world/1205?utm=x&id=2>" in message.markdown
    assert "**" not in message.text
    assert "Outlet:    TASS" in message.text


@pytest.mark.parametrize(
    ("published_at", "shown"),
    [
        (datetime(2020, 9, 27, 18, 5, tzinfo=timezone(timedelta(hours=4))), "2020-09-27 14:05 UTC"),
        (datetime(2020, 9, 27, 14, 5), "2020-09-27 14:05 UTC"),
        (None, "Published: unknown"),
    ],
)
def test_published_time_is_shown_in_utc(published_at: datetime | None, shown: str) -> None:
    """Publication times are converted to UTC (naive ones taken as UTC); a missing one says 'unknown'."""
    assert shown in render(replace(ALERT, published_at=published_at)).text


def test_long_headline_is_shortened_in_the_subject_only() -> None:
    """A very long headline is cut with an ellipsis in the subject and kept whole in the body."""
    headline = "Shelling " * 60
    message = render(replace(ALERT, headline=headline))
    assert len(message.subject) < 200 and message.subject.endswith("…")
    assert headline.strip() in message.text


def test_an_update_is_marked_says_why_and_lists_the_other_outlets() -> None:
    """An update's subject starts with [UPDATE], the body gives the reasons and every other outlet with its
    link (reprints marked), and the threading ids travel with the message."""
    update = replace(
        ALERT,
        update=True,
        reasons=["severity rose from high to critical"],
        sources=[
            OtherSource("Regional Desk", "Stepanakert shelled", "https://desk.example/1"),
            OtherSource("Metro", "Same wire text", "https://metro.example/9", copy=True),
        ],
        message_id="<story-1.1.x@news-monitor>",
        in_reply_to="<story-1.0.x@news-monitor>",
        references=["<story-1.0.x@news-monitor>"],
    )
    message = render(update)
    assert message.subject.startswith("[UPDATE] [ESCALATION] Nagorno-Karabakh: ")
    assert "Why this update: severity rose from high to critical" in message.text
    assert "Regional Desk: Stepanakert shelled — https://desk.example/1" in message.text
    assert (
        "Metro (reprint): Same wire text" in message.text and "<https://metro.example/9>" in message.markdown
    )
    assert (message.message_id, message.in_reply_to, message.references) == (
        "<story-1.1.x@news-monitor>",
        "<story-1.0.x@news-monitor>",
        ("<story-1.0.x@news-monitor>",),
    )
    assert not render(ALERT).subject.startswith("[UPDATE]")


TURNS = [
    ("CEASEFIRE IN EFFECT", "[CEASEFIRE IN EFFECT] Nagorno-Karabakh: "),
    ("CEASEFIRE AGREED", "[CEASEFIRE AGREED] Nagorno-Karabakh: "),
    ("FIGHTING RESUMED", "[FIGHTING RESUMED] Nagorno-Karabakh: "),
    ("NEW OFFENSIVE", "[NEW OFFENSIVE] Nagorno-Karabakh: "),
]


@pytest.mark.parametrize(("phase", "subject"), TURNS, ids=[t[0] for t in TURNS])
def test_a_turning_point_names_the_turn_in_its_subject_and_says_why(phase: str, subject: str) -> None:
    """A phase alert's subject tag is the turn instead of the topic, without [UPDATE]; every form says it
    is a turning point and why; a digest story shows the turn as its tag too."""
    alert = replace(ALERT, phase=phase, reasons=[f"phase: {phase.lower()}"])
    message = render(alert)
    assert message.subject == subject + ALERT.headline
    assert f"Turning point: {phase} (phase: {phase.lower()})" in message.text
    assert f"**Turning point:** {phase}" in message.markdown
    assert f"<b>Turning point:</b> {phase}" in message.html
    assert "Turning point" not in render(ALERT).text
    digest = digest_fields(replace(DIGEST, alerts=[alert]), "text")
    assert [s.tag for s in digest["groups"][0]["stories"]] == [phase]


# --- digests --------------------------------------------------------------------------------------


def test_digest_subject_counts_stories_by_severity() -> None:
    """The digest subject gives the story count and the count per severity, highest severity first."""
    assert render_digest(DIGEST).subject == "[DIGEST] 7 stories: 3 critical, 2 high, 1 medium, 1 low"
    one = replace(DIGEST, alerts=DIGEST.alerts[:1])
    assert render_digest(one).subject == "[DIGEST] 1 story: 1 medium"


def test_digest_orders_watches_by_highest_severity_and_stories_by_severity_then_newest() -> None:
    """Watches come by their highest severity (ties by name); inside a watch, stories by severity then
    newest first — in every form."""
    expected = [
        "Border post overrun",  # karabakh: critical, newest
        "Stepanakert under fire",  # karabakh: critical, older
        "Karabakh shelling",  # karabakh: high
        "Kyiv struck overnight",  # ukraine: critical
        "Drone attack on Odesa",  # ukraine: high
        "Sudan talks stall",  # sudan: medium
        "Aid convoy delayed",  # sudan: low
    ]
    message = render_digest(DIGEST)
    for body in (message.text, message.markdown, message.html):
        positions = [body.index(headline) for headline in expected]
        assert positions == sorted(positions), body
        groups = [body.index(place) for place in ("Nagorno-Karabakh", "Ukraine", "Sudan")]
        assert groups == sorted(groups)


def test_a_severity_the_rules_do_not_know_ranks_below_low_in_a_digest() -> None:
    """A story whose severity is not one of the rules' levels is ranked lowest (after low), in the subject
    counts and in the story order."""
    odd = [story("zeta", "urgent", "Odd severity story", 50), story("alpha", "low", "Low story", 1)]
    message = render_digest(replace(DIGEST, alerts=odd))
    assert message.subject == "[DIGEST] 2 stories: 1 low, 1 urgent"
    assert message.text.index("Low story") < message.text.index("Odd severity story")


def test_digest_story_shows_severity_topics_headline_outlet_link_and_source_count() -> None:
    """Each digest story line carries its severity, topics, headline, outlet, link and source count."""
    message = render_digest(DIGEST)
    text = message.text
    line = next(i for i, line in enumerate(text.splitlines()) if "Karabakh shelling" in line)
    block = "\n".join(text.splitlines()[line : line + 3])
    for expected in (
        "[HIGH]",
        "CEASEFIRE + ESCALATION",
        "TASS",
        "3 sources",
        "https://news.example/karabakh-shelling",
    ):
        assert expected in block, block
    assert "1 source" in text and "2026-11-28 06:00 UTC – 2026-11-28 07:00 UTC" in text
    assert "<https://news.example/karabakh-shelling>" in message.markdown
    assert '<a href="https://news.example/karabakh-shelling">Karabakh shelling</a>' in message.html


def test_digest_marks_only_updates_as_updates() -> None:
    """Only a story whose alert is an update is marked "update" in each digest form (a story entry is not
    a dict, whose built-in `update` method would make every story look like one)."""
    alerts = [
        story("karabakh", "high", "First report", 1),
        replace(story("sudan", "low", "Later news", 2), update=True),
    ]
    message = render_digest(replace(DIGEST, alerts=alerts))
    for body in (message.text, message.markdown, message.html):
        first = next(line for line in body.splitlines() if "First report" in line)
        assert "update" not in first.lower(), first
        later = body[body.index("Later news") :].split("\n\n")[0]
        assert "update" in later, body
