"""monitor.render: template fields, escaping per form, mention neutralising, nh3 sanitising, cuts that keep
the link, digests, and override templates with file:line errors."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from monitor.render import (
    Alert,
    Digest,
    Limits,
    OtherSource,
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
