"""`citations sync`: fetch the library's citation graph once, keep it in the store, use it offline.

Stages, each committed batch by batch (a failure or a stop loses nothing already stored, and
the next sync skips what is still fresh):
1. match papers to OpenAlex works (match.py); a matched work brings its reference list;
2. Crossref reference lists for papers OpenAlex has no references for (then Semantic Scholar,
   when enabled);
3. details (title, year, authors) of the referenced works, 50 per call; "doi:" placeholders
   from Crossref are folded into the OpenAlex work with that DOI;
4. the works citing each library paper, newest first, up to `cited_by_max` each;
5. the recent ones (`recent_days`) become the candidate pool "new papers citing your library".
Outside works keep only their edges that touch the library's neighbourhood (its papers and
their references): all that co-citation and coupling with the library need, and bounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ...clock import now_iso
from ...config import Config
from ...errors import CitationSourceError
from ...models import CANDIDATE_POOL, LIBRARY_POOL, Paper, Work
from ...store import Store
from ...sync.crossref import Crossref
from ...sync.openalex import OpenAlex
from ...sync.semanticscholar import SemanticScholar
from ...sync.webapi import check_base_url
from ...sync.writer import Stopped
from .match import METHODS, match_basis, match_papers
from .pool import CITING_LIBRARY, refresh_citing_pool

BATCH = 50
FALLBACK_FAILURES = 3  # consecutive Crossref / S2 failures that end the fallback stage
Progress = Callable[[str, int, int], None]


@dataclass
class CitationSettings:
    """The [citations] config section."""

    openalex_url: str = "https://api.openalex.org"
    crossref_url: str = "https://api.crossref.org"
    semanticscholar_url: str = "https://api.semanticscholar.org"
    mailto: str = ""
    openalex_api_key: str = ""
    semantic_scholar: bool = False
    ttl_days: int = 30
    cited_by_max: int = 200
    recent_days: int = 365

    @classmethod
    def from_config(cls, config: Config) -> CitationSettings:
        values = config.values["citations"]
        return cls(**{name: values[name] for name in cls.__dataclass_fields__})


@dataclass
class Sources:
    """The clients a sync talks to (tests and the benchmark build their own)."""

    openalex: OpenAlex
    crossref: Crossref | None = None
    semanticscholar: SemanticScholar | None = None

    @classmethod
    def connect(
        cls,
        settings: CitationSettings,
        *,
        on_wait: Callable[[float, str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> Sources:
        common: dict[str, Any] = {"on_wait": on_wait, "should_stop": should_stop}
        return cls(
            OpenAlex.connect(
                check_base_url(settings.openalex_url, "citations.openalex_url (config.toml)"),
                mailto=settings.mailto,
                api_key=settings.openalex_api_key,
                **common,
            ),
            Crossref.connect(
                check_base_url(settings.crossref_url, "citations.crossref_url (config.toml)"),
                mailto=settings.mailto,
                **common,
            ),
            SemanticScholar.connect(
                check_base_url(
                    settings.semanticscholar_url, "citations.semanticscholar_url (config.toml)"
                ),
                **common,
            )
            if settings.semantic_scholar
            else None,
        )

    def requests(self) -> dict[str, int]:
        clients = {
            "openalex": self.openalex,
            "crossref": self.crossref,
            "semanticscholar": self.semanticscholar,
        }
        return {name: c.api.requests for name, c in clients.items() if c is not None}


@dataclass
class CitationSyncResult:
    """What a citations sync did, and how much of the library is matched to works."""

    items: int = 0
    matched: int = 0
    by_method: dict[str, int] = field(default_factory=dict)
    looked_up: int = 0
    works_fetched: int = 0
    references_fetched: int = 0
    cited_by_fetched: int = 0
    citing_candidates: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    stopped: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def match_rate(self) -> float:
        return round(self.matched / self.items, 4) if self.items else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "matched": self.matched,
            "match_rate": self.match_rate,
            "by_method": self.by_method,
            "looked_up": self.looked_up,
            "works_fetched": self.works_fetched,
            "references_fetched": self.references_fetched,
            "cited_by_fetched": self.cited_by_fetched,
            "citing_candidates": self.citing_candidates,
            "requests": self.requests,
            "seconds": self.seconds,
            "stopped": self.stopped,
            "warnings": self.warnings,
        }


def _stale(stamp: str | None, now: datetime, ttl_days: int) -> bool:
    if not stamp:
        return True
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return now - when >= timedelta(days=ttl_days)


class CitationSync:
    """One run of `citations sync` (see the module doc)."""

    def __init__(
        self,
        store: Store,
        sources: Sources,
        settings: CitationSettings,
        *,
        refresh: bool = False,
        include_candidates: bool = False,
        now: datetime | None = None,
        on_progress: Progress | None = None,
    ):
        self.store = store
        self.sources = sources
        self.settings = settings
        self.refresh = refresh
        self.include_candidates = include_candidates
        self.now = now or datetime.now(UTC)
        self.report = on_progress or (lambda stage, done, total: None)
        self.result = CitationSyncResult()

    def fresh(self, stamp: str | None) -> bool:
        return not self.refresh and not _stale(stamp, self.now, self.settings.ttl_days)

    def run(self) -> CitationSyncResult:
        started = time.perf_counter()
        try:
            papers = self.papers()
            self.match(papers)
            self.fallback_references(papers)
            self.referenced_details()
            self.cited_by()
            self.result.citing_candidates = refresh_citing_pool(
                self.store, self.now, self.settings.recent_days
            )
        except Stopped:
            self.result.stopped = True
        finally:
            self.result.requests = self.sources.requests()
            self.result.seconds = round(time.perf_counter() - started, 2)
        self.count_matches(self.papers())
        return self.result

    # -- 1. matching ------------------------------------------------------------------

    def papers(self) -> list[Paper]:
        """The papers whose citations are wanted: the library (and candidates if asked)."""
        papers = list(self.store.papers(pool=LIBRARY_POOL))
        if self.include_candidates:
            papers += [
                p for p in self.store.papers(pool=CANDIDATE_POOL) if p.library != CITING_LIBRARY
            ]
        return papers

    def match(self, papers: list[Paper]) -> None:
        known = self.store.work_matches(p.key for p in papers)
        todo = [
            p
            for p in papers
            if match_basis(p)
            and not (
                p.key in known
                and known[p.key]["basis"] == match_basis(p)
                and self.fresh(known[p.key]["checked_at"])
            )
        ]
        for start in range(0, len(todo), BATCH):
            self.report("matching papers to OpenAlex works", start, len(todo))
            chunk = todo[start : start + BATCH]
            found = match_papers(self.sources.openalex, chunk)
            stamp = now_iso()
            with self.store.transaction():
                self.save_works([w for w, _ in found.works.values()], stamp)
                self.store.set_matches(
                    [(p.key, *self._match_row(p, found), match_basis(p)) for p in chunk], stamp
                )
            self.result.looked_up += len(chunk)
        self.report("matching papers to OpenAlex works", len(todo), len(todo))

    @staticmethod
    def _match_row(paper: Paper, found) -> tuple[str | None, str]:
        hit = found.works.get(paper.key)
        return (hit[0].id, hit[1]) if hit else (None, "none")

    def save_works(self, works: list[Work], stamp: str, *, anchors: set[str] | None = None) -> None:
        """Store works with their references (all of them, or those among anchors)."""
        self.store.upsert_works(works, stamp)
        for work in works:
            if work.references is None:
                continue
            if anchors is None:
                self.store.set_references(work.id, work.references, work.source, stamp)
                self.store.record_citation_fetch(
                    work.id, "references", work.source, stamp, len(work.references)
                )
            else:
                self.store.add_citations(
                    ((work.id, r) for r in work.references if r in anchors), work.source, stamp
                )
        self.result.works_fetched += len(works)

    def count_matches(self, papers: list[Paper]) -> None:
        matches = self.store.work_matches(p.key for p in papers)
        self.result.items = len(papers)
        by_method = dict.fromkeys(METHODS, 0)
        for row in matches.values():
            if row["work"]:
                by_method[row["matched_by"]] = by_method.get(row["matched_by"], 0) + 1
        self.result.by_method = by_method
        self.result.matched = sum(by_method.values())

    # -- 2. references from Crossref / Semantic Scholar ---------------------------------

    def fallback_references(self, papers: list[Paper]) -> None:
        crossref, s2 = self.sources.crossref, self.sources.semanticscholar
        if crossref is None and s2 is None:
            return
        matches = self.store.work_matches(p.key for p in papers)
        nodes = {
            p.key: (matches.get(p.key) or {}).get("work") or f"doi:{p.doi}" for p in papers if p.doi
        }
        known = self.store.citation_fetches(nodes.values(), "references")
        todo = []
        for paper in papers:
            if paper.key not in nodes:
                continue
            fetched = known.get(nodes[paper.key], {})
            has_refs = any(f["count"] for f in fetched.values())
            tried = [f for s, f in fetched.items() if s in ("crossref", "semanticscholar")]
            if not has_refs and not any(self.fresh(f["fetched_at"]) for f in tried):
                work = (matches.get(paper.key) or {}).get("work")
                todo.append((paper, work))
        failures = 0
        for done, (paper, work) in enumerate(todo):
            self.report("references from Crossref", done, len(todo))
            before = len(self.result.warnings)
            self._fallback_one(paper, work)
            failures = failures + 1 if len(self.result.warnings) > before else 0
            if failures >= FALLBACK_FAILURES:
                self.result.warnings.append(
                    f"the fallback sources failed {failures} times in a row; skipped the other "
                    f"{len(todo) - done - 1} papers (run `specter-desk citations sync` later)"
                )
                break
        self.report("references from Crossref", len(todo), len(todo))

    def _fallback_one(self, paper: Paper, work: str | None) -> None:
        """Crossref's (else Semantic Scholar's) reference list for one paper with a DOI."""
        own: Work | None = None
        refs: list[Work] = []
        source = "crossref"
        failed = False
        if self.sources.crossref is not None:
            found, ok = self._try(paper, self.sources.crossref.work, paper.doi)
            failed |= not ok
            if found is not None:
                own, refs = found.work, found.references
        if not refs and self.sources.semanticscholar is not None:
            listed, ok = self._try(paper, self.sources.semanticscholar.references, paper.doi)
            failed |= not ok
            if listed is not None:
                refs, source = listed, "semanticscholar"
                own = own or Work(
                    id=f"doi:{paper.doi}",
                    title=paper.title,
                    doi=paper.doi,
                    year=paper.year,
                    authors=[paper.first_author] if paper.first_author else [],
                    source="semanticscholar",
                )
        stamp = now_iso()
        if failed and not refs:
            return  # try again next time (the warning says why)
        if work is None and own is None:
            # no source knows the paper: remember the miss until the TTL
            self.store.record_citation_fetch(f"doi:{paper.doi}", "references", source, stamp, 0)
            return
        node = work or own.id
        resolved = self.store.work_ids_with("doi", [w.doi for w in refs if w.doi])
        cited = [resolved.get(w.doi, w.id) if w.doi else w.id for w in refs]
        with self.store.transaction():
            if work is None:
                self.store.upsert_works([own], stamp)
                self.store.set_matches([(paper.key, node, own.source, match_basis(paper))], stamp)
            self.store.upsert_works([w for w in refs if w.doi not in resolved], stamp)
            self.store.set_references(node, cited, source, stamp)
            self.store.record_citation_fetch(node, "references", source, stamp, len(cited))
        self.result.references_fetched += 1

    def _try(self, paper: Paper, call: Callable[[str], Any], doi: str) -> tuple[Any, bool]:
        """(a fallback source's answer, True), or (None, False) with a warning: a fallback
        failing does not stop the sync."""
        try:
            return call(doi), True
        except CitationSourceError as exc:
            self.result.warnings.append(f"{paper.key}: {exc}")
            return None, False

    # -- 3. details of referenced works -------------------------------------------------

    def library_works(self) -> dict[str, str]:
        """{key: work} of the matched library papers (and candidates when included)."""
        matched = self.store.matched_works(LIBRARY_POOL)
        if self.include_candidates:
            matched.update(self.store.matched_works(CANDIDATE_POOL))
        return matched

    def anchors(self) -> set[str]:
        """The library's neighbourhood: its works and what they cite."""
        works = set(self.library_works().values())
        edges = self.store.citation_edges(works)
        return works | {cited for citing, cited in edges if citing in works}

    def referenced_details(self) -> None:
        works = set(self.library_works().values())
        edges = self.store.citation_edges(works)
        referenced = sorted({cited for citing, cited in edges if citing in works})
        ids = [w for w in self.store.unknown_works(referenced) if w.startswith("W")]
        tried = self.store.citation_fetches(
            (r for r in referenced if r.startswith("doi:")), "references"
        )
        placeholders = [
            w.doi
            for w in self.store.get_works(r for r in referenced if r.startswith("doi:")).values()
            if w.doi
            and w.source != "openalex"
            and not self.fresh(tried.get(w.id, {}).get("openalex", {}).get("fetched_at"))
        ]
        total = len(ids) + len(placeholders)
        anchors = works | set(referenced)
        for start in range(0, len(ids), BATCH):
            self.report("details of cited works", start, total)
            chunk = ids[start : start + BATCH]
            found = self.sources.openalex.works("openalex", chunk)
            stamp = now_iso()
            with self.store.transaction():
                self.save_works(found, stamp, anchors=anchors)
                # ids OpenAlex no longer serves (merged works): remember them, ask once
                returned = {w.id for w in found}
                self.store.upsert_works([Work(id=w) for w in chunk if w not in returned], stamp)
        for start in range(0, len(placeholders), BATCH):
            self.report("details of cited works", len(ids) + start, total)
            chunk = placeholders[start : start + BATCH]
            found = self.sources.openalex.works("doi", chunk)
            stamp = now_iso()
            with self.store.transaction():
                self.save_works(found, stamp, anchors=anchors)
                for work in found:
                    self.store.merge_work(f"doi:{work.doi}", work.id)
                returned = {w.doi for w in found}
                for doi in chunk:
                    if doi not in returned:
                        self.store.record_citation_fetch(
                            f"doi:{doi}", "references", "openalex", stamp, 0
                        )
        self.report("details of cited works", total, total)

    # -- 4. works citing the library ----------------------------------------------------

    def cited_by(self) -> None:
        works = sorted(set(self.library_works().values()))
        details = self.store.get_works(works)
        fetched = self.store.citation_fetches(works, "cited_by")
        todo = [
            w
            for w in works
            if w.startswith("W")
            and (details.get(w) and details[w].cited_by_count)
            and not self.fresh(fetched.get(w, {}).get("openalex", {}).get("fetched_at"))
        ]
        anchors = self.anchors()
        for done, work in enumerate(todo):
            self.report("works citing your papers", done, len(todo))
            citing = list(self.sources.openalex.citing([work], limit=self.settings.cited_by_max))
            stamp = now_iso()
            with self.store.transaction():
                self.save_works(citing, stamp, anchors=anchors | {work})
                self.store.add_citations(((c.id, work) for c in citing), "openalex", stamp)
                self.store.record_citation_fetch(
                    work, "cited_by", "openalex", stamp, len(citing), details[work].cited_by_count
                )
            self.result.cited_by_fetched += 1
        self.report("works citing your papers", len(todo), len(todo))


def sync_citations(
    store: Store,
    settings: CitationSettings,
    *,
    sources: Sources | None = None,
    refresh: bool = False,
    include_candidates: bool = False,
    on_progress: Progress | None = None,
    on_wait: Callable[[float, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    now: datetime | None = None,
) -> CitationSyncResult:
    """Fetch citations for the library (see the module doc); returns what was done."""
    sources = sources or Sources.connect(settings, on_wait=on_wait, should_stop=should_stop)
    return CitationSync(
        store,
        sources,
        settings,
        refresh=refresh,
        include_candidates=include_candidates,
        now=now,
        on_progress=on_progress,
    ).run()


def citation_status(store: Store) -> dict[str, Any]:
    """How much of the library is matched, and what the store holds (no network)."""
    items = store.count_papers(pool=LIBRARY_POOL)
    matched = len(store.matched_works(LIBRARY_POOL))
    return {
        "items": items,
        "matched": matched,
        "match_rate": round(matched / items, 4) if items else 0.0,
        **store.citation_counts(),
    }
