"""monitor.delivery.failures: Apprise's log text classified as retry-later or give-up."""

from __future__ import annotations

import logging

import pytest

from monitor.delivery.failures import failure_text, is_retryable


@pytest.mark.parametrize(
    ("log_text", "retryable"),
    [
        # HTTP statuses as Apprise's HTTP plugins log them
        ("Failed to send JSON POST notification: Page not found., error=404.", False),
        ("Failed to send Telegram notification: Unauthorized., error=401.", False),
        ("Failed to send Slack notification: Forbidden., error=403.", False),
        ("Failed to send JSON POST notification: Bad Request., error=400.", False),
        ("Failed to send JSON POST notification: Internal server error., error=500.", True),
        ("Failed to send Discord notification: Service unavailable., error=503.", True),
        ("Failed to send JSON POST notification: error=429.", True),
        ("Failed to send JSON POST notification: error=408.", True),
        # SMTP replies as smtplib exceptions print them
        (
            'Connection error while submitting email to "smtp.example.org"; '
            "Socket Exception: (535, b'5.7.8 Authentication credentials invalid')",
            False,
        ),
        ("Socket Exception: (550, b'5.1.1 <nobody@example.org>: Recipient address rejected')", False),
        ("SMTP recipient x@example.org was refused: 550 b'no such user'", False),
        ("Socket Exception: (421, b'4.7.0 Try again later, closing connection.')", True),
        ("Socket Exception: (451, b'4.3.0 Temporary local problem')", True),
        # transport failures
        (
            'Connection error while submitting email to "127.0.0.1"; Socket Exception: [Errno 111] Connection refused',
            True,
        ),
        (
            "A Connection error occurred sending JSON notification to 127.0.0.1.; Socket Exception: "
            "HTTPConnectionPool(host='127.0.0.1', port=9): Read timed out. (read timeout=4.0)",
            True,
        ),
        ("Socket Exception: Connection unexpectedly closed: timed out", True),
        ("Socket Exception: [Errno -3] Temporary failure in name resolution", True),
        ("Socket Exception: [Errno 104] Connection reset by peer", True),
        ("no answer within 30s (timed out)", True),
        # configuration-type failures
        ("Socket Exception: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", False),
        ("SMTP AUTH extension not supported by server.", False),
        ("There are no Email recipients to notify", False),
        # nothing recognisable: retry (the outbox's attempt limit ends it)
        ("Telegram reported a failure without details", True),
    ],
)
def test_is_retryable_classifies_apprise_log_text(log_text: str, retryable: bool) -> None:
    """5xx/429/408, SMTP 4xx, timeouts and refused connections retry; 4xx, SMTP 5xx, auth and TLS do not."""
    assert is_retryable(log_text) is retryable


def _record(level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord("apprise", level, __file__, 1, message, None, None)


def test_failure_text_keeps_warnings_and_the_innermost_socket_error_once() -> None:
    """Warnings and errors are kept (not the 'Notifying'/'Sent' progress lines), a DEBUG socket exception
    is reduced to its innermost [Errno N] text, and a line repeated is kept once."""
    records = [
        _record(logging.WARNING, "Notifying 1 service(s)"),
        _record(logging.DEBUG, "Loaded JSON URL"),
        _record(
            logging.DEBUG,
            "Socket Exception: HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: "
            "/hook (Caused by NewConnectionError('<x>: Failed to establish a new connection: "
            "[Errno 111] Connection refused'))",
        ),
        _record(logging.WARNING, "A Connection error occurred sending JSON notification to 127.0.0.1."),
        _record(logging.WARNING, "A Connection error occurred sending JSON notification to 127.0.0.1."),
    ]
    assert failure_text(records) == (
        "Socket Exception: [Errno 111] Connection refused; "
        "A Connection error occurred sending JSON notification to 127.0.0.1."
    )
