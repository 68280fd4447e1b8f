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


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


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
