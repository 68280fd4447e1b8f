"""`news-monitor match --explain`: a readable explanation per item, through the real command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_explain_prints_topics_severity_watches_entities_and_highlighted_words(tmp_path: Path) -> None:
    """--explain prints, per item, its topics with level, score and reasons, the fired watch, the entities,
    and the matched words highlighted in context (guillemets when stdout is not a terminal)."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "test.yaml").write_text(
        yaml.safe_dump(
            {
                "entities": {"armenia": {"aliases": ["Armenia", "Armenian"]}, "baku": {"aliases": ["Baku"]}},
                "topics": {
                    "escalation": {
                        "query": 'shelled OR "violated the ceasefire"',
                        "severity": {
                            "base": 50,
                            "weights": [{"query": "army", "weight": 20, "reason": "an army is involved"}],
                        },
                    }
                },
                "watches": [{"name": "caucasus", "query": "@armenia OR @baku", "topics": ["escalation"]}],
            }
        ),
        encoding="utf-8",
    )
    config = tmp_path / "monitor.yaml"
    config.write_text("database: sqlite:///db.sqlite\nfeeds: []\nrules: [rules/*.yaml]\n", encoding="utf-8")
    item = {
        "id": "item-1",
        "title": "Baku accuses Yerevan",
        "summary": "Officials said the Armenian army had blatantly violated the ceasefire and shelled positions.",
    }
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "match", "--explain", "-c", str(config), "-"],
        input=json.dumps(item) + "\n" + json.dumps({"id": "item-2", "title": "Bakery wins award"}) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "── item-1  Baku accuses Yerevan" in out
    assert "topic    escalation  high (score 70): an army is involved (+20)" in out
    assert 'because shelled OR "violated the ceasefire"' in out
    assert "watch    caucasus  high; topics escalation" in out
    assert "entities Baku, Armenia" in out
    assert "»Armenian« army had blatantly »violated the ceasefire« and »shelled« positions" in out
    assert "── item-2  Bakery wins award\n  no topic, watch or entity matched" in out
    assert "{" not in out  # not JSON


def test_explain_prints_the_phase_reason_of_the_shipped_pack() -> None:
    """Through the real command on the shipped config, the phase line gives the phase's `reason`."""
    item = {"id": "t1", "title": "Rival armies agree to a ceasefire after a week of shelling"}
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "match", "--explain", "-c", "config/monitor.yaml", "-"],
        input=json.dumps(item) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    assert "  phase    ceasefire agreed: a truce agreed, signed, brokered or announced\n" in result.stdout
