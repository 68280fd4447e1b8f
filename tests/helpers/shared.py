"""Where the team's real third-party data lives (../shared), and the seed article as a test input.

Tests read it from there and skip with a reason when it is absent (a user's clone); it is never copied
into the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SEED = SHARED / "seed" / "seed-article.txt"
# The entities the design names for the reference case.
SEED_ENTITIES = frozenset(
    {
        "Azerbaijan",
        "Armenia",
        "Russia",
        "Nagorno-Karabakh",
        "Stepanakert",
        "Baku",
        "Lavrov",
        "Bayramov",
        "OSCE Minsk Group",
    }
)
requires_seed = pytest.mark.skipif(
    not SEED.is_file(), reason=f"seed article not found at {SEED} (../shared is absent)"
)


def seed_title_and_summary() -> tuple[str, str]:
    """The headline and the body of the seed article (its first line is the site's section label)."""
    lines = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line and line != "All news"]
    return lines[0], " ".join(lines[1:])
