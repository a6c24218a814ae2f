"""A small library made from the recorded Donners works, and clients pointed at the fake."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

from fake_citations import FIXTURES, FakeCitations, load_json

from specter_desk.models import Paper, Work, split_author
from specter_desk.services.citations.fetch import CitationSettings, Sources
from specter_desk.sync.crossref import Crossref
from specter_desk.sync.openalex import OpenAlex, parse_work
from specter_desk.sync.semanticscholar import SemanticScholar

# "today" for the recorded works (published up to 2021): the citing pool's window ends here
NOW = datetime(2021, 6, 1, tzinfo=UTC)
UNKNOWN_DOI = "10.9999/nobody.indexed.this"
CROSSREF_ONLY_DOI = "10.1371/journal.pone.0033693"


def donners_works() -> list[Work]:
    """The 30 recorded Donners works, parsed (the first 15 are the review's included studies)."""
    return [parse_work(w) for w in load_json(FIXTURES / "openalex" / "donners_works.json.gz")]


def included_ids() -> set[str]:
    with open(FIXTURES / "openalex" / "donners_labels.csv", newline="") as fh:
        return {
            r["openalex_id"].rsplit("/", 1)[-1]
            for r in csv.DictReader(fh)
            if r["label_included"] == "1"
        }


def paper_of(work: Work, key: str, **fields) -> Paper:
    """A Zotero-like library paper for a work (identifiers can be left out by fields)."""
    data = {
        "key": key,
        "title": work.title,
        "abstract": work.abstract,
        "doi": work.doi,
        "year": work.year,
        "creators": [split_author(a) for a in work.authors[:3]],
        "library": "user:1",
        "date_added": "2021-05-20T10:00:00Z",
    }
    data.update(fields)
    return Paper(**data)


def library_papers() -> list[Paper]:
    """12 included studies found by DOI, one by PMID only, one by title only, one by DOI that
    only Crossref knows, and one that no source knows."""
    works = donners_works()[:15]
    papers = [paper_of(w, f"LIB{i:05d}") for i, w in enumerate(works[:13])]
    papers.append(paper_of(works[13], "PMIDONLY", doi=None, pmid=works[13].pmid))
    papers.append(paper_of(works[14], "TITLEONL", doi=None))
    papers.append(
        Paper(
            key="CROSSREF",
            title="Methylphenidate exposure induces dopamine neuron loss",
            doi=CROSSREF_ONLY_DOI,
            library="user:1",
            year=2012,
        )
    )
    papers.append(
        Paper(key="UNKNOWN1", title="A paper nobody indexed", doi=UNKNOWN_DOI, library="user:1")
    )
    return papers


def settings_for(server: FakeCitations, **changes) -> CitationSettings:
    values = {
        "openalex_url": server.base + "/openalex",
        "crossref_url": server.base + "/crossref",
        "semanticscholar_url": server.base + "/s2",
        "mailto": "tests@example.org",
    }
    values.update(changes)
    return CitationSettings(**values)


def sources_for(server: FakeCitations, *, s2: bool = False, **client) -> Sources:
    """Clients without pacing and with a tiny backoff (the fake answers at once)."""
    client = {"min_interval": 0.0, "backoff": 0.01, **client}
    return Sources(
        OpenAlex.connect(server.base + "/openalex", mailto="tests@example.org", **client),
        Crossref.connect(server.base + "/crossref", **client),
        SemanticScholar.connect(server.base + "/s2", **client) if s2 else None,
    )
