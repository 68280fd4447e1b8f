"""`${NAME}` in config values, from the environment or a systemd credential file, so secrets stay out of
the file itself."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from monitor.config.located import Located, dotted

_SECRET_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def resolve_secrets(data: Any, located: Located, problems: list[str], path: tuple[Any, ...] = ()) -> Any:
    """Replace `${NAME}` from the environment, else from `$CREDENTIALS_DIRECTORY/NAME` (systemd)."""
    if isinstance(data, dict):
        return {k: resolve_secrets(v, located, problems, (*path, k)) for k, v in data.items()}
    if isinstance(data, list):
        return [resolve_secrets(v, located, problems, (*path, i)) for i, v in enumerate(data)]
    if not isinstance(data, str) or "${" not in data:
        return data

    def lookup(match: re.Match[str]) -> str:
        name = match[1]
        if name in os.environ:
            return os.environ[name]
        cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
        if cred_dir and (Path(cred_dir) / name).is_file():
            return (Path(cred_dir) / name).read_text(encoding="utf-8").strip()
        problems.append(
            f"{located.where(path)}: {dotted(path)}: ${{{name}}} is not set; export {name} in the environment "
            f"(e.g. the EnvironmentFile of the systemd unit) or provide a credential file named {name} "
            f"(systemd LoadCredential=)"
        )
        return match[0]

    return _SECRET_REF.sub(lookup, data)
