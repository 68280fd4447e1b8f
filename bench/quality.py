"""Matcher quality on the labelled dev set, beside a naive keyword baseline run in the same process.

    .venv/bin/python bench/quality.py                      # rules from config/rules/*.yaml
    .venv/bin/python bench/quality.py -c config/rules      # a directory of rule files
    .venv/bin/python bench/quality.py -c config/monitor.yaml --errors
    .venv/bin/python bench/quality.py --set topics --half even   # bench/data/topic_items.tsv (TOPICS.md)

Reads ../shared/corpus/dev.jsonl (never copied into the repository), or with `--set topics` the blind-labelled
items of `bench/data/topic_items.tsv` (their texts from ../shared: the 2022 corpus and the feed files; odd rows
are held out, see bench/data/TOPICS.md); items marked `borderline` are left out of the scores, as the corpus
README asks. Prints TP/FP/FN, precision, recall and F1 per topic, and items/s.
`--errors` lists misclassified ids with the evidence words that fired (false positives) or "no rule matched"
(false negatives); it never prints whole corpus items.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.match import Matcher  # noqa: E402
from monitor.match.rules import RuleFile, RulePack  # noqa: E402

SHARED = ROOT.parent / "shared"
DEV = SHARED / "corpus" / "dev.jsonl"
TOPIC_ITEMS = ROOT / "bench" / "data" / "topic_items.tsv"
TOPICS = ("ceasefire", "escalation")

# The baseline a user would write in five minutes: one short word list per topic, any occurrence counts.
BASELINE_WORDS = {
    "ceasefire": {"ceasefire", "cease-fire", "truce"},
    "escalation": {
        "attack",
        "attacks",
        "strike",
        "strikes",
        "shelling",
        "war",
        "offensive",
        "missile",
        "missiles",
    },
}
_BASELINE_TOKEN = re.compile(r"[a-z]+(?:-[a-z]+)*")


def load_pack(path: Path) -> RulePack:
    """A directory → merge its *.yaml rule files; a file → the main config via monitor.config."""
    if path.is_dir():
        merged: dict[str, dict] = {"entities": {}, "topics": {}}
        watches = []
        for file in sorted(path.glob("*.yaml")):
            rule_file = RuleFile.model_validate(yaml.safe_load(file.read_text(encoding="utf-8")) or {})
            merged["entities"].update(rule_file.entities)
            merged["topics"].update(rule_file.topics)
            watches.extend(rule_file.watches)
        return RulePack(entities=merged["entities"], topics=merged["topics"], watches=watches)
    from monitor.config import load_config  # the main config file: full validation, rules resolved

    return load_config(path).rules


def topic_items(half: str) -> list[dict]:
    """The gold-labelled items of `bench/data/topic_items.tsv` (one half by row number), texts from ../shared;
    borderline items keep `borderline` set, items without a gold label yet are left out."""
    import csv

    from sample_topic_items import item_texts  # the sampler's reader: feed ids resolve as they were drawn

    with TOPIC_ITEMS.open(encoding="utf-8") as stream:
        rows = [r for n, r in enumerate(csv.DictReader(stream, delimiter="\t"))
                if half == "all" or n % 2 == (half == "odd")]  # fmt: skip
    rows = [r for r in rows if r["ceasefire"] and r["escalation"]]
    texts = item_texts({r["id"] for r in rows})
    return [{"id": r["id"], "title": texts[r["id"]][0], "description": texts[r["id"]][1],
             "ceasefire": r["ceasefire"] == "1", "escalation": r["escalation"] == "1",
             "borderline": r["borderline"] == "1", "outlet": r["outlet"]} for r in rows]  # fmt: skip


def baseline(title: str, summary: str) -> set[str]:
    words = set(_BASELINE_TOKEN.findall(f"{title} {summary}".lower()))
    return {topic for topic, vocab in BASELINE_WORDS.items() if words & vocab}


def score(items: list[dict], classify: Callable[[dict], set[str]]) -> tuple[dict[str, tuple], dict, float]:
    counts = {t: [0, 0, 0] for t in TOPICS}
    errors: dict[str, list[tuple[str, str]]] = {t: [] for t in TOPICS}
    start = time.perf_counter()
    predictions = [classify(item) for item in items]
    elapsed = time.perf_counter() - start
    for item, predicted in zip(items, predictions, strict=True):
        for topic in TOPICS:
            truth, guess = bool(item[topic]), topic in predicted
            if truth and guess:
                counts[topic][0] += 1
            elif guess:
                counts[topic][1] += 1
                errors[topic].append((item["id"], "FP"))
            elif truth:
                counts[topic][2] += 1
                errors[topic].append((item["id"], "FN"))
    return {t: tuple(c) for t, c in counts.items()}, errors, len(items) / elapsed


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-c", "--config", type=Path, default=ROOT / "config" / "rules", help="rules dir or monitor.yaml"
    )
    parser.add_argument("--errors", action="store_true", help="list misclassified ids with the reason")
    parser.add_argument("--repeat", type=int, default=3, help="timing passes over the dev set (best is kept)")
    parser.add_argument(
        "--set", choices=("dev", "topics"), default="dev", help="dev.jsonl or topic_items.tsv"
    )
    parser.add_argument("--half", choices=("even", "odd", "all"), default="even", help="with --set topics")
    parser.add_argument("--by-outlet", action="store_true", help="with --set topics: F1 per outlet as well")
    args = parser.parse_args(list(argv) if argv is not None else None)

    if not DEV.is_file():
        print(f"skipped: the labelled dev set {DEV} is absent (it lives in ../shared beside the repository)")
        return 0
    if args.set == "topics":
        rows = topic_items(args.half)
    else:
        rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [r for r in rows if not r.get("borderline")]
    pack = load_pack(args.config)
    matcher = Matcher.compile(pack)
    missing = [t for t in TOPICS if t not in pack.topics]
    if missing:
        print(f"the rule pack has no topic {', '.join(missing)}; cannot score it")
        return 1

    results = {}
    evidence: dict[str, dict[str, list[str]]] = {}

    def classify(item: dict) -> set[str]:
        result = matcher.match(title=item.get("title") or "", summary=item.get("description") or "")
        evidence[item["id"]] = {}
        for ev in result.evidence:
            if ev.kind == "term":
                evidence[item["id"]].setdefault(ev.name, []).append(ev.text)
        return set(result.topics)

    def classify_baseline(item: dict) -> set[str]:
        return baseline(item.get("title") or "", item.get("description") or "")

    for name, fn in (("matcher", classify), ("keyword baseline", classify_baseline)):
        best = None
        for _ in range(max(1, args.repeat)):
            run = score(items, fn)
            best = run if best is None or run[2] > best[2] else best
        results[name] = best

    name = "dev set" if args.set == "dev" else f"topic items ({args.half} rows)"
    print(
        f"{name}: {len(items)} items scored ({len(rows) - len(items)} borderline left out), rules: {args.config}"
    )
    for topic in TOPICS:
        positives = sum(1 for i in items if i[topic])
        print(f"\n{topic} ({positives} positives)")
        print(f"  {'system':<18}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}{'F1':>7}")
        for name, (counts, _, _) in results.items():
            tp, fp, fn = counts[topic]
            p, r, f = prf(tp, fp, fn)
            print(f"  {name:<18}{tp:>5}{fp:>5}{fn:>5}{p:>11.3f}{r:>8.3f}{f:>7.3f}")
    print()
    speed_m, speed_b = results["matcher"][2], results["keyword baseline"][2]
    print(
        f"throughput: matcher {speed_m:,.0f} items/s, keyword baseline {speed_b:,.0f} items/s "
        f"(ratio {speed_m / speed_b:.3f})"
    )

    if args.by_outlet and args.set == "topics":
        print(f"\nper outlet (matcher; outlets with at least 20 scored items), F1 {' / '.join(TOPICS)}:")
        outlets: dict[str, list[dict]] = {}
        for item in items:
            outlets.setdefault(item["outlet"], []).append(item)
        for outlet, mine in sorted(outlets.items(), key=lambda kv: -len(kv[1])):
            if len(mine) < 20:
                continue
            counts = score(mine, classify)[0]
            f1s = " / ".join(f"{prf(*counts[t])[2]:.3f}" for t in TOPICS)
            positives = " / ".join(str(sum(1 for i in mine if i[t])) for t in TOPICS)
            print(f"  {outlet[:40]:<42}{len(mine):>5} items  positives {positives:<9}  F1 {f1s}")

    if args.errors:
        for topic in TOPICS:
            print(f"\n{topic} errors:")
            for item_id, kind in results["matcher"][1][topic]:
                if kind == "FP":
                    words = ", ".join(dict.fromkeys(w.lower() for w in evidence[item_id].get(topic, [])))
                    print(f"  FP {item_id}: fired on: {words}")
                else:
                    print(f"  FN {item_id}: no rule matched")
    return 0


if __name__ == "__main__":
    sys.exit(main())
