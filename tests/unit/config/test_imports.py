"""Reading the config imports no delivery, rendering, network or database library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_loading_the_shipped_config_imports_no_io_library() -> None:
    """`monitor.config` sits below delivery and rendering: loading a config must not import them."""
    script = (
        "import sys\n"
        "from monitor.config import load_config\n"
        "load_config('config/monitor.yaml')\n"
        "heavy = ('apprise', 'jinja2', 'nh3', 'httpx', 'feedparser', 'sqlalchemy', 'apscheduler')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""
