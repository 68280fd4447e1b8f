"""Logging: JSON lines off a terminal, foreign loggers rendered alike, secrets redacted."""

from __future__ import annotations

import json
import logging

import pytest

from monitor.runtime import logs as log


def test_json_events_and_stdlib_records_share_one_format_and_hide_secrets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A structlog event and a third-party stdlib warning both come out as JSON, with secrets replaced."""
    log.configure("INFO", json=True)
    log.register_secrets(["tok-canary-123456"])
    log.get_logger("monitor").info("feed.fetched", feed="wire", url="json://h/tok-canary-123456")
    logging.getLogger("apscheduler.scheduler").warning("job posting to json://h/tok-canary-123456 failed")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["event"] == "feed.fetched" and lines[0]["feed"] == "wire" and lines[0]["level"] == "info"
    assert lines[1]["logger"] == "apscheduler.scheduler" and lines[1]["level"] == "warning"
    assert all("tok-canary-123456" not in json.dumps(line) for line in lines)
    assert "***" in lines[0]["url"]


def test_redact_replaces_registered_secrets_but_not_short_fragments() -> None:
    """Registered values of four characters or more are replaced, the longest first; shorter ones would
    mangle ordinary words and are ignored."""
    log.register_secrets(["abc", "tok-long-secret-99", "tok-long"])
    assert log.redact("abc tok-long-secret-99 tok-long") == "abc *** ***"
