"""Configuration: `monitor.yaml` and its rule files → validated settings and domain objects, read once,
with every problem reported at once as `file:line: key: message` (with did-you-mean hints).

Users edit these files by hand on a server; a daemon that stops at the first typo, or that silently skips a
misspelt key, costs them a restart loop or a missed alert. Modules: `units` (durations, sizes), `schema`
(the file format), `located` (YAML with line numbers), `secrets` (`${NAME}`), `rules` (rule files merged),
`checks` (cross-references), `loader` (`load_config`, `Config`).
"""

from monitor.config.loader import CONFIG_ENV, Config, ExtraCheck, default_config_path, load_config
from monitor.config.units import parse_duration, parse_size

__all__ = [
    "CONFIG_ENV",
    "Config",
    "ExtraCheck",
    "default_config_path",
    "load_config",
    "parse_duration",
    "parse_size",
]
