"""Test libraries made of real papers (tests/fixtures; their SOURCE.md files say where from).

- `papers()`: the 60 papers of tests/fixtures/corpus/specter_sample.jsonl (SPECTER's sample
  data: real titles and abstracts, no authors or years), as Zotero connector items.
- `doi_candidates()`: real records with DOIs from tests/fixtures/dedup/digital_work_records.csv
  (bib-dedupe), as specter-desk JSONL for `specter-desk import --as candidates`.
- `duplicate_group()`: one real duplicate group of that data set (records of one work);
  `duplicate_groups(n)`: the next n groups.
- `version_pair(n)`: a real record as a journal article and the same work as a conference
  paper (no DOI, a proceedings title and a conference name: the conference version).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SPECTER_SAMPLE = FIXTURES / "corpus" / "specter_sample.jsonl"
DEDUP = FIXTURES / "dedup"


def papers() -> list[dict[str, Any]]:
    """[{title, abstract}] in file order."""
    rows = [json.loads(line) for line in SPECTER_SAMPLE.read_text().splitlines() if line.strip()]
    return [{"title": r["title"], "abstract": r["abstract"]} for r in rows]


def connector_item(paper: dict[str, Any]) -> dict[str, Any]:
    """A journal article as the connector saves it (translator JSON)."""
    item: dict[str, Any] = {"itemType": paper.get("itemType", "journalArticle")}
    item["title"] = paper["title"]
    if paper.get("abstract"):
        item["abstractNote"] = paper["abstract"]
    for field in ("DOI", "date", "publicationTitle", "proceedingsTitle", "conferenceName"):
        if paper.get(field):
            item[field] = paper[field]
    if paper.get("creators"):
        item["creators"] = paper["creators"]
    if paper.get("tags"):
        item["tags"] = [{"tag": t} for t in paper["tags"]]
    if paper.get("notes"):
        item["notes"] = [{"note": n} for n in paper["notes"]]
    return item


def _creators(authors: str) -> list[dict[str, str]]:
    people = []
    for name in authors.split(" and "):
        last, _, first = name.partition(",")
        people.append(
            {"lastName": last.strip(), "firstName": first.strip(), "creatorType": "author"}
        )
    return people


def _records() -> dict[str, dict[str, str]]:
    with (DEDUP / "digital_work_records.csv").open(newline="") as handle:
        return {row["ID"]: row for row in csv.DictReader(handle)}


def _paper(row: dict[str, str]) -> dict[str, Any]:
    return {
        "title": row["title"],
        "DOI": row["doi"],
        "date": row["year"],
        "publicationTitle": row["journal"] or row["booktitle"],
        "creators": _creators(row["author"]),
    }


def doi_candidates(n: int = 3) -> list[dict[str, Any]]:
    """The first n records with a DOI that are in no duplicate group, as import JSONL rows."""
    grouped = {i for group in _groups() for i in group}
    rows = [r for i, r in _records().items() if r["doi"] and i not in grouped][:n]
    return [
        {
            "key": f"CAND{number:04d}",
            "title": r["title"],
            "doi": r["doi"],
            "year": int(r["year"]),
            "venue": r["journal"],
            "authors": "; ".join(a.strip() for a in r["author"].split(" and ")),
        }
        for number, r in enumerate(rows)
    ]


def _groups() -> list[list[str]]:
    with (DEDUP / "digital_work_groups.csv").open(newline="") as handle:
        return [row["merged_ids"].split(";") for row in csv.DictReader(handle)]


def _doi_groups(size: int) -> list[list[dict[str, str]]]:
    """The real duplicate groups with at least `size` records sharing one DOI (size of each)."""
    records = _records()
    found = []
    for group in _groups():
        rows = [records[i] for i in group if i in records]
        dois = {r["doi"].lower() for r in rows if r["doi"]}
        if len(rows) >= size and len(dois) == 1:
            found.append(rows[:size])
    return found


def duplicate_group(size: int = 3) -> list[dict[str, Any]]:
    """The records of the first real duplicate group with at least `size` records sharing a DOI."""
    groups = _doi_groups(size)
    if not groups:
        raise LookupError(f"no duplicate group of {size} records with one DOI")
    return [_paper(r) for r in groups[0]]


def duplicate_groups(n: int, size: int = 2) -> list[list[dict[str, Any]]]:
    """n real duplicate groups of `size` records sharing a DOI, none of them the group
    duplicate_group() gives (their titles differ from it)."""
    first = duplicate_group()[0]["title"].lower()
    groups = [g for g in _doi_groups(size) if g[0]["title"].lower() != first][:n]
    if len(groups) < n:
        raise LookupError(f"only {len(groups)} duplicate groups of {size} records with one DOI")
    return [[_paper(r) for r in g] for g in groups]


def version_pair(n: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """The n-th real record with a DOI in no duplicate group and a journal, as (journal
    article, conference paper of the same work: no DOI, proceedings title, conference name)."""
    grouped = {i for group in _groups() for i in group}
    rows = [
        r
        for i, r in _records().items()
        if r["doi"] and r["journal"] and r["author"] and r["year"] and i not in grouped
    ]
    article = _paper(rows[-1 - n])
    conference = {k: v for k, v in article.items() if k not in ("DOI", "publicationTitle")}
    year = article["date"]
    conference.update(
        itemType="conferencePaper",
        proceedingsTitle=f"Proceedings of the {year} Intl. Conference on Information Systems",
        conferenceName=f"ICIS {year}",
    )
    return article, conference


def write_jsonl(rows: list[dict[str, Any]], path: Path) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
