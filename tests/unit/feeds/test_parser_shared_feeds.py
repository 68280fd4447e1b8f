"""parse_feed against real outlet feeds in ../shared/feeds (read in place, never copied into the repo)."""

from __future__ import annotations

import csv
import gzip

import pytest

from monitor.core.errors import PermanentFeedError
from monitor.feeds.parser import parse_feed
from tests.helpers.shared import SHARED

FEEDS = SHARED / "feeds"
METADATA = {"INVENTORY.tsv", "README.md", "SOURCES.txt", "MANIFEST.json"}

if not (FEEDS / "INVENTORY.tsv").is_file():
    pytest.skip(
        f"shared feed files not present at {FEEDS} (only in the team checkout)", allow_module_level=True
    )


def _inventory() -> dict[str, dict[str, str]]:
    with (FEEDS / "INVENTORY.tsv").open(encoding="utf-8", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}


INVENTORY = _inventory()
FILES = sorted(
    path.relative_to(FEEDS).as_posix()
    for path in FEEDS.rglob("*")
    if path.is_file() and path.name not in METADATA
)


@pytest.mark.parametrize("name", FILES)
def test_shared_feed_parses_or_is_refused_cleanly(name: str) -> None:
    """Each real file yields items (at least one when the inventory says it is a well-formed feed with
    items) or raises PermanentFeedError, never any other exception."""
    body = (FEEDS / name).read_bytes()
    if name.endswith(".gz"):
        body = gzip.decompress(body)  # served with Content-Encoding: gzip, which the fetcher undoes
    row = INVENTORY.get(name)
    expects_items = row is not None and row["wellformed"] == "ok" and int(row["items"] or 0) > 0
    try:
        feed = parse_feed(body, url=f"file:{name}")
    except PermanentFeedError as error:
        assert not expects_items, f"{name} is a well-formed feed with items but was refused: {error}"
        assert str(error)
        return
    if expects_items:
        assert feed.items, f"{name}: inventory lists {row['items']} items, parse_feed returned none"
    for item in feed.items:
        assert item.title or item.link
        assert item.published_at is None or item.published_at.utcoffset() is not None


def test_every_feed_file_is_in_the_inventory() -> None:
    """The inventory covers every feed file, so the expectations above are not silently skipped."""
    assert FILES, f"no feed files under {FEEDS}"
    assert sorted(set(FILES) - set(INVENTORY)) == []
