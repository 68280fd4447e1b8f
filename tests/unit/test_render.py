"""monitor.render: template fields, escaping per form, mention neutralising, nh3 sanitising, cuts that keep
the link, digests, and override templates with file:line errors."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from monitor.render import (
    Alert,
    Digest,
    Limits,
    OtherSource,
    render,
    render_digest,
)

T0 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)

ALERT = Alert(
    watch="karabakh",
    severity="high",
    topics=["ceasefire", "escalation"],
    place="Nagorno-Karabakh",
    entities=["Nagorno-Karabakh", "Armenia", "Azerbaijan"],
    headline="Ceasefire violated as artillery shells Stepanakert",
    outlet="TASS",
    published_at=datetime(2020, 9, 27, 14, 5, tzinfo=UTC),
    link="https://tass.com/world/1205?utm=x&id=2",
    evidence=['escalation: "shells" (title)', 'ceasefire: "ceasefire" (title)'],
    summary="Martial law and mobilisation were declared in Armenia.",
)


def story(watch: str, severity: str, headline: str, minutes: int, sources: int = 0, place: str = "") -> Alert:
    return replace(
        ALERT,
        watch=watch,
        place=place or watch.title(),
        severity=severity,
        headline=headline,
        link=f"https://news.example/{headline.replace(' ', '-').lower()}",
        published_at=T0 + timedelta(minutes=minutes),
        sources=[OtherSource(f"Outlet {i}", headline, f"https://o{i}.example/x") for i in range(sources)],
    )


DIGEST = Digest(
    channel="ops-email",
    alerts=[
        story("sudan", "medium", "Sudan talks stall", 5),
        story("karabakh", "high", "Karabakh shelling", 10, sources=2, place="Nagorno-Karabakh"),
        story("ukraine", "critical", "Kyiv struck overnight", 1),
        story("karabakh", "critical", "Stepanakert under fire", 2, place="Nagorno-Karabakh"),
        story("karabakh", "critical", "Border post overrun", 30, place="Nagorno-Karabakh"),
        story("sudan", "low", "Aid convoy delayed", 50),
        story("ukraine", "high", "Drone attack on Odesa", 40),
    ],
    period_start=T0,
    period_end=T0 + timedelta(hours=1),
)


# --- alerts (moved from test_notify.py with the rendering) --------------------------------------------


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
    """The subject carries one tag (escalation before ceasefire, else the first topic) then place and headline."""
    subject = render(replace(ALERT, topics=topics, place=place)).subject
    assert subject == expected + ALERT.headline


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


def test_untrusted_text_is_flattened_and_escaped() -> None:
    """HTML in feed text is reduced to plain text, and Markdown/HTML syntax in it cannot take effect."""
    alert = replace(
        ALERT,
        headline="Shelling <b>resumes</b> *now* [click](http://evil.example) a_b",
        summary="<p>Tanks &amp; troops</p><script>alert(1)</script>\n\n  moved   in",
        evidence=['escalation: "<img src=x onerror=alert(1)>" (summary)'],
    )
    message = render(alert)
    assert "Shelling resumes *now* [click]\u200b(http://evil.example) a_b" in message.text  # link syntax broken
    assert "Tanks & troops moved in" in message.text
    assert "alert(1)" not in message.text
    assert r"Shelling resumes \*now\* \[click\](http://evil.example) a\_b" in message.markdown
    assert "Tanks &amp; troops moved in" in message.markdown
    assert "<img" not in message.markdown and "<b>" not in message.markdown


def test_a_link_that_is_not_http_is_not_made_clickable() -> None:
    """Only http(s) links become Markdown autolinks; anything else is shown as escaped text."""
    message = render(replace(ALERT, link="javascript:alert(1)//<x>"))
    assert "<javascript:" not in message.markdown
    assert "javascript:alert(1)//&lt;x&gt;" in message.markdown


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


def test_digest_cut_drops_lowest_ranked_stories_and_keeps_links_whole() -> None:
    """A digest over the channel limit leaves out the lowest-ranked stories, says how many, and every link
    it shows is whole."""
    limit = Limits(body=700, title=250)
    message = render_digest(DIGEST, limit=limit)
    assert len(message.text) <= 700 and len(message.markdown) <= 700
    assert "Border post overrun" in message.text and "Aid convoy delayed" not in message.text
    omitted = re.search(r"and (\d+) more stor", message.text)
    assert omitted is not None
    shown = sum(1 for alert in DIGEST.alerts if alert.headline in message.text)
    assert shown + int(omitted.group(1)) == 7
    for url in re.findall(r"https://news\.example/\S+", message.text):
        assert url.rstrip(">") in {alert.link for alert in DIGEST.alerts}
