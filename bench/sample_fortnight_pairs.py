"""Sample story pairs from two conflict fortnights of the 2022 corpus, for blind labelling.

    python bench/sample_fortnight_pairs.py --data DIR > pairs.tsv
    python bench/sample_fortnight_pairs.py --data DIR --names oct dec --per-stratum 40 --seed 3 > v3.tsv

Pairs of conflict items (any topic of the shipped rules with every watch switched on, as `match` gives)
published within three days of each other, in three strata of 30 per fortnight: `Fsame`, both in one story
of the current clusterer; `Fnear`, in different stories but sharing many words (Jaccard of title+summary
words >= 0.2); `Frand`, any two conflict items. Sep 12-25 2022 is the tuning fortnight, Nov 1-14 2022 the
held-out one of version 2; version 3 (`--names oct dec`: 8-21 Oct and 1-14 Dec 2022) is a fresh held-out
set. Reads the corpus, match and cluster output from paths given by --data (not the repository); prints
`id_a id_b sampled_as` only.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from datetime import datetime
from itertools import combinations
from pathlib import Path

PER_STRATUM = 30
WINDOW_S = 3 * 86400


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", text.lower())}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        help="folder with NAME.jsonl, NAME.match.jsonl, NAME.cluster.jsonl",
    )
    parser.add_argument(
        "--names", nargs="+", default=["sep", "nov"], help="fortnight file prefixes in --data"
    )
    parser.add_argument("--per-stratum", type=int, default=PER_STRATUM)
    parser.add_argument("--seed", type=int, default=20221206)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print("id_a\tid_b\tsampled_as")
    for name in args.names:
        items = {}
        for line in (args.data / f"{name}.jsonl").open():
            r = json.loads(line)
            items[r["id"]] = r
        matched = (json.loads(line) for line in (args.data / f"{name}.match.jsonl").open())
        conflict = [r["id"] for r in matched if r["topics"]]
        story = {}
        for line in (args.data / f"{name}.cluster.jsonl").open():
            r = json.loads(line)
            story[r["id"]] = r["story"]
        ts = {i: datetime.fromisoformat(items[i]["date"]).timestamp() for i in conflict}
        bag = {i: words(f"{items[i]['title']} {items[i].get('description') or ''}") for i in conflict}
        close = [(a, b) for a, b in combinations(conflict, 2) if abs(ts[a] - ts[b]) <= WINDOW_S]
        same = [p for p in close if story[p[0]] == story[p[1]]]
        near = [p for p in close if story[p[0]] != story[p[1]]
                and len(bag[p[0]] & bag[p[1]]) / max(1, len(bag[p[0]] | bag[p[1]])) >= 0.2]  # fmt: skip
        for label, pool in (("Fsame", same), ("Fnear", near), ("Frand", close)):
            for a, b in rng.sample(pool, min(args.per_stratum, len(pool))):
                print(f"{a}\t{b}\t{label}-{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
