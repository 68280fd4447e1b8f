"""Draw items for blind topic labelling (issue 13): real 2022 news and the real feed files, stratified so each
topic has many positives and the hard negatives that fool rules.

    .venv/bin/python bench/sample_topic_items.py --size 1600 --seed 13 > ids.tsv
    .venv/bin/python bench/sample_topic_items.py --size 1700 --seed 14 --shares second --exclude ids.tsv > ids2.tsv

Strata, in this order (an item goes to the first it fits; fixed shares of `--size`):

- `rule-cease` (15 %) and `rule-esc` (25 %): the shipped rules (every watch on) give the topic;
- `cease-words` (second batch, 30 %): truce, peace-talks, hostage-deal, negotiation and de-escalation words
  that the rules do not call ceasefire: where ceasefire misses hide (in the first batch these items fell
  under the next strata);
- `war-words` (25 %): a plain war vocabulary (killed, troops, strike, truce, hostages...) that the rules leave
  unmatched: where misses hide;
- `hard-neg` (20 %): war words beside crime, accident, sport, markets or politics words: where false alarms
  hide;
- `random` (15 %): anything else.

No outlet gives more than a quarter of a stratum. Sources: `../shared/corpus/news-2022.jsonl.gz` and the RSS
and Atom files under `../shared/feeds` (read with the daemon's parser; the outlet is the channel title).
Prints `id  source  outlet  stratum` only (ids of feed items are `feed:FILE#N`); the texts stay in
`../shared`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.config import load_config  # noqa: E402
from monitor.core.errors import FeedError  # noqa: E402
from monitor.feeds.parser import parse_feed  # noqa: E402
from monitor.match import Matcher  # noqa: E402
from monitor.runtime.replay import with_all_watches  # noqa: E402

SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus" / "news-2022.jsonl.gz"
FEEDS = SHARED / "feeds"
SHARES = {
    "first": {"rule-cease": 0.15, "rule-esc": 0.25, "war-words": 0.25, "hard-neg": 0.20, "random": 0.15},
    # the first batch took every item the rules call ceasefire; the second looks for truces they miss
    "second": {"rule-cease": 0.0, "cease-words": 0.30, "rule-esc": 0.20, "war-words": 0.20, "hard-neg": 0.20,
               "random": 0.10},
}  # fmt: skip
CEASE = re.compile(
    r"\b(truces?|cease-?fires?|ceasefires?|armistice|peace (deal|plan|talks|agreement|process|accord)|"
    r"end (to )?the (war|fighting)|stop the (war|fighting)|halt\w* (the )?(fighting|war|offensive)|"
    r"(hostage|prisoner)s? (deal|swap|exchange|release)|exchange of prisoners|humanitarian (pause|corridor)|"
    r"negotiat\w+|mediat\w+|de-?escalat\w+|lay down (their )?arms|disarm\w*)\b",
    re.IGNORECASE,
)
WAR = re.compile(
    r"\b(kill\w*|dead|troops?|soldiers?|army|military|strikes?|struck|attack\w*|bomb\w*|shell\w*|missiles?|"
    r"drones?|rockets?|fighting|fought|clash\w*|war|wars|invasion|invad\w*|offensive|truce|ceasefire|"
    r"cease-fire|hostages?|rebels?|militants?|insurgents?|raid\w*|siege|gunmen|blockade|casualt\w*|"
    r"peace (deal|plan|talks)|end the war|prisoner exchange)\b",
    re.IGNORECASE,
)
CONTEXT = re.compile(
    r"\b(police|court|trial|murder\w*|stabb\w*|shooting|gunman|robbery|crash\w*|accident|explosion at|fire at|"
    r"blaze|factory|mine|dog|shark|bear|match|league|cup|coach|players?|goal|stocks?|shares|markets?|"
    r"prices?|inflation|investors|election|campaign|senator|parliament|vote|tweet\w*|film|series|album)\b",
    re.IGNORECASE,
)


def corpus() -> Iterator[dict[str, Any]]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as stream:
        for line in stream:
            record = json.loads(line)
            yield {"id": record["id"], "source": "news-2022", "outlet": _outlet(record.get("outlet") or ""),
                   "title": record.get("title") or "", "summary": record.get("description") or ""}  # fmt: skip


def feed_items() -> Iterator[dict[str, Any]]:
    for path in sorted(p for p in FEEDS.rglob("*") if p.is_file() and p.suffix in (".xml", ".rss", ".atom")):
        try:
            parsed = parse_feed(path.read_bytes(), url=path.as_uri())
        except FeedError:
            continue  # the fixtures that are not feeds at all
        outlet = (parsed.title or path.stem).strip()
        for number, item in enumerate(parsed.items):
            yield {"id": f"feed:{path.relative_to(FEEDS)}#{number}", "source": "feeds", "outlet": outlet,
                   "title": item.title, "summary": item.summary}  # fmt: skip


def item_texts(ids: set[str]) -> dict[str, tuple[str, str]]:
    """(title, summary) of the sampled ids, read from ../shared the way they were sampled."""
    return {
        item["id"]: (item["title"], item["summary"])
        for item in (*corpus(), *feed_items())
        if item["id"] in ids
    }


def _outlet(url: str) -> str:
    match = re.search(r"https?://(?:www\.|rss\.|feeds\.|moxie\.)?([^/]+)", url)
    return match[1] if match else url


def stratum(matcher: Matcher, item: dict[str, Any], cease_words: bool) -> str:
    result = matcher.match(title=item["title"], summary=item["summary"])
    text = f"{item['title']} {item['summary']}"
    if "ceasefire" in result.topics:
        return "rule-cease"
    if "escalation" in result.topics:
        return "rule-esc"
    if cease_words and CEASE.search(text):
        return "cease-words"
    if WAR.search(text):
        return "hard-neg" if CONTEXT.search(text) else "war-words"
    return "random"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1600)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--exclude", type=Path, help="a TSV of ids already sampled (first column), left out")
    parser.add_argument("--shares", choices=sorted(SHARES), default="first", help="the strata's shares")
    args = parser.parse_args()
    if not CORPUS.is_file():
        print(f"skipped: {CORPUS} is absent (it lives in ../shared, next to the repository)", file=sys.stderr)
        return 0
    excluded = set()
    if args.exclude:
        excluded = {
            line.split("\t", 1)[0] for line in args.exclude.read_text(encoding="utf-8").splitlines()[1:]
        }
    matcher = Matcher.compile(with_all_watches(load_config(REPO / "config" / "monitor.yaml")).rules)
    shares = SHARES[args.shares]
    pools: dict[str, list[dict[str, Any]]] = {name: [] for name in SHARES["second"]}
    seen_titles: set[str] = set()
    for item in (*corpus(), *feed_items()):
        title = " ".join(item["title"].lower().split())
        if not title or title in seen_titles:
            continue  # one copy of each headline, across batches too
        seen_titles.add(title)
        if item["id"] in excluded:
            continue
        pools[stratum(matcher, item, shares.get("cease-words", 0) > 0)].append(item)
    rng = random.Random(args.seed)
    print("id\tsource\toutlet\tstratum")
    for name, share in shares.items():
        pool = pools[name]
        rng.shuffle(pool)
        want = round(args.size * share)
        cap = max(1, want // 4)
        per_outlet: Counter[str] = Counter()
        chosen = []
        for item in pool:
            if len(chosen) == want:
                break
            if per_outlet[item["outlet"]] < cap:
                per_outlet[item["outlet"]] += 1
                chosen.append(item)
        for item in chosen:
            print(f"{item['id']}\t{item['source']}\t{item['outlet']}\t{name}")
        print(f"{name}: {len(chosen)} of {len(pool)} from {len(per_outlet)} outlets", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
