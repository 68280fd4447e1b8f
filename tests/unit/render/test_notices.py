"""monitor.render.notices: the operator's dead-letter notice and the test message, rendered from built-in
templates in every form with the same escaping as alerts."""

from __future__ import annotations

from monitor.render.notices import render_dead_letter, render_test


def dead_letter(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "delivery_id": 42,
        "watch": "karabakh",
        "channel": "team-chat",
        "headline": "Shelling resumes near Stepanakert",
        "reason": "HTTP error=404",
        "attempts": 3,
    }
    return {**fields, **overrides}


def test_a_dead_letter_notice_names_the_watch_channel_headline_reason_and_the_retry_command() -> None:
    """Every form says what was given up, after how many attempts, why, and the command that retries it."""
    message = render_dead_letter(**dead_letter())  # type: ignore[arg-type]
    assert message.subject == "[DELIVERY FAILED] team-chat: Shelling resumes near Stepanakert"
    assert message.text == (
        "An alert could not be delivered and was given up after 3 attempt(s).\n"
        "\n"
        "Watch:    karabakh\n"
        "Channel:  team-chat\n"
        "Headline: Shelling resumes near Stepanakert\n"
        "Reason:   HTTP error=404\n"
        "\n"
        "Retry it with: news-monitor outbox --retry 42\n"
    )
    assert message.markdown == (
        "An alert could not be delivered and was given up after 3 attempt(s).\n"
        "\n"
        "**Watch:** karabakh\n"
        "**Channel:** team-chat\n"
        "**Headline:** Shelling resumes near Stepanakert\n"
        "**Reason:** HTTP error=404\n"
        "\n"
        "Retry it with: `news-monitor outbox --retry 42`\n"
    )
    assert "<b>Channel:</b> team-chat<br>" in message.html
    assert "<code>news-monitor outbox --retry 42</code>" in message.html
    assert message.html.startswith("<!DOCTYPE html>") and message.problem is None


def test_a_dead_letter_notice_escapes_feed_text_in_every_form() -> None:
    """The headline and reason come from feeds and services: mentions are broken in the subject, text and
    Markdown, Markdown syntax is escaped, HTML is escaped, and a missing headline or reason says so."""
    message = render_dead_letter(
        **dead_letter(headline="@everyone <b>look</b> *now* [x](https://evil.example)", reason="a_b & 1 < 2")  # type: ignore[arg-type]
    )
    for form in (message.subject, message.text, message.markdown):
        assert "@everyone" not in form and "[x](" not in form, form
    assert "@\u200beveryone look *now* [x]\u200b(https://evil.example)" in message.text
    assert "@\u200beveryone look \\*now\\* \\[x\\](https://evil.example)" in message.markdown
    assert "**Reason:** a\\_b &amp; 1 &lt; 2\n" in message.markdown
    assert "<b>Reason:</b> a_b &amp; 1 &lt; 2</p>" in message.html and "<b>look</b>" not in message.html
    bare = render_dead_letter(**dead_letter(headline="", reason=""))  # type: ignore[arg-type]
    assert "Headline: (no headline)" in bare.text and "Reason:   unknown" in bare.text


def test_a_long_headline_is_shortened_in_the_dead_letter_subject_only() -> None:
    """The subject takes at most 160 characters of the headline; the body keeps it whole."""
    headline = "Shelling " * 40
    message = render_dead_letter(**dead_letter(headline=headline))  # type: ignore[arg-type]
    assert message.subject.endswith("…") and len(message.subject) < len("[DELIVERY FAILED] team-chat: ") + 161
    assert headline.strip() in message.text


def test_the_test_message_names_the_channel_in_every_form() -> None:
    """`test-channel` sends a short message naming the channel, escaped per form."""
    message = render_test("ops_desk @here")
    assert message.subject == "news-monitor test message"
    assert message.text == (
        "This is a test message from news-monitor to the channel 'ops_desk @\u200bhere'. It arrived.\n"
    )
    assert message.markdown == (
        "This is a test message from news-monitor to the channel 'ops\\_desk @\u200bhere'. It arrived.\n"
    )
    assert "<p>This is a test message from news-monitor to the channel 'ops_desk @here'. It arrived.</p>" in (
        message.html
    )
