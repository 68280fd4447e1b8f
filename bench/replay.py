"""What an analyst receives during a war: `replay` over a conflict fortnight of the 2022 corpus, every watch
switched on, scored against the turning points annotators listed (`bench/data/turning_points.tsv`).

    .venv/bin/python bench/replay.py [--fortnight sep|nov|aug] [--config config/monitor.yaml]

Fortnights: `sep` 12-25 Sep 2022 (tuning: Armenia-Azerbaijan border war and truces, Kharkiv counteroffensive),
`nov` 1-14 Nov 2022 (held out; no turning point of a watched conflict, so only messages per day), `aug` 1-14 Aug
2022 (held out for turning points: Gaza fighting and truce, Karabakh clashes). How the turning points were
labelled: `bench/data/LABELLING.md`.

Prints, for the shipped config and for a baseline run in the same process (the alert policy before issue 12:
a first alert per watch and story, an update when severity rises or a topic joins; no phases, commentary
alerts like events): messages per watch and day, and each turning point alerted (a message for its watch
about one of its listed reports within 3 h of its first report) or missed.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.config import Config, load_config  # noqa: E402
from monitor.runtime import logs  # noqa: E402
from monitor.runtime.replay import replay, with_all_watches  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "news-2022.jsonl.gz"
TURNING_POINTS = REPO / "bench" / "data" / "turning_points.tsv"
FORTNIGHTS = {"sep": ("2022-09-12", "2022-09-25"), "nov": ("2022-11-01", "2022-11-14"),
              "aug": ("2022-08-01", "2022-08-14")}  # fmt: skip
DEADLINE = timedelta(hours=3)


def records(first: str, last: str) -> Iterator[dict[str, Any]]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as stream:
        for line in stream:
            record = json.loads(line)
            if first <= record["date"][:10] <= last:
                yield record


# what issue 12 added to the alert policy, switched off: commentary alerts like events, no busy rule, no
# phase turns, no backlog age limit
BEFORE_ISSUE_12: dict[str, Any] = {
    "events_only": False,
    "busy": None,
    "phases": False,
    "max_age": timedelta(days=36500),
}


def baseline(config: Config) -> Config:
    """The alert policy as it was before issue 12 (see the module docstring), every other setting kept."""
    alerts = config.settings.alerts
    alerts = alerts.model_copy(
        update={
            "defaults": alerts.defaults.model_copy(update=BEFORE_ISSUE_12),
            "watches": {w: p.model_copy(update=BEFORE_ISSUE_12) for w, p in alerts.watches.items()},
        }
    )
    return replace(config, settings=config.settings.model_copy(update={"alerts": alerts}))


def run(config: Config, first: str, last: str) -> tuple[list[dict[str, Any]], Any, float]:
    messages: list[dict[str, Any]] = []
    started = time.perf_counter()
    summary = replay(config, records(first, last), messages.append)
    return messages, summary, time.perf_counter() - started


def score(
    messages: list[dict[str, Any]], points: list[dict[str, str]], published: dict[str, datetime]
) -> list[str]:
    lines = []
    for point in points:
        reports = {point["first_item"], *(i for i in point["reports"].split(",") if i != "-")}
        due = published[point["first_item"]] + DEADLINE
        hits = [m for m in messages if m["watch"] == point["watch"] and m["item"] in reports
                and datetime.fromisoformat(m["at"]) <= due]  # fmt: skip
        mark = f"alerted ({hits[0]['kind']}, {hits[0]['at'][5:16]})" if hits else "MISSED"
        lines.append(f"    {point['watch']:<20} {point['phase']:<10} {point['first_item']}  {mark}")
    return lines


def report(name: str, messages: list[dict[str, Any]], summary: Any, seconds: float, points: list[dict[str, str]],
           published: dict[str, datetime]) -> int:  # fmt: skip
    days = summary.days
    print(f"{name}: {summary.items:,} items in {seconds:.1f} s, {len(messages)} messages over {days} days")
    for watch in sorted({m["watch"] for m in messages}):
        mine = [m for m in messages if m["watch"] == watch and m["kind"] != "digest"]
        kinds = {k: sum(1 for m in mine if m["kind"] == k) for k in sorted({m["kind"] for m in mine})}
        print(f"  {watch:<20} {len(mine) / days:5.1f} messages a day  {kinds}")
    lines = score(messages, points, published)
    alerted = sum("alerted" in line for line in lines)
    print(f"  turning points alerted within 3 h: {alerted} of {len(points)}")
    print("\n".join(lines))
    return alerted


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fortnight", choices=sorted(FORTNIGHTS), default="sep")
    parser.add_argument("--config", type=Path, default=REPO / "config" / "monitor.yaml")
    args = parser.parse_args()
    if not CORPUS.is_file():
        print(f"skipped: {CORPUS} is absent (it lives in ../shared, next to the repository)")
        return 0
    logs.configure("WARNING", json=False, stream=sys.stderr)
    first, last = FORTNIGHTS[args.fortnight]
    with TURNING_POINTS.open(encoding="utf-8") as stream:
        points = [p for p in csv.DictReader(stream, delimiter="\t") if p["fortnight"] == args.fortnight]
    published = {r["id"]: datetime.fromisoformat(r["date"]) for r in records(first, last)}
    config = with_all_watches(load_config(args.config))
    print(f"fortnight {args.fortnight}: {first} .. {last}, every watch switched on")
    base = run(baseline(config), first, last)
    report("baseline (alert policy before issue 12)", *base, points, published)
    head = run(config, first, last)
    report("shipped config", *head, points, published)
    base_rate, head_rate = (
        len(base[0]) / max(1, base[1].days),
        len([m for m in head[0] if m["kind"] != "digest"]) / max(1, head[1].days),
    )
    print(f"messages a day, all watches: {head_rate:.1f} vs baseline {base_rate:.1f} "
          f"(ratio {head_rate / base_rate if base_rate else float('nan'):.2f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
