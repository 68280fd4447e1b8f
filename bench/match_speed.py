"""Matcher throughput on real news text, beside naive baselines run in the same process.

    .venv/bin/python bench/match_speed.py [--items N] [--corpus PATH] [--seed S]

Items are title + description from ../shared/corpus/news-2022.jsonl.gz (skipped, exit 0, when absent).
Packs: the default pack (config/monitor.yaml), and generated packs of 100, 1,000 and 10,000 watches whose
entities are alias sets built at run time from capitalised names in the corpus titles, whose topics are
conflict vocabulary written below, and whose watches mix @entities, #topics, NEAR/n, NOT, phrases and
wildcards. For each: compile time, items/s on one core (CPU time of a single pass over the items, caches
cold at the start), the memory the compiled pack holds (tracemalloc) and the process's peak RSS; beside it:

- default pack: the same matcher with the presearch off (every rule evaluated on every item);
- generated packs: the naive baseline, one compiled regex per watch (an alternation of its words, entity
  aliases and topic words) searched item by item in a loop. It is cheaper than real evaluation (it only
  says whether any word of the watch occurs), so the ratio understates the gain. The big packs run it on
  a sample (its size is printed) and items/s is extrapolated from that sample.

A benchmark, not a test: it prints figures and ratios.
"""

from __future__ import annotations

import argparse
import collections
import gc
import gzip
import json
import random
import re
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.config import load_config  # noqa: E402
from monitor.match import Matcher  # noqa: E402
from monitor.match.rules import EntitySpec, RulePack, TopicSpec, WatchSpec  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "news-2022.jsonl.gz"
Item = tuple[str, str]

# Conflict and world-news vocabulary for generated topics (written for this benchmark).
TOPIC_WORDS: dict[str, list[str]] = {
    "ceasefire": ["cease-fire", "truce", "armistice", '"cessation of hostilities"', '"humanitarian pause"'],
    "escalation": ["shelli*", "airstrike*", '"martial law"', "mobilis*", "offensive", "invasion", "bombard*"],
    "casualties": ["killed", "wounded", "casualties", '"death toll"', "injured", "dead"],
    "diplomacy": ["talks", "negotiat*", "summit", "envoy", "mediat*", '"peace deal"', "diplomat*"],
    "sanctions": ["sanction*", "embargo", '"export ban"', '"asset freeze"', "blacklist*"],
    "protest": ["protest*", "demonstrat*", "rally", "riot*", '"tear gas"', "crackdown"],
    "refugees": ["refugee*", "displaced", "evacuat*", "asylum", "migrants", '"humanitarian corridor"'],
    "nuclear": ["nuclear", "uranium", "enrichment", "warhead*", '"power plant"', "radiation"],
    "terror": ["terror*", "bomber", "hostage*", "kidnap*", "extremist*", "jihadist*"],
    "election": ["election*", "ballot*", "vote", "referendum", "poll*", "candidate*"],
    "military": ["troops", "soldiers", "army", "tanks", "artillery", "missile*", "drone*", "warship*"],
    "cyber": ["hack*", "cyberattack*", "ransomware", "malware", '"data breach"'],
}
TERMS = [w for words in TOPIC_WORDS.values() for w in words]
STOP = {
    "The",
    "A",
    "An",
    "In",
    "On",
    "At",
    "For",
    "And",
    "Of",
    "To",
    "As",
    "After",
    "How",
    "Why",
    "What",
    "Who",
}


def load_items(path: Path, limit: int) -> list[Item]:
    items: list[Item] = []
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        for line in stream:
            record = json.loads(line)
            items.append((record.get("title") or "", record.get("description") or ""))
            if len(items) >= limit:
                break
    return items


def corpus_names(items: list[Item], wanted: int) -> list[list[str]]:
    """Alias sets of proper names found in the corpus: words (or two-word names) that are capitalised
    mid-sentence in the descriptions nearly every time they occur; names sharing their first 5 letters
    (Ukraine, Ukrainian) form one entity, the most frequent first."""
    capital: collections.Counter[str] = collections.Counter()
    lower: collections.Counter[str] = collections.Counter()
    pairs: collections.Counter[str] = collections.Counter()
    for _, summary in items:
        for sentence in re.split(r"[.!?]\s+", summary):
            words = re.findall(r"[A-Za-z]{3,}", sentence)[1:]  # the first word is capitalised anyway
            for word in words:
                (capital if word[0].isupper() else lower)[word.lower()] += 1
            pairs.update(
                f"{a} {b}" for a, b in re.findall(r"(?<=\s)([A-Z][a-z]{2,}) ([A-Z][a-z]{2,})", sentence)
            )
    names = [w for w, n in capital.most_common() if n >= 3 and lower[w] * 20 < n and w.title() not in STOP]
    names = [w.title() for w in names] + [p for p, n in pairs.most_common() if n >= 3]
    groups: dict[str, list[str]] = {}
    for name in names:
        group = groups.setdefault(name[:5].lower(), [])
        if len(group) < 4:
            group.append(name)
    return list(groups.values())[:wanted]


def generated_pack(n_watches: int, names: list[list[str]], rng: random.Random) -> RulePack:
    entities = {
        f"e{i}": EntitySpec(aliases=aliases) for i, aliases in enumerate(names[: max(50, n_watches // 2)])
    }
    keys = list(entities)
    topics = {name: TopicSpec(query=" OR ".join(words)) for name, words in TOPIC_WORDS.items()}
    topic_names = list(topics)
    watches = []
    for i in range(n_watches):
        a, b, c = rng.sample(keys, 3)
        t1, t2 = rng.sample(topic_names, 2)
        w1, w2, w3 = rng.sample(TERMS, 3)
        shape = i % 6
        if shape == 0:
            query, on = f"@{a} AND (#{t1} OR #{t2})", [t1, t2]
        elif shape == 1:
            query, on = f"(@{a} OR @{b}) NEAR/10 ({w1} OR {w2})", []
        elif shape == 2:
            query, on = f"@{a} AND ({w1} OR {w2}) NOT @{c}", [t1]
        elif shape == 3:
            query, on = f"title:@{a} AND #{t1}", []
        elif shape == 4:
            query, on = f"{w1} NEAR/5 {w2} AND (@{a} OR @{b} OR @{c})", []
        else:
            query, on = f"@{a} AND @{b} AND ({w3} OR #{t1})", [t1, t2]
        watches.append(WatchSpec(name=f"w{i}", query=query, topics=on))
    return RulePack(entities=entities, topics=topics, watches=watches)


def naive_regexes(pack: RulePack) -> list[re.Pattern[str]]:
    """One case-insensitive regex per watch: any of its words, entity aliases or topic words, whole-word."""

    def words_of(query: str) -> list[str]:
        out: list[str] = []
        for token in re.findall(r'"[^"]+"|[@#]?[\w*=-]+', query):
            if token in ("AND", "OR", "NOT") or token.startswith("NEAR"):
                continue
            if token.startswith("@"):
                out.extend(re.escape(alias) for alias in pack.entities[token[1:]].aliases)
            elif token.startswith("#"):
                out.extend(words_of(pack.topics[token[1:]].query))
            else:
                text = token.strip('"').lstrip("=").split(":")[-1]
                out.append(r"\W+".join(re.escape(w).replace(r"\*", r"\w*") for w in text.split()))
        return out

    return [re.compile(r"\b(?:" + "|".join(words_of(w.query)) + r")\b", re.IGNORECASE) for w in pack.watches]


def rate(items: list[Item], step: Callable[[str, str], object]) -> float:
    """Items per second of this process's CPU time: one core's throughput, robust to a busy machine."""
    gc.collect()
    start = time.process_time()
    for title, summary in items:
        step(title, summary)
    return len(items) / (time.process_time() - start)


def compiled(pack: RulePack, *, presearch: bool = True) -> tuple[Matcher, float, float]:
    """(matcher, compile seconds, MB held by the compiled matcher) — compiled twice: timed, then traced."""
    gc.collect()
    start = time.perf_counter()
    matcher = Matcher.compile(pack, presearch=presearch)
    seconds = time.perf_counter() - start
    del matcher
    gc.collect()
    tracemalloc.start()
    matcher = Matcher.compile(pack, presearch=presearch)
    held = tracemalloc.get_traced_memory()[0] / 1e6
    tracemalloc.stop()
    return matcher, seconds, held


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(rows: Iterator[str]) -> None:
    for row in rows:
        print(row, flush=True)


def run(args: argparse.Namespace) -> Iterator[str]:
    items = load_items(args.corpus, args.items)
    yield f"corpus: {args.corpus.name}, {len(items):,} items (title + description), seed {args.seed}"
    yield f"peak RSS after loading the items: {peak_rss_mb():.0f} MB"

    pack = load_config(ROOT / "config" / "monitor.yaml").rules
    matcher, seconds, held = compiled(pack)
    yield (
        f"\ndefault pack: {len(pack.entities)} entities, {len(pack.topics)} topics, {len(pack.watches)} "
        f"watches; compile {seconds * 1000:.0f} ms, compiled pack {held:.1f} MB"
    )

    def step(m: Matcher) -> Callable[[str, str], object]:
        return lambda title, summary: m.match(title=title, summary=summary)

    cold = rate(items, step(matcher))
    warm = rate(items, step(matcher))
    full, _, _ = compiled(pack, presearch=False)
    sample = items[: min(len(items), 20_000)]
    rate(sample, step(full))  # warm its word cache too: compare evaluation, not first-time stemming
    baseline = rate(sample, step(full))
    same = rate(sample, step(matcher))
    yield f"  presearch: {cold:,.0f} items/s first pass, {warm:,.0f} items/s second pass (warm caches)"
    yield (
        f"  on the first {len(sample):,} items, warm: presearch {same:,.0f} items/s, baseline with every rule "
        f"evaluated on every item {baseline:,.0f} items/s; ratio {same / baseline:.1f}x"
    )
    yield f"  peak RSS so far: {peak_rss_mb():.0f} MB"

    rng = random.Random(args.seed)
    names = corpus_names(items, 6000)
    yield f"\ngenerated packs: {len(names):,} entity alias sets from capitalised names in the titles"
    for n_watches in (100, 1_000, 10_000):
        gen = generated_pack(n_watches, names, rng)
        matcher, seconds, held = compiled(gen)
        got = rate(items, step(matcher))
        regexes = naive_regexes(gen)
        naive_sample = items[: max(100, min(len(items), 2_000_000 // n_watches))]

        def naive(title: str, summary: str, regexes: list[re.Pattern[str]] = regexes) -> list[int]:
            text = f"{title}\n{summary}"
            return [i for i, rx in enumerate(regexes) if rx.search(text)]

        naive_rate = rate(naive_sample, naive)
        yield (
            f"{n_watches:>6,} watches ({len(gen.entities):,} entities, {len(gen.topics)} topics): compile "
            f"{seconds:.2f} s, compiled pack {held:.1f} MB, {got:,.0f} items/s; naive regex per watch "
            f"{naive_rate:,.1f} items/s (sample {len(naive_sample):,} items); ratio {got / naive_rate:,.0f}x; "
            f"peak RSS {peak_rss_mb():.0f} MB"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000, help="items to read from the corpus")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--seed", type=int, default=20220101)
    args = parser.parse_args()
    if not args.corpus.is_file():
        print(f"skipped: corpus not found at {args.corpus} (../shared is absent)")
        return 0
    report(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
