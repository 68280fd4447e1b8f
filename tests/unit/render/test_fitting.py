"""monitor.render.fitting: an alert over a channel's limits is rendered again with less — other sources,
then summary, then evidence — and cut last, never inside its link; subjects fit title limits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from monitor.render.fitting import render
from monitor.render.model import Limits, OtherSource
from tests.unit.render.samples import ALERT

LONG = replace(
    ALERT,
    summary="Residents described the night as the worst since the war began. " * 12,
    evidence=[f'escalation: "shelling {i}" (summary)' for i in range(12)],
    sources=[
        OtherSource(f"Outlet {i}", f"Report number {i} on the shelling", f"https://o{i}.example/a")
        for i in range(30)
    ],
)


def test_a_long_alert_fits_the_limit_by_dropping_the_other_sources_first() -> None:
    """Over the limit, the other-sources list goes first (counted), while summary and evidence stay."""
    full = render(LONG)
    assert len(full.text) > 2000
    message = render(LONG, limit=Limits(body=1500))
    assert len(message.text) <= 1500 and len(message.markdown) <= 1500
    assert "Outlet 0" not in message.text and "Also reported by 30 other outlet(s)." in message.text
    assert "worst since the war began" in message.text and '"shelling 11"' in message.text
    assert LONG.link in message.text


def test_then_the_summary_then_the_evidence_are_dropped() -> None:
    """With less room the summary goes next, then evidence lines, and the headline and link stay whole."""
    message = render(LONG, limit=Limits(body=800))
    assert len(message.text) <= 800
    assert "Outlet 0" not in message.text and "worst since the war began" not in message.text
    assert ALERT.headline in message.text and LONG.link in message.text

    smaller = render(LONG, limit=Limits(body=520))
    assert len(smaller.text) <= 520
    assert '"shelling 11"' not in smaller.text and "more (message size limit)" in smaller.text
    assert ALERT.headline in smaller.text and LONG.link in smaller.text


@pytest.mark.parametrize("limit", range(40, 700, 7))
def test_no_cut_ever_falls_inside_the_link(limit: int) -> None:
    """At every limit the bodies fit and the link is never cut: whole, or (only when it cannot fit with a
    line break and a word of headline) absent."""
    message = render(LONG, limit=Limits(body=limit))
    for body, link in ((message.text, LONG.link), (message.markdown, f"<{LONG.link}>")):
        assert len(body) <= limit
        assert link in body or "https://tass" not in body, body
        if limit >= len(link) + 3:
            assert link in body, body


def test_a_service_without_a_title_gets_room_for_the_subject_in_its_body() -> None:
    """When the service puts the subject into the body (no title field), subject plus body fit the limit."""
    limit = Limits(body=900, title=None, title_in_body=True)
    message = render(LONG, limit=limit)
    assert len(message.subject) + 2 + len(message.text) <= 900
    assert len(message.subject) + 3 + len(message.markdown) <= 900  # "# subject\n" for Markdown


def test_an_sms_sized_service_gets_a_short_subject_and_the_link_whole() -> None:
    """With 160 characters for subject and body together, the subject takes a third and the headline link
    still arrives whole."""
    alert = replace(ALERT, link="https://tass.com/w/1205")
    message = render(alert, limit=Limits(body=160, title_in_body=True))
    assert len(message.subject) <= 53 and message.subject.endswith("…")
    assert len(message.subject) + 2 + len(message.text) <= 160
    assert "https://tass.com/w/1205" in message.text


def test_a_short_title_limit_shortens_the_subject() -> None:
    """A service with a short title limit gets a subject cut with an ellipsis to that length."""
    subject = render(ALERT, limit=Limits(title=40)).subject
    assert len(subject) <= 40 and subject.endswith("…") and subject.startswith("[ESCALATION] Nagorno")
