"""The configuration as the daemon and the commands that deliver read it: `load_config` plus the checks
that only the delivery and render layers can make (a channel URL against Apprise, a template override
against Jinja), reported with the config file's line like every other problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from monitor.config import Config, load_config
from monitor.config.schema import Settings
from monitor.delivery.channel import check_channel_url
from monitor.render.templates import check_templates

_UNREADABLE = ("no such", "cannot read", "not UTF-8")


def channel_problems(settings: Settings, base: Path) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Each channel's URL must be one Apprise can send to; each template override must exist, compile and
    render a sample alert and digest (reported with both the config line and the template line)."""
    for name, channel in settings.channels.items():
        problem = check_channel_url(channel.url.get_secret_value())
        if problem:
            yield ("channels", name, "url"), f"channels.{name}.url: {problem}"
        if channel.templates is None:
            continue
        for found in check_templates(channel.templates.paths(base)):
            how = (
                "paths are relative to the config file's folder; fix the path or remove the key to use the "
                "built-in template"
                if found.what.startswith(_UNREADABLE)
                else "fix the template or remove the key to use the built-in one"
            )
            yield (
                ("channels", name, "templates", found.part),
                f"channels.{name}.templates.{found.part}: {found.where}: {found.what}; {how}",
            )


def load(path: Path | str) -> Config:
    """The config with every check, channels and templates included (what `run` and `check-config` use)."""
    return load_config(path, extra_checks=(channel_problems,))
