"""Duplicate detection: blocking, evidence scoring, duplicates vs versions, checks against the
library, and pairs the user marked "not duplicates"."""

from .clustering import DUPLICATES, VERSIONS, DuplicateCluster, DuplicatePair, DuplicateReport
from .detector import DEFAULT_MIN_SCORE, build_records, detect_duplicates
from .records import Record
from .scoring import DUPLICATE, VERSION, PairScore, score_pair, title_similarity
from .service import (
    Match,
    check_papers,
    distinct_pairs,
    find_duplicates,
    library_match,
    library_matches,
    mark_distinct,
)

__all__ = [
    "DEFAULT_MIN_SCORE",
    "DUPLICATE",
    "DUPLICATES",
    "VERSION",
    "VERSIONS",
    "DuplicateCluster",
    "DuplicatePair",
    "DuplicateReport",
    "Match",
    "PairScore",
    "Record",
    "build_records",
    "check_papers",
    "detect_duplicates",
    "distinct_pairs",
    "find_duplicates",
    "library_match",
    "library_matches",
    "mark_distinct",
    "score_pair",
    "title_similarity",
]
