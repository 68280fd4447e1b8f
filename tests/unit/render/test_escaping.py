"""monitor.render.escaping: feed text in every form — flattened, Markdown-escaped, mentions and link syntax
broken in text and Markdown, HTML escaped and the summary sanitised with nh3, only http(s) links as links."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from monitor.render.fitting import render
from monitor.render.model import OtherSource
from tests.unit.render.samples import ALERT, HOSTILE_SUMMARY


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
