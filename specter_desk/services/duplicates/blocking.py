"""Candidate pairs from blocking keys and MinHash bands, never all pairs.

Exact keys (identifiers, title, its first and last characters, its rarest words, an
abbreviation-aware title key, authors with a page or a year) find clean duplicates; MinHash
bands over character 3-grams of the title, and of the authors' surnames with the venue, find
records whose titles are abbreviated, truncated or garbled. Every block contributes a bounded
number of partners per record (all pairs in a small block, a window over sorted titles in a
large one), so candidate pairs grow linearly with the number of records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from .minhash import lsh_buckets, signatures
from .records import Record

MAX_BLOCK = 64  # larger key blocks are compared within a sliding window over sorted titles
WINDOW = 8
MAX_BUCKET = 16  # larger MinHash buckets (common n-grams) get the window too
_AFFIX = 24  # characters of the title (spaces removed) in the prefix and suffix keys
# Bands x rows: two titles meet with probability 1 - (1 - J**rows)**bands: 0.64 at Jaccard 0.5,
# 0.99 at 0.7 for the title; the authors + venue string needs more (0.38 at 0.7, 0.91 at 0.85).
TITLE_BANDS, TITLE_ROWS = 16, 4
PEOPLE_BANDS, PEOPLE_ROWS = 6, 5
PEOPLE_BUCKET = 8  # a larger group with one set of authors in one venue is a prolific team
COMMON_NGRAMS = 0.05  # n-grams in more than 5% of the records ('the', 'ion') are left out
_STOP = frozenset({"a", "an", "the", "of", "and", "for", "in", "on", "to", "with", "at", "by"})


def abbreviation_key(record: Record) -> str:
    """First three letters of the first six content words: 'Int. Conf. Data Eng.' and
    'International Conference on Data Engineering' share 'int con dat eng'."""
    words = [w[:3] for w in record.title.split() if w not in _STOP and not w.isdigit()]
    return " ".join(words[:6]) if len(words) >= 4 else ""


def blocking_keys(record: Record, rare: list[str] | None = None) -> Iterator[str]:
    """The exact-key blocks a record falls into."""
    paper = record.paper
    if paper.doi:
        yield "doi:" + paper.doi
    if paper.arxiv_id:
        yield "arxiv:" + paper.arxiv_id
    if paper.pmid:
        yield "pmid:" + paper.pmid
    if paper.isbn and record.family == "book":
        yield "isbn:" + paper.isbn
    compact = record.title.replace(" ", "")
    if len(compact) >= 8:
        yield "t:" + compact
        if len(compact) > _AFFIX:
            yield "tp:" + compact[:_AFFIX]
            yield "ts:" + compact[-_AFFIX:]
    abbreviated = abbreviation_key(record)
    if abbreviated:
        yield "ab:" + abbreviated
    if rare:
        yield "tr:" + " ".join(sorted(rare))
    surnames = sorted({s for s in record.surnames if len(s) >= 2})
    if record.page:
        for surname in record.surnames[:3]:  # any of the first authors: order may differ
            yield f"ap:{surname}|{record.page}"
    if len(surnames) >= 2 and record.year:
        yield f"ay:{'|'.join(surnames[:6])}|{record.year}"


def rare_tokens(records: list[Record], count: int = 2) -> list[list[str]]:
    """For each record, its `count` rarest title words of 4+ letters (by document frequency)."""
    frequency: Counter[str] = Counter()
    for record in records:
        frequency.update(t for t in record.tokens if len(t) >= 4)
    result = []
    for record in records:
        words = sorted((t for t in record.tokens if len(t) >= 4), key=lambda t: (frequency[t], t))
        result.append(words[:count] if len(words) >= count + 2 else [])
    return result


def _block_pairs(
    members: list[int], records: list[Record], limit: int = MAX_BLOCK
) -> Iterator[tuple[int, int]]:
    if len(members) <= limit:
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                yield (i, j) if i < j else (j, i)
        return
    ordered = sorted(members, key=lambda i: records[i].title)
    for x, i in enumerate(ordered):
        for j in ordered[x + 1 : x + 1 + WINDOW]:
            yield (i, j) if i < j else (j, i)


def people_text(record: Record) -> str:
    """Surnames (sorted: author order does not matter) and the venue, for MinHash."""
    surnames = " ".join(sorted(set(record.surnames)))
    if not surnames:
        return ""
    return f"{surnames} {record.venues[0] if record.venues else ''}".strip()


def minhash_pairs(records: list[Record]) -> set[tuple[int, int]]:
    """Pairs that share a MinHash band of title 3-grams or of surname + venue 3-grams."""
    pairs: set[tuple[int, int]] = set()
    for texts, bands, rows, largest in (
        ([r.title for r in records], TITLE_BANDS, TITLE_ROWS, None),
        ([people_text(r) for r in records], PEOPLE_BANDS, PEOPLE_ROWS, PEOPLE_BUCKET),
    ):
        sig = signatures(texts, bands * rows, common=COMMON_NGRAMS)
        for bucket in lsh_buckets(sig, bands, rows):
            if largest is None or len(bucket) <= largest:
                pairs.update(_block_pairs(bucket.tolist(), records, MAX_BUCKET))
    return pairs


def candidate_pairs(
    records: list[Record], *, extra: Iterable[tuple[int, int]] = (), minhash: bool = True
) -> set[tuple[int, int]]:
    """Index pairs (i < j) worth scoring (minhash=False: the exact keys alone, to compare)."""
    first: dict[str, int] = {}  # most keys belong to one record: no list for them
    blocks: dict[str, list[int]] = {}
    for i, (record, rare) in enumerate(zip(records, rare_tokens(records), strict=True)):
        for key in set(blocking_keys(record, rare)):  # two authors may share a surname
            if key in first:
                blocks.setdefault(key, [first[key]]).append(i)
            else:
                first[key] = i
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        pairs.update(_block_pairs(members, records))
    if minhash and len(records) > 1:
        pairs |= minhash_pairs(records)
    pairs.update((i, j) if i < j else (j, i) for i, j in extra if i != j)
    return pairs
