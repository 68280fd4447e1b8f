"""Fit the story clusterer's pair scorer: logistic regression on one half of the labelled pairs.

    .venv/bin/python bench/train_story_scorer.py [--pairs v1|v2] [--train even|odd|all] [--ridge 1.0]
                                                 [--write | --out FILE]

Streams the 2022 corpus (`../shared/corpus/news-2022.jsonl.gz`) through a `StoryClusterer` so every item
sees the window (and so the IDF) it would see in the daemon; when the later item of a labelled pair in
`bench/data/story_pairs.tsv` (`--pairs v2`: `story_pairs_v2.tsv`) arrives, `StoryClusterer.pair_features` gives that pair's features against
the earlier one (pairs more than a window apart have none: the clusterer never compares them directly).
The weights are fitted by Newton's method (IRLS) on standardised features with an L2 penalty, rounded to
four decimals, printed, and scored as a pair classifier on the training half (`--train`: even, the
default, or odd) and the other one (with `--train all`, on both halves, neither held out). With `--out
FILE` they are written there (to cross-validate the clustering: fit on one half, cluster with
`StoryClusterer(weights=load_weights(FILE))`, score the other half). With `--write` they replace the scorer's weights file, `monitor/stories/data/scorer_weights.json`, with
their provenance (pairs, ridge, date); without it nothing is written. The clustering figures, which also
depend on how pairs chain into stories, come from `bench/stories.py`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.stories import CORPUS, PAIRS, PAIRS_V2, load_pairs, records  # noqa: E402
from monitor.stories.clusterer import ClusterParams, StoryClusterer, doc_from_record  # noqa: E402
from monitor.stories.scorer import FEATURES, WEIGHTS_FILE, Weights  # noqa: E402


def pair_features(pairs: list[tuple[str, str, int]]) -> dict[int, list[float]]:
    """Pair number -> features of its later item against its earlier one, when both share a window."""
    wanted = {pair[0] for pair in pairs} | {pair[1] for pair in pairs}
    by_item: dict[str, list[int]] = {}
    for number, (a, b, _label) in enumerate(pairs):
        by_item.setdefault(a, []).append(number)
        by_item.setdefault(b, []).append(number)
    seen: set[str] = set()
    found: dict[int, list[float]] = {}
    # The window, and so the features, do not depend on the weights: none are needed to refit them.
    clusterer = StoryClusterer(ClusterParams(), Weights(0.0, (0.0,) * len(FEATURES)))
    for record in records(None):
        doc = doc_from_record(record)
        if doc.id in wanted:
            for number in by_item[doc.id]:
                a, b, _label = pairs[number]
                other = b if a == doc.id else a
                if other in seen and other != doc.id:
                    features = clusterer.pair_features(doc, other)
                    if features is not None:
                        found[number] = features
            seen.add(doc.id)
        clusterer.assign(doc)
    return found


def solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the system is small and positive definite)."""
    n = len(vector)
    rows = [[*row, value] for row, value in zip(matrix, vector, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(n):
            if r != col and rows[r][col]:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [x - factor * y for x, y in zip(rows[r], rows[col], strict=True)]
    return [rows[i][n] / rows[i][i] for i in range(n)]


def fit(xs: list[list[float]], ys: list[int], ridge: float) -> tuple[float, ...]:
    """Logistic regression weights (bias first) in the units of the raw features."""
    k = len(xs[0])
    means = [sum(x[j] for x in xs) / len(xs) for j in range(k)]
    scales = [math.sqrt(sum((x[j] - means[j]) ** 2 for x in xs) / len(xs)) or 1.0 for j in range(k)]
    zs = [[1.0] + [(x[j] - means[j]) / scales[j] for j in range(k)] for x in xs]
    w = [0.0] * (k + 1)
    for _ in range(50):
        grad = [ridge * w[j] if j else 0.0 for j in range(k + 1)]
        hess = [[(ridge if i == j and i else 0.0) for j in range(k + 1)] for i in range(k + 1)]
        for z, y in zip(zs, ys, strict=True):
            p = 1.0 / (1.0 + math.exp(-sum(a * b for a, b in zip(w, z, strict=True))))
            for i in range(k + 1):
                grad[i] += (p - y) * z[i]
                for j in range(k + 1):
                    hess[i][j] += p * (1 - p) * z[i] * z[j]
        step = solve(hess, grad)
        w = [a - b for a, b in zip(w, step, strict=True)]
        if max(abs(s) for s in step) < 1e-9:
            break
    raw = [w[j + 1] / scales[j] for j in range(k)]
    bias = w[0] - sum(r * m for r, m in zip(raw, means, strict=True))
    return (bias, *raw)


def report(name: str, rows: list[tuple[list[float], int]], weights: tuple[float, ...]) -> None:
    tp = fp = fn = tn = 0
    for x, y in rows:
        same = weights[0] + sum(a * b for a, b in zip(weights[1:], x, strict=True)) >= 0
        tp, fp, fn, tn = (
            tp + (same and y),
            fp + (same and not y),
            fn + (not same and y),
            tn + (not same and not y),
        )
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    print(f"{name:24} precision {precision:.3f} recall {recall:.3f}  tp {tp} fp {fp} fn {fn} tn {tn}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ridge", type=float, default=1.0, help="L2 penalty on standardised weights")
    parser.add_argument("--pairs", choices=("v1", "v2"), default="v1", help="which labelled pairs")
    parser.add_argument(
        "--train", choices=("even", "odd", "all"), default="even", help="which pairs to fit on"
    )
    parser.add_argument("--write", action="store_true", help=f"write the weights to {WEIGHTS_FILE}")
    parser.add_argument("--out", type=Path, default=None, help="write the weights to this file instead")
    args = parser.parse_args()
    if not CORPUS.is_file():
        print(f"skipped: {CORPUS} is absent (it lives in ../shared, next to the repository)")
        return 0
    source = PAIRS_V2 if args.pairs == "v2" else PAIRS
    pairs = [(a, b, label) for a, b, label, _stratum in load_pairs(source)]
    features = pair_features(pairs)
    halves = {"even": (0,), "odd": (1,), "all": (0, 1)}[args.train]
    even = [(features[n], pairs[n][2]) for n in sorted(features) if n % 2 in halves]
    odd = [(features[n], pairs[n][2]) for n in sorted(features) if n % 2 not in halves]
    print(f"pairs with both items in one window: {len(even)} to train on ({args.train}), {len(odd)} held out, "
          f"of {len(pairs)} in {source.name}")  # fmt: skip
    weights = tuple(float(f"{w:.4f}") for w in fit([x for x, _ in even], [y for _, y in even], args.ridge))
    print(
        "weights: "
        + ", ".join(f"{name} {w:.4f}" for name, w in zip(("bias", *FEATURES), weights, strict=True))
    )
    print("as a pair classifier (logit >= 0), pairs a window apart left out:")
    report(f"  {args.train} pairs (train)", even, weights)
    if odd:
        report("  the others (held out)", odd, weights)
    if args.write or args.out:
        provenance = {
            "trained_by": f"bench/train_story_scorer.py --pairs {args.pairs} --train {args.train} "
            f"--ridge {args.ridge}",
            "trained_on": f"the {len(even)} {args.train} pairs of bench/data/{source.name} with both items "
            f"in one window ({len(odd)} held out, {len(pairs)} pairs in all)",
            "corpus": "../shared/corpus/news-2022.jsonl.gz",
            "date": datetime.now(UTC).date().isoformat(),
        }
        scorer = Weights(weights[0], weights[1:], provenance)
        target = args.out or WEIGHTS_FILE
        target.write_text(json.dumps(scorer.as_json(), indent=2) + "\n", encoding="utf-8")
        print(f"written to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
