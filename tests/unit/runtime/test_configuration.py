"""The config as the daemon reads it: the schema's problems and the channel checks, in one report."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.core.errors import ConfigError
from monitor.runtime import configuration

MAIN = """\
channels:
  console: {url: "console://"}
  broken: {url: "nosuchservice://token@host"}
rules: []
feeds:
  - {name: wire, url: "https://example.org/a"}
  - {name: wire, url: "https://example.org/b"}
"""


def test_a_bad_channel_url_is_reported_with_its_line_beside_the_files_own_problems(tmp_path: Path) -> None:
    """`load` adds the Apprise check of each channel URL to the file's own problems, each with file:line."""
    path = tmp_path / "monitor.yaml"
    path.write_text(MAIN, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        configuration.load(path)
    problems = info.value.problems
    assert any(p.startswith(f"{path}:3: channels.broken.url: ") for p in problems), problems
    assert any(p.startswith(f"{path}:7: feeds[1].name: 'wire' is already used") for p in problems), problems
    assert not any("channels.console" in p for p in problems)


def test_the_config_layer_alone_does_not_judge_channel_urls(tmp_path: Path) -> None:
    """Without the runtime's checks, only the file's own rules apply (the URL is Apprise's business)."""
    path = tmp_path / "monitor.yaml"
    path.write_text(MAIN.split("feeds:")[0], encoding="utf-8")
    assert "broken" in load_config(path).settings.channels
    with pytest.raises(ConfigError):
        configuration.load(path)
