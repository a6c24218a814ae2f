"""Build specter_desk/data/demo_candidates.jsonl.gz: the demo's offline candidate pool.

Real records of bib-dedupe's digital_work set (MIT) that are not in the demo library: records
without an abstract (the demo library holds those with one) whose gold duplicate group has no
demo library record, one record per group, a fixed sample of SIZE by a hash of the record ID.

    python packaging/build-demo-candidates.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
from pathlib import Path

SIZE = 600
ROOT = Path(__file__).resolve().parent.parent
TYPES = {"article": "journalArticle", "inproceedings": "conferencePaper", "book": "book"}


def creators(text: str) -> list[dict[str, str]]:
    people = []
    for name in (text or "").split(" and "):
        last, _, first = name.partition(",")
        if last.strip():
            people.append(
                {"creatorType": "author", "lastName": last.strip(), "firstName": first.strip()}
            )
    return people


def record(row: dict[str, str]) -> dict:
    value = {k: v for k, v in row.items() if v and v != "UNKNOWN"}
    out = {
        "key": value["ID"],
        "item_type": TYPES.get(value.get("ENTRYTYPE", ""), "journalArticle"),
        "title": value["title"],
        "doi": value.get("doi"),
        "year": value.get("year"),
        "creators": creators(value.get("author", "")),
        "venue": value.get("journal") or value.get("booktitle"),
    }
    return {k: v for k, v in out.items() if v}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    folder = args.data / "dedup" / "bib_dedupe" / "digital_work"
    with gzip.open(ROOT / "specter_desk" / "data" / "demo_library.jsonl.gz", "rt") as lines:
        library = {json.loads(line)["key"] for line in lines}
    with open(folder / "merged_record_ids.csv", newline="", encoding="utf-8") as handle:
        groups = [row["merged_ids"].split(";") for row in csv.DictReader(handle)]
    group_of = {key: i for i, keys in enumerate(groups) for key in keys}
    owned = {group_of[key] for key in library if key in group_of}
    seen_groups: set[int] = set()
    eligible = []
    with open(folder / "records_pre_merged.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = row["ID"]
            if key in library or row.get("abstract") not in ("", "UNKNOWN", None):
                continue
            group = group_of.get(key)
            if group is not None and (group in owned or group in seen_groups):
                continue
            if group is not None:
                seen_groups.add(group)
            if row.get("title") and row["title"] != "UNKNOWN":
                eligible.append(row)
    eligible.sort(key=lambda row: hashlib.sha256(row["ID"].encode()).hexdigest())
    chosen = sorted(eligible[:SIZE], key=lambda row: row["ID"])
    target = ROOT / "specter_desk" / "data" / "demo_candidates.jsonl.gz"
    with gzip.GzipFile(target, "wb", mtime=0) as raw:
        for row in chosen:
            raw.write((json.dumps(record(row), ensure_ascii=False) + "\n").encode())
    print(f"{target.name}: {len(chosen)} of {len(eligible)} eligible records")


if __name__ == "__main__":
    main()
