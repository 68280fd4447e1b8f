"""Blind topic labels (issue 13, `bench/data/TOPICS.md`): merge the labellers' files into
`bench/data/topic_items.tsv` (ids and labels only), report agreement, and list what the third labeller decides.

    .venv/bin/python bench/topic_labels.py merge --ids IDS.tsv IDS2.tsv --labels DIR DIR2  # labels_{A,B,C}*.tsv
    .venv/bin/python bench/topic_labels.py agreement

A labeller's file has `id, ceasefire, escalation, borderline` (0/1). `merge` writes one row per sampled
item in the sampler's order: `id, source, outlet, stratum`, then `a_cease a_esc a_border`, the same for `b_`
and `c_` (C only where A and B disagree on a topic, else empty), and the gold `ceasefire escalation
borderline` by the rule in TOPICS.md (empty while C is missing where needed).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ITEMS = REPO / "bench" / "data" / "topic_items.tsv"
TOPICS = ("ceasefire", "escalation")
COLUMNS = ("id", "source", "outlet", "stratum",
           "a_cease", "a_esc", "a_border", "b_cease", "b_esc", "b_border", "c_cease", "c_esc",
           "ceasefire", "escalation", "borderline")  # fmt: skip


def read_labels(folders: list[Path], who: str) -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {}
    for path in sorted(p for folder in folders for p in folder.glob(f"labels_{who}*.tsv")):
        with path.open(encoding="utf-8") as stream:
            for row in csv.DictReader(stream, delimiter="\t"):
                if row.get("id") and all(row.get(k) in ("0", "1") for k in (*TOPICS, "borderline")):
                    labels[row["id"]] = row
    return labels


def gold(a: str, b: str, c: str) -> str:
    """A and B agree: theirs; else C's (empty until C has labelled)."""
    if a and a == b:
        return a
    return c if a and b else ""


def merge(ids: list[Path], folders: list[Path]) -> int:
    """Batches in the order given: the first batch's rows first, so the halves keep their meaning."""
    a, b, c = (read_labels(folders, who) for who in "ABC")
    sampled = []
    for path in ids:
        with path.open(encoding="utf-8") as stream:
            sampled += list(csv.DictReader(stream, delimiter="\t"))
    rows = []
    for item in sampled:
        la, lb, lc = a.get(item["id"], {}), b.get(item["id"], {}), c.get(item["id"], {})
        row = {**{k: item[k] for k in COLUMNS[:4]},
               "a_cease": la.get("ceasefire", ""), "a_esc": la.get("escalation", ""),
               "a_border": la.get("borderline", ""),
               "b_cease": lb.get("ceasefire", ""), "b_esc": lb.get("escalation", ""),
               "b_border": lb.get("borderline", "")}  # fmt: skip
        for short, topic in (("cease", "ceasefire"), ("esc", "escalation")):
            split = row[f"a_{short}"] and row[f"b_{short}"] and row[f"a_{short}"] != row[f"b_{short}"]
            row[f"c_{short}"] = lc.get(topic, "") if split else ""
            row[topic] = gold(row[f"a_{short}"], row[f"b_{short}"], row[f"c_{short}"])
        both = row["a_border"] and row["b_border"]
        row["borderline"] = str(int("1" in (row["a_border"], row["b_border"]))) if both else ""
        rows.append(row)
    with ITEMS.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, COLUMNS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} items written to {ITEMS.relative_to(REPO)}")
    return agreement()


def kappa(pairs: list[tuple[str, str]]) -> float:
    n = len(pairs)
    observed = sum(x == y for x, y in pairs) / n
    p_a, p_b = sum(x == "1" for x, _ in pairs) / n, sum(y == "1" for _, y in pairs) / n
    expected = p_a * p_b + (1 - p_a) * (1 - p_b)
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def agreement() -> int:
    with ITEMS.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream, delimiter="\t"))
    both = [r for r in rows if r["a_esc"] and r["b_esc"]]
    print(f"{len(rows)} items; {len(both)} labelled by both A and B")
    if not both:
        return 1
    for short, topic in (("cease", "ceasefire"), ("esc", "escalation")):
        pairs = [(r[f"a_{short}"], r[f"b_{short}"]) for r in both]
        split = sum(x != y for x, y in pairs)
        decided = sum(1 for r in both if r[f"a_{short}"] != r[f"b_{short}"] and r[f"c_{short}"])
        positives = sum(r[topic] == "1" for r in rows)
        print(f"  {topic}: agree on {len(pairs) - split} of {len(pairs)}, Cohen's kappa {kappa(pairs):.3f}; "
              f"{split} for C ({decided} decided); gold positives so far {positives}")  # fmt: skip
    border = sum(r["borderline"] == "1" for r in rows)
    print(f"  borderline (either labeller): {border}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    merge_p = sub.add_parser("merge")
    merge_p.add_argument("--ids", type=Path, nargs="+", required=True, help="the sampler's outputs, in order")
    merge_p.add_argument("--labels", type=Path, nargs="+", required=True, help="folders with labels_*.tsv")
    sub.add_parser("agreement")
    args = parser.parse_args()
    return merge(args.ids, args.labels) if args.command == "merge" else agreement()


if __name__ == "__main__":
    sys.exit(main())
