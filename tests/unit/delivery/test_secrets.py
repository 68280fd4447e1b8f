"""monitor.delivery.secrets: the secret parts of channel URLs, from Apprise's private fields and the URL's
shape, and failure reasons scrubbed of them."""

from __future__ import annotations

from monitor.delivery.secrets import scrub_reason, secret_parts

CANARY = "canary7Q2xZ9vK4mW1"


def test_secret_parts_of_typical_urls() -> None:
    """Passwords, tokens in host or path and secret query values are secret; hosts, ports, settings are not."""
    parts = secret_parts(f"mailtos://alerts:{CANARY}@smtp.example.org:587?to=ops@example.org&mode=ssl")
    assert CANARY in parts and "smtp.example.org" not in parts and "ssl" not in parts
    parts = secret_parts(f"tgram://123456789:{CANARY}/-100200300")
    assert any(CANARY in p for p in parts) and "-100200300" in parts
    parts = secret_parts(f"json://hooks.example.org/alerts/{CANARY}?token={CANARY}x&format=text")
    assert {CANARY, f"{CANARY}x"} <= parts and "text" not in parts
    assert "hooks.example.org" not in parts


def test_fields_apprise_marks_private_are_secret_as_apprise_parses_them() -> None:
    """A Telegram bot token is secret whole (``id:key`` as Apprise reads it, without the ``bot`` prefix),
    where the URL's shape alone sees a host ``bot123456789`` and a port."""
    parts = secret_parts(f"tgram://bot123456789:{CANARY}/-100200300")
    assert f"123456789:{CANARY}" in parts and f"123456789%3A{CANARY}" in parts


def test_secret_parts_of_a_url_apprise_cannot_parse_follow_the_url_shape() -> None:
    """A scheme Apprise does not know still has its password, path and query values found."""
    parts = secret_parts(f"nosuch://user:{CANARY}@host.example.org/{CANARY}p?key={CANARY}q")
    assert {CANARY, f"{CANARY}p", f"{CANARY}q"} <= parts and "host.example.org" not in parts


def test_secret_parts_hide_themselves_when_printed() -> None:
    """The set's repr and str say how many parts there are, never what they are."""
    parts = secret_parts(f"json://hooks.example.org/alerts/{CANARY}")
    assert CANARY not in repr(parts) and CANARY not in str(parts) and "hidden" in repr(parts)


def test_scrub_removes_secrets_and_cuts_urls() -> None:
    """scrub_reason() replaces given secrets and reduces any URL in the text to scheme://host."""
    text = (
        f"POST https://user:{CANARY}@hooks.example.org/a/{CANARY}?k=v failed; "
        f"HTTPConnectionPool(host='x', port=1): Max retries exceeded with url: /a/{CANARY} (refused); "
        f"tgram://{CANARY}/chat"
    )
    out = scrub_reason(text, {CANARY})
    assert CANARY not in out
    assert "https://hooks.example.org/…" in out
    assert "with url: …" in out
    assert "tgram://***/…" in out
