"""The package layers of DESIGN.md hold: no module imports a layer above its own, and the pure core and the
config layer import no I/O, delivery or rendering library (contracts in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept() -> None:
    """import-linter finds no import that breaks a contract (its report is shown when one does).

    It runs in its own process: it reconfigures logging, which other tests rely on."""
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
