"""Genre classifier (monitor.match.genre) against blind labels: event report or commentary.

    .venv/bin/python bench/genre.py sample              # (re)draw the 300 ids into bench/data/genre_items.tsv
    .venv/bin/python bench/genre.py show [--from N]     # print the sampled items for labelling (no classifier)
    .venv/bin/python bench/genre.py agreement           # kappa between labellers A and B
    .venv/bin/python bench/genre.py score --half even   # tune on this half only
    .venv/bin/python bench/genre.py score --half odd    # held out: look once
    .venv/bin/python bench/genre.py score --half even --errors
    .venv/bin/python bench/genre.py effect --start 2022-02-24 --end 2022-03-09

`effect` estimates what events_only changes on a stretch of the corpus: every watch of the shipped rules
switched on, items in publication order through the matcher and the story clusterer, and per watch the
stories that would get a first alert with events_only off (a matching item joined them) and on (an event
report joined them after a matching item, or a matching item is itself an event report), and how many
first alerts come later than they would have. Updates and routing are left out (`news-monitor replay` has
the whole policy).

The sample: items of ../shared/corpus/news-2022.jsonl.gz that the shipped rules match (any topic, as
`news-monitor match` reports them), outside the two reserved evaluation fortnights, 300 drawn with a fixed
seed. The label file keeps ids and labels only (the rubric is bench/data/GENRE.md); rows are numbered from 0
in file order, and "even"/"odd" are the halves by that number. `score` reports precision and recall of
"commentary" per labeller column present (`label`, `label_b`, and `gold`: the majority rule in GENRE.md).
Never prints corpus text except in `show`, which is for the labeller.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.config import load_config  # noqa: E402
from monitor.match import Matcher  # noqa: E402
from monitor.match.genre import classify  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "news-2022.jsonl.gz"
LABELS = ROOT / "bench" / "data" / "genre_items.tsv"
SAMPLE_SIZE = 300
SEED = 12
# reserved evaluation fortnights: never sampled
RESERVED = ((date(2022, 9, 12), date(2022, 9, 25)), (date(2022, 11, 1), date(2022, 11, 14)))
LABEL_VALUES = ("event", "commentary")


def corpus() -> Iterator[dict]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def reserved(day: date) -> bool:
    return any(start <= day <= end for start, end in RESERVED)


def matched(matcher: Matcher, items: Iterable[dict]) -> Iterator[dict]:
    for item in items:
        if reserved(date.fromisoformat(item["date"][:10])):
            continue
        result = matcher.match(title=item.get("title") or "", summary=item.get("description") or "")
        if result.topics:
            yield item


def sample() -> int:
    matcher = Matcher.compile(load_config(ROOT / "config" / "monitor.yaml").rules)
    ids = [item["id"] for item in matched(matcher, corpus())]
    chosen = random.Random(SEED).sample(ids, SAMPLE_SIZE)
    if LABELS.exists():
        print(f"{LABELS} exists; not overwriting (delete it to redraw)", file=sys.stderr)
        return 1
    LABELS.write_text("id\tlabel\n" + "".join(f"{i}\t\n" for i in chosen), encoding="utf-8")
    print(f"{len(ids)} matched items outside the reserved fortnights; {len(chosen)} sampled into {LABELS}")
    return 0


def read_labels() -> list[dict[str, str]]:
    lines = LABELS.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:] if line.strip()]


def by_id(ids: set[str]) -> dict[str, dict]:
    return {item["id"]: item for item in corpus() if item["id"] in ids}


def show(start: int, count: int) -> int:
    rows = read_labels()[start : start + count]
    items = by_id({r["id"] for r in rows})
    for n, row in enumerate(rows, start):
        item = items[row["id"]]
        print(f"[{n}] {row['id']}\n  T: {item.get('title')}\n  D: {(item.get('description') or '')[:300]}")
        print(f"  L: {item.get('link')}")
    return 0


def score(half: str, errors: bool) -> int:
    rows = [r for n, r in enumerate(read_labels()) if half == "all" or n % 2 == (half == "odd")]
    items = by_id({r["id"] for r in rows})
    columns = [c for c in ("label", "label_b", "gold") if any(r.get(c) for r in rows)]
    guesses = {}
    for row in rows:
        item = items[row["id"]]
        guesses[row["id"]] = classify(
            title=item.get("title") or "", summary=item.get("description") or "", link=item.get("link") or ""
        )
    for column in columns:
        tp = fp = fn = tn = 0
        wrong: list[str] = []
        for row in rows:
            truth = row.get(column)
            if truth not in LABEL_VALUES:
                continue
            genre = guesses[row["id"]]
            if genre and truth == "commentary":
                tp += 1
            elif genre:
                fp += 1
                wrong.append(f"  FP {row['id']}  {genre.kind}: {genre.cue}")
            elif truth == "commentary":
                fn += 1
                wrong.append(f"  FN {row['id']}")
            else:
                tn += 1
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        print(
            f"{half} half, labeller {column}: {tp + fp + fn + tn} items, {tp + fn} commentary; "
            f"TP {tp} FP {fp} FN {fn} TN {tn}; precision {precision:.3f} recall {recall:.3f}"
        )
        if errors:
            print("\n".join(wrong))
    return 0


def agreement() -> int:
    """Cohen's kappa between labellers A and B, and the items the third labeller decided."""
    rows = [r for r in read_labels() if r.get("label_b") in LABEL_VALUES]
    if not rows:
        print("no second labeller yet (column label_b is empty)")
        return 1
    n = len(rows)
    observed = sum(r["label"] == r["label_b"] for r in rows) / n
    share_a = sum(r["label"] == "commentary" for r in rows) / n
    share_b = sum(r["label_b"] == "commentary" for r in rows) / n
    expected = share_a * share_b + (1 - share_a) * (1 - share_b)
    kappa = (observed - expected) / (1 - expected)
    disagreed = [r for r in rows if r["label"] != r["label_b"]]
    print(f"{n} items labelled by A and B: agree on {n - len(disagreed)}, Cohen's kappa {kappa:.3f}")
    for row in disagreed:
        print(f"  {row['id']}: A {row['label']}, B {row['label_b']}, C {row.get('label_c') or '-'}"
              f" -> gold {row.get('gold') or '-'}")  # fmt: skip
    missing = sum(not r.get("gold") for r in read_labels())
    if missing:
        print(f"{missing} items have no gold label yet")
    return 0


def effect(start: date, end: date) -> int:
    from dataclasses import replace

    from monitor.stories.clusterer import StoryClusterer, cluster_records

    config = load_config(ROOT / "config" / "monitor.yaml")
    pack = config.rules
    pack = pack.model_copy(update={"watches": [w.model_copy(update={"enabled": True}) for w in pack.watches]})
    matcher = Matcher.compile(pack)
    clusterer = StoryClusterer(replace(config.story_params))
    items = [i for i in corpus() if start <= date.fromisoformat(i["date"][:10]) <= end]
    items.sort(key=lambda i: i["date"])
    genres: dict[str, object] = {}
    hits: dict[str, list[str]] = {}
    for item in items:
        result = matcher.match(
            title=item.get("title") or "", summary=item.get("description") or "", link=item.get("link") or ""
        )
        hits[item["id"]] = [h.name for h in result.watches]
        genres[item["id"]] = result.genre or classify(
            title=item.get("title") or "", summary=item.get("description") or "", link=item.get("link") or ""
        )
    opened_off: dict[tuple[str, str], str] = {}  # (watch, story) -> first item time, events_only off
    opened_on: dict[tuple[str, str], str] = {}
    matched: set[tuple[str, str]] = set()
    records = ({**i, "published": i["date"]} for i in items)
    for doc, assignment in cluster_records(records, clusterer):
        story = assignment.story
        at = str(doc.published_at)[:16]
        for watch in hits[doc.id]:
            matched.add((watch, story))
            opened_off.setdefault((watch, story), at)
        if genres[doc.id] is None:
            for watch, s in list(matched):
                if s == story:
                    opened_on.setdefault((watch, story), at)
    days = (end - start).days + 1
    print(f"{len(items)} items {start}..{end} ({days} days), all watches on")
    for watch in sorted({w for w, _ in opened_off}):
        off = [k for k in opened_off if k[0] == watch]
        on = [k for k in opened_on if k[0] == watch]
        later = sum(1 for k in on if opened_on[k] > opened_off[k])
        print(
            f"  {watch}: first alerts {len(off)} ({len(off) / days:.1f}/day) with events_only off, "
            f"{len(on)} ({len(on) / days:.1f}/day) on; {later} of those come later (an event report "
            f"followed commentary)"
        )
    return 0


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sample")
    sub.add_parser("agreement")
    show_p = sub.add_parser("show")
    show_p.add_argument("--from", dest="start", type=int, default=0)
    show_p.add_argument("--count", type=int, default=SAMPLE_SIZE)
    score_p = sub.add_parser("score")
    score_p.add_argument("--half", choices=("even", "odd", "all"), default="even")
    score_p.add_argument("--errors", action="store_true", help="list wrong ids with the cue that fired")
    effect_p = sub.add_parser("effect")
    effect_p.add_argument("--start", type=date.fromisoformat, default=date(2022, 2, 24))
    effect_p.add_argument("--end", type=date.fromisoformat, default=date(2022, 3, 9))
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not CORPUS.is_file():
        print(f"skipped: the corpus {CORPUS} is absent (it lives in ../shared beside the repository)")
        return 0
    if args.command == "sample":
        return sample()
    if args.command == "show":
        return show(args.start, args.count)
    if args.command == "agreement":
        return agreement()
    if args.command == "effect":
        return effect(args.start, args.end)
    return score(args.half, args.errors)


if __name__ == "__main__":
    raise SystemExit(main())
