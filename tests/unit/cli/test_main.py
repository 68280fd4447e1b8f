"""The `news-monitor` command's exit codes for check-config."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor import cli

RULES = """\
entities:
  karabakh: {label: Nagorno-Karabakh, aliases: [Karabakh, Artsakh]}
topics:
  ceasefire: {query: 'ceasefire OR truce'}
watches:
  - name: karabakh
    query: '@karabakh'
    topics: [ceasefire]
    notify: [console]
"""

MAIN = """\
database: sqlite:///state/monitor.db
feeds:
  - {name: wire, url: "https://example.org/rss"}
channels:
  console: {url: "console://"}
rules: [rules/*.yaml]
alerts:
  watches:
    karabakh: {busy: {after: AFTER}}
"""


def check_config(tmp_path: Path, after: str) -> int:
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "main.yaml").write_text(RULES, encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text(MAIN.replace("AFTER", after), encoding="utf-8")
    return cli.main(["check-config", "-c", str(config)])


def test_check_config_accepts_a_watch_busy_block(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_config(tmp_path, "10") == 0
    assert "OK" in capsys.readouterr().out


def test_check_config_reports_a_bad_watch_busy_value_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_config(tmp_path, "0") == 78
    err = capsys.readouterr().err
    assert "configuration has 1 problem(s)" in err
    assert f"{tmp_path / 'monitor.yaml'}:9: alerts.watches.karabakh.busy.after" in err
    assert "Traceback" not in err
