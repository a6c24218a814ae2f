"""Candidate pairs from blocking keys (identifiers, title keys, author + page), never all pairs."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator

from .records import Record

MAX_BLOCK = 64  # larger blocks are compared within a sliding window over sorted titles
WINDOW = 8
_AFFIX = 24  # characters of the title (spaces removed) in the prefix and suffix keys


def blocking_keys(record: Record, rare: list[str] | None = None) -> Iterator[str]:
    """The blocks a record falls into."""
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
    if rare:
        yield "tr:" + " ".join(sorted(rare))
    if record.surnames and record.page:
        yield f"ap:{record.surnames[0]}|{record.page}"


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


def _block_pairs(members: list[int], records: list[Record]) -> Iterator[tuple[int, int]]:
    if len(members) <= MAX_BLOCK:
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                yield (i, j) if i < j else (j, i)
        return
    ordered = sorted(members, key=lambda i: records[i].title)
    for x, i in enumerate(ordered):
        for j in ordered[x + 1 : x + 1 + WINDOW]:
            yield (i, j) if i < j else (j, i)


def candidate_pairs(
    records: list[Record],
    *,
    extra: Iterable[tuple[int, int]] = (),
    split: int | None = None,
) -> set[tuple[int, int]]:
    """Index pairs (i < j) worth scoring; with split, only pairs across records[:split] / rest."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, (record, rare) in enumerate(zip(records, rare_tokens(records), strict=True)):
        for key in blocking_keys(record, rare):
            blocks[key].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) > 1:
            pairs.update(_block_pairs(members, records))
    pairs.update((i, j) if i < j else (j, i) for i, j in extra if i != j)
    if split is not None:
        pairs = {(i, j) for i, j in pairs if i < split <= j}
    return pairs
