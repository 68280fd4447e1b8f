"""`news-monitor match`: the public JSON Lines contract, on the seed article and on feed files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers.shared import SEED_ENTITIES, requires_seed, seed_title_and_summary

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config" / "monitor.yaml"


def run_match(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "match", "-c", str(CONFIG), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@requires_seed
def test_seed_article_is_flagged_with_both_topics_the_watch_and_its_entities() -> None:
    """The reference article, read from ../shared, is a ceasefire and an escalation for the karabakh watch."""
    title, summary = seed_title_and_summary()
    result = run_match("-", stdin=json.dumps({"id": "seed", "title": title, "summary": summary}) + "\n")
    assert result.returncode == 0, result.stderr
    (out,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert out["id"] == "seed"
    assert {"ceasefire", "escalation"} <= set(out["topics"])
    assert [w["name"] for w in out["watches"]] == ["karabakh"]
    # martial law, mobilisation and shelling: the weighted severity of the rule pack puts it at high or above,
    # and the watch reports the highest level among its topics
    levels = ["low", "medium", "high", "critical"]
    topic_levels = [out["severity"][t]["level"] for t in out["watches"][0]["topics"]]
    assert out["watches"][0]["severity"] == max(topic_levels, key=levels.index)
    assert levels.index(out["watches"][0]["severity"]) >= levels.index("high")
    assert set(out["entities"]) >= SEED_ENTITIES
    assert {e["kind"] for e in out["evidence"]} == {"term", "entity"}
    assert all({"name", "text", "field", "start", "end"} <= set(e) for e in out["evidence"])


def test_output_keeps_input_order_and_reports_bad_lines_with_file_and_line(tmp_path: Path) -> None:
    """Each item gives one line in order; a broken line is named by file:line, skipped, and exits 65."""
    items = tmp_path / "items.jsonl"
    items.write_text(
        json.dumps({"id": "a", "title": "Truce collapses as artillery shells the border town"})
        + "\n"
        + "{not json\n"
        + json.dumps({"id": "b", "title": "Bakery wins regional bread award", "description": "Crusty."})
        + "\n",
        encoding="utf-8",
    )
    result = run_match(str(items))
    assert result.returncode == 65
    assert f"{items}:2: not valid JSON" in result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b"]
    assert set(out[0]["topics"]) == {"ceasefire", "escalation"} and out[1]["topics"] == []
    assert out[1] == {"id": "b", "topics": [], "watches": [], "entities": [], "evidence": []}


def test_rss_file_input_is_classified_per_item(tmp_path: Path) -> None:
    """An RSS file is accepted as input; items are identified by guid."""
    feed = tmp_path / "feed.xml"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        "<item><guid>g1</guid><title>Armenia declares martial law</title></item>"
        "<item><guid>g2</guid><title>Local team wins the cup</title></item></channel></rss>",
        encoding="utf-8",
    )
    result = run_match(str(feed))
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["g1", "g2"]
    assert "escalation" in out[0]["topics"] and out[1]["topics"] == []


def test_non_text_fields_are_reported_and_skipped_and_a_bom_feed_is_read_as_a_feed(tmp_path: Path) -> None:
    """A record whose summary is a number is named and skipped (exit 65); a feed file starting with a
    UTF-8 byte-order mark is still recognised as XML."""
    items = tmp_path / "items.jsonl"
    items.write_text(
        '{"id": "x", "title": "t", "summary": 5}\n{"id": "y", "title": "Truce holds"}\n', "utf-8"
    )
    result = run_match(str(items))
    assert result.returncode == 65 and f"{items}:1: summary must be text" in result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["y"]
    feed = tmp_path / "bom.xml"
    feed.write_bytes(
        b'\xef\xbb\xbf<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><guid>g1</guid><title>Armenia declares martial law</title></item></channel></rss>"
    )
    result = run_match(str(feed))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["g1"]


def test_match_reads_the_link_and_reports_genre_only_for_matched_commentary() -> None:
    """The record's link is read: a matched item on a live page carries "genre", the same text on a news
    link does not, and an item matching nothing keeps the four-key shape even on an opinion link."""
    items = [
        {
            "id": "live",
            "title": "Artillery shelling hits Stepanakert",
            "link": "https://n.example/world/live/1",
        },
        {"id": "news", "title": "Artillery shelling hits Stepanakert", "link": "https://n.example/world/2"},
        {"id": "none", "title": "A quiet week for gardeners", "link": "https://n.example/opinion/3"},
    ]
    result = run_match("-", stdin="".join(json.dumps(i) + "\n" for i in items))
    assert result.returncode == 0, result.stderr
    live, news, none = [json.loads(line) for line in result.stdout.splitlines()]
    assert live["genre"] == {"kind": "live", "cue": "link /live/"}
    assert "escalation" in news["topics"] and "genre" not in news
    assert list(none) == ["id", "topics", "watches", "entities", "evidence"]
    explained = run_match("--explain", "-", stdin=json.dumps(items[0]) + "\n")
    assert "genre    live (cue: link /live/), does not open an alert on its own" in explained.stdout
