"""Why a delivery failed and whether to try again, read from what Apprise logged about the send.

Apprise reports a failed send only as False; its log lines say why. `failure_text` picks the lines that
explain a failure, and `is_retryable` is the one place that decides retry-later versus give-up.
"""

from __future__ import annotations

import logging
import re

from monitor.render.fields import shorten

_HTTP_STATUS = re.compile(
    r"\berror=(\d{3})\b|\bHTTP(?: status)?[ :]+(\d{3})\b|\bstatus(?: code)?[ =:]+(\d{3})\b"
)
_SMTP_REPLY = re.compile(r"\((\d{3}), b?['\"]|\brefused: (\d{3})\b|^(\d{3})[ -]\d\.\d\.\d", re.MULTILINE)
_PERMANENT_WORDS = re.compile(
    r"authenticat|credentials|unauthori[sz]ed|forbidden|certificate verify failed|\bcertificate\b"
    r"|invalid (?:e-?mail|address|recipient|token|webhook|api key|chat)|no email recipients"
    r"|recipient .* refused|SMTPRecipientsRefused|SMTPSenderRefused|SMTPNotSupportedError"
    r"|auth(?:entication)? (?:extension )?not supported|could not load|unparseable",
    re.IGNORECASE,
)
_RETRYABLE_HTTP = frozenset({408, 425, 429})
_ERRNO = re.compile(r"\[Errno -?\d+\][^\"')\]]*")


def is_retryable(log_text: str) -> bool:
    """Whether a failed delivery may succeed later, judged from what Apprise logged about it.

    In order: an HTTP status (``error=NNN``) decides — 5xx, 408, 425 and 429 retry, any other 4xx is
    permanent; else an SMTP reply code — 4xx retries, 5xx (535 auth failure, 550 mailbox) is permanent;
    else permanent words (authentication, certificate, invalid address...); else transient words
    (timeout, connection refused/reset, DNS failure, 'connection error'...). Text that matches nothing
    is retryable: the outbox's attempt limit ends it, while a wrong 'permanent' would lose an alert.
    """
    for match in _HTTP_STATUS.finditer(log_text):
        code = int(next(g for g in match.groups() if g))
        if 400 <= code <= 599:
            return code >= 500 or code in _RETRYABLE_HTTP
    for match in _SMTP_REPLY.finditer(log_text):
        code = int(next(g for g in match.groups() if g))
        if 400 <= code <= 599:
            return code < 500
    # Timeouts, refused/reset connections, DNS failures, 'connection error' and anything unrecognised.
    return not _PERMANENT_WORDS.search(log_text)


def record_text(record: logging.LogRecord) -> str:
    """A log record's message, or its raw format string when its arguments do not fit."""
    try:
        return record.getMessage()
    except Exception:
        return str(record.msg)


def failure_text(records: list[logging.LogRecord]) -> str:
    """The lines that explain a failure: warnings and errors, plus the exception detail Apprise logs at
    DEBUG ('Socket Exception: ...') and the start of the response body."""
    lines = []
    for record in records:
        message = record_text(record).strip()
        if record.levelno >= logging.WARNING:
            if message.startswith(("Notifying ", "Sent ")):
                continue
            lines.append(message)
        elif message.startswith("Socket Exception:"):
            # requests wraps the OS error in pool/URL noise; the innermost [Errno N] text is the news
            errno = _ERRNO.findall(message)
            detail = f"Socket Exception: {errno[-1].strip()}" if errno else message
            lines.append(shorten(" ".join(detail.split()), 160))
        elif message.startswith("Response Details:"):
            lines.append(shorten(" ".join(message.split()), 160))
    return "; ".join(dict.fromkeys(lines))
