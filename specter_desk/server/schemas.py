"""The bridge's request and response models: the OpenAPI schema is generated from these."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

# Caps on what one request may ask for (bigger values are refused with 422 bad_request).
MAX_K = 100
MAX_N = 100
MAX_QUERY_CHARS = 2000
MAX_CHECK_ITEMS = 200
MAX_BODY_BYTES = 1 << 20
MAX_CITATION_ROWS = 1000


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ErrorDetail(Model):
    code: str = Field(description="A stable machine-readable code, e.g. unauthorized, not_found.")
    message: str = Field(description="One line for people; never a traceback.")


class ErrorBody(Model):
    """Every error the bridge answers."""

    error: ErrorDetail


class Health(Model):
    status: Literal["ok"]
    version: str


class PaperHit(Model):
    """A paper in results."""

    key: str
    title: str
    year: int | None
    venue: str
    first_author: str
    doi: str | None
    arxiv_id: str | None
    pool: Literal["library", "candidates"]
    score: float


class SyncProgress(Model):
    done: int
    total: int


class SyncResultSummary(Model):
    added: int
    updated: int
    deleted: int
    embedded: int
    seconds: float


class SyncStatus(Model):
    state: Literal["idle", "queued", "running", "failed"]
    library: str | None
    stage: str | None = Field(None, description="fetch, embed, ... while running")
    progress: SyncProgress | None
    started_at: str | None
    finished_at: str | None
    last_result: SyncResultSummary | None
    last_error: ErrorDetail | None


class ModelSwitch(Model):
    model: str = Field(description="the model being switched to (`specter-desk model use`)")
    previous: str = Field(description="the active model, answering until the switch is done")
    embedded: int
    total: int
    started_at: str | None


class CitationStatus(Model):
    """How much of the library `citations sync` matched, and what it stored."""

    items: int
    matched: int
    match_rate: float
    works: int
    edges: dict[str, int] = Field(description="citation links per source")
    matches: dict[str, int] = Field(description="papers per match method (none: not found)")
    last_fetch: str | None


class Status(Model):
    version: str
    model: str
    papers: int
    candidates: int
    title_only: int
    vectors: dict[str, int]
    citations: CitationStatus | None = None
    sync: SyncStatus
    model_switch: ModelSwitch | None = None


class RelatedItem(Model):
    key: str
    title: str
    year: int | None
    has_abstract: bool


class RelatedHit(PaperHit):
    """A related paper; with by=citations|both, what the citation graph says about it."""

    reasons: list[str] = Field(
        default_factory=list, description='e.g. "cites this paper", "shares 7 references with it"'
    )
    scores: dict[str, float | None] | None = Field(
        None, description="meaning (cosine) and citations (evidence) scores, when fused"
    )


class Related(Model):
    item: RelatedItem
    model: str | None
    by: Literal["meaning", "citations", "both"] = "meaning"
    related: list[RelatedHit]
    message: str | None = Field(None, description="Why a fused answer fell back to meaning")


class CitationEntry(Model):
    """A work in a Cites / Cited-by list."""

    work: str = Field(description="OpenAlex id (W...) or doi:<doi> for a DOI-only reference")
    title: str
    year: int | None
    first_author: str
    authors: list[str]
    venue: str
    doi: str | None
    url: str = Field(description="https://doi.org/... or the OpenAlex page")
    cited_by_count: int | None
    key: str | None = Field(description="The store paper that is this work (library or candidate)")
    pool: Literal["library", "candidates"] | None
    in_library: bool


class CitationCounts(Model):
    cites: int
    cited_by: int = Field(description="OpenAlex's total, or the listed count if larger")
    cited_by_listed: int = 0
    cites_in_library: int
    cited_by_in_library: int


class Citations(Model):
    """What a paper cites and what cites it (stored lists; fetched by `citations sync`)."""

    key: str
    title: str
    work: str | None = Field(description="The matched work; null when the paper is not matched")
    matched_by: str | None
    cites: list[CitationEntry]
    cited_by: list[CitationEntry]
    counts: CitationCounts
    fetched_at: dict[str, str | None]
    message: str | None = None


def _json_number(value: object) -> object:
    """k arrives as a JSON number (3 or 3.0), never as a string or a boolean."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON integer")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_number), Field(strict=False)]


class SearchRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)

    query: str = Field(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        pattern=r"[^\s\x1c-\x1f]",
        description="Free text; must contain a non-space character.",
    )
    k: JsonInt = Field(10, ge=1, le=MAX_K)
    hybrid: bool = False


class SearchResults(Model):
    query: str
    model: str
    results: list[PaperHit]


class Seed(Model):
    key: str
    title: str


class Because(Model):
    key: str
    title: str
    score: float


class Recommendation(PaperHit):
    because: list[Because]
    reasons: list[str] = Field(
        default_factory=list, description='What citations say, e.g. "cites 3 of your papers"'
    )


class LabelCounts(Model):
    up: int
    down: int


class SeedScope(Model):
    kind: Literal["library", "collection", "tag"]
    target: str = Field(description="The collection's key or the tag ('' for the library)")
    label: str


class Recommendations(Model):
    since: str = Field(description="The start of the window, resolved to an ISO date-time")
    seeds: list[Seed]
    ranker: Literal["similarity", "classifier"]
    results: list[Recommendation]
    message: str | None = None
    model: str | None = None
    labels: LabelCounts | None = Field(None, description="Feedback votes the ranker can use")
    by: Literal["meaning", "citations", "both"] = "meaning"
    scope: SeedScope | None = Field(None, description="Where the seeds came from")


class ClusterPaper(Model):
    key: str
    title: str
    year: int | None
    first_author: str
    doi: str | None
    item_type: str
    venue: str = ""


class DuplicatePair(Model):
    a: str
    b: str
    score: float
    reasons: list[str]
    versions: list[str] = Field(
        default_factory=list, description="Why the two are versions of one work (empty: duplicates)"
    )


class Cluster(Model):
    id: str
    kind: Literal["duplicates", "versions"] = Field(
        "duplicates",
        description="duplicates: one publication recorded twice (merge); versions: a preprint, "
        "conference paper, journal article... of one work (merge keeping master, or relate)",
    )
    score: float
    master: str = Field(description="The record to keep (for versions: the published one)")
    mixed_types: bool = Field(False, description="The papers have different Zotero item types")
    papers: list[ClusterPaper]
    pairs: list[DuplicatePair]
    merged: dict[str, object]


class Duplicates(Model):
    clusters: list[Cluster]
    versions: list[Cluster] = Field(default_factory=list)


class DuplicateCheckRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)

    items: list[dict[str, object]] = Field(
        min_length=1,
        max_length=MAX_CHECK_ITEMS,
        description="Zotero item JSON `data` objects, or flat {title, creators, DOI, date, ...}.",
    )


class DuplicateMatch(Model):
    index: int
    key: str
    title: str
    score: float
    reasons: list[str]
    kind: Literal["duplicate", "version"] = "duplicate"


class DuplicateCheck(Model):
    matches: list[DuplicateMatch]


class DistinctRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)

    keys: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=2,
        max_length=MAX_CHECK_ITEMS,
        json_schema_extra={"uniqueItems": True},
        description="Paper keys that are different works: every pair among them is marked",
    )
    distinct: bool = Field(True, description="false forgets the mark")

    @field_validator("keys")
    @classmethod
    def _unique(cls, keys: list[str]) -> list[str]:
        if len(set(keys)) != len(keys):
            raise ValueError("keys must be different")
        return keys


class Distinct(Model):
    keys: list[str]
    distinct: bool
    pairs: int = Field(description="Pairs among the keys")
    changed: int = Field(description="Pairs whose mark changed")


class DistinctPair(Model):
    a: str
    b: str
    marked_at: str
    source: str


class DistinctPairs(Model):
    pairs: list[DistinctPair]


class SyncRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)

    library: str | None = Field(
        None,
        pattern=r"^(user|local|sqlite|user:[0-9]+|group:[0-9]+)$",
        description="user, group:ID, local or sqlite; none: every Zotero library synced before",
    )


class FeedbackRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)

    key: str = Field(min_length=1, max_length=200)
    vote: Literal["up", "down", "clear"]


class Feedback(Model):
    key: str
    vote: Literal["up", "down", "clear"]
    labels: LabelCounts


class FeedSubscribeRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)

    collection: str = Field(
        min_length=1,
        max_length=500,
        pattern=r"\S",
        description="The Zotero collection's key (a name or Parent/Child path works too)",
    )


class FeedInfo(Model):
    id: str
    kind: Literal["library", "collection", "tag"]
    target: str
    name: str
    since: str
    limit: int
    created_at: str
    refreshed_at: str | None = None
    message: str | None = None


class FeedSubscription(Model):
    feed: FeedInfo
    url: str = Field(description="The feed's Atom capability URL (its own read-only token)")
    created: bool = Field(description="False: the collection had a feed already (reused)")
    entries: int = Field(description="Papers the feed serves now")
    message: str | None = Field(None, description="Why it serves nothing yet, when it does not")
