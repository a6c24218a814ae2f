"""Dirty citation strings: does blocking still pair them, and does scoring still match them?

    python benchmarks/dirty_duplicates.py [--data ../shared/data] [--copies 1500] [--seed 4]

The labelled bib-dedupe sets are clean exports: exact blocking keys already pair every gold
pair there, so they cannot show what character n-gram (MinHash) blocks add. This benchmark
takes the real digital_work records and adds, for `--copies` of them, a dirty copy written the
way citation strings get garbled (seeded, documented in `dirty_title` / `dirty_authors`):
words abbreviated ('Inf.') or dropped, one-letter typos, titles cut short, a citation tail
('In Proc. of the Intl. Conf.'), authors reduced to two surnames with initials, sometimes
misspelt, no venue, no DOI. Each copy joins its original's gold group. Reported, with exact
keys only and with the MinHash blocks, in the same run: pair completeness on the dirty pairs,
candidate pairs per record, and pairwise precision / recall of the duplicates offered.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import add_data_option  # noqa: E402  (also puts the repository on sys.path)
from quality_duplicates import (  # noqa: E402
    blocking_figures,
    cluster_pairs,
    fmt,
    load_set,
    pairs_of,
    prf,
)

from specter_desk.models import Paper  # noqa: E402
from specter_desk.services.duplicates import build_records  # noqa: E402
from specter_desk.services.duplicates.blocking import candidate_pairs  # noqa: E402
from specter_desk.services.duplicates.detector import score_pairs  # noqa: E402

TAIL = ["In", "Proc.", "of", "the", "Intl.", "Conf."]


def dirty_title(title: str, rng: random.Random) -> str:
    """Per word: 12% abbreviated to 3-5 letters and a period, 6% dropped, 8% one-letter typo;
    then 25% cut to 70% of the words, 25% a citation tail appended."""
    words = []
    for word in title.split():
        r = rng.random()
        if r < 0.12 and len(word) > 5:
            words.append(word[: rng.randint(3, 5)] + ".")
        elif r < 0.18:
            continue
        elif r < 0.26 and len(word) > 3:
            at = rng.randrange(len(word))
            words.append(word[:at] + rng.choice("aeiourstn") + word[at + 1 :])
        else:
            words.append(word)
    if rng.random() < 0.25:
        words = words[: max(4, int(len(words) * 0.7))]
    if rng.random() < 0.25:
        words += TAIL
    return " ".join(words)


def dirty_authors(creators: list[dict], rng: random.Random) -> list[dict]:
    """The first two authors, initials only; 20% of them get a one-letter typo in the surname."""
    out = []
    for c in creators[:2]:
        last = c.get("lastName") or c.get("name") or ""
        if rng.random() < 0.2 and len(last) > 4:
            at = rng.randrange(1, len(last))
            last = last[:at] + rng.choice("aeiou") + last[at + 1 :]
        out.append({"lastName": last, "firstName": (c.get("firstName") or "")[:1]})
    return out


def dirty_set(papers: list[Paper], groups: list[list[str]], copies: int, seed: int):
    """The papers plus dirty copies of `copies` of them (5+ title words), groups extended."""
    rng = random.Random(seed)
    chosen = [p for p in papers if len(p.title.split()) >= 5 and p.creators]
    chosen = rng.sample(chosen, min(copies, len(chosen)))
    group_of = {k: i for i, g in enumerate(groups) for k in g}
    groups = [list(g) for g in groups]
    extra = []
    for n, original in enumerate(chosen):
        copy = Paper(
            key=f"dirty{n:05d}",
            title=dirty_title(original.title, rng),
            creators=dirty_authors(original.creators, rng),
            year=original.year,
            item_type=original.item_type,
            library="bench",
        )
        extra.append(copy)
        if original.key in group_of:
            groups[group_of[original.key]].append(copy.key)
        else:
            group_of[original.key] = len(groups)
            groups.append([original.key, copy.key])
    return papers + extra, groups, {(o.key, c.key) for o, c in zip(chosen, extra, strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_option(parser)
    parser.add_argument("--copies", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--min-score", type=float, default=0.9)
    args = parser.parse_args()
    papers, groups = load_set(Path(args.data) / "dedup" / "bib_dedupe" / "digital_work")
    papers, groups, dirty_pairs = dirty_set(papers, groups, args.copies, args.seed)
    gold = pairs_of(groups)
    dirty_gold = {(min(a, b), max(a, b)) for a, b in dirty_pairs}
    print(
        f"{len(papers):,} records ({args.copies:,} dirty copies), {len(gold):,} gold pairs, "
        f"{len(dirty_gold):,} of them original-dirty pairs; seed {args.seed}\n"
    )
    print(
        "| blocking | candidate pairs / record | max | dirty pairs blocked | all gold blocked "
        "| pairwise P | R | F1 | dirty pairs found | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    records = build_records(papers)
    for label, minhash in (("exact keys only", False), ("exact keys + MinHash", True)):
        start = time.perf_counter()
        try:
            pairs = candidate_pairs(records, minhash=minhash)
        except TypeError:  # a build before MinHash blocking (issue 20): one row, its own keys
            if minhash:
                break
            label, pairs = "this build's blocking", candidate_pairs(records)
        scored = score_pairs(records, pairs)
        clusters = cluster_pairs(records, scored, args.min_score)
        seconds = time.perf_counter() - start
        found = pairs_of([c.keys for c in clusters])
        completeness, per_record, most = blocking_figures(records, pairs, gold)
        dirty_blocked, _, _ = blocking_figures(records, pairs, dirty_gold)
        print(
            f"| {label} | {per_record:.2f} | {most} | {dirty_blocked:.3f} | {completeness:.3f} | "
            f"{fmt(*prf(found, gold))} | {len(found & dirty_gold) / len(dirty_gold):.3f} | "
            f"{seconds:.1f} |"
        )


if __name__ == "__main__":
    main()
