"""Duplicate detection: blocking, evidence scoring, clustering, and checks against the library."""

from .clustering import DuplicateCluster, DuplicatePair
from .detector import DEFAULT_MIN_SCORE, build_records, detect_duplicates
from .records import Record
from .scoring import PairScore, score_pair, title_similarity
from .service import Match, check_papers, find_duplicates, library_match, library_matches

__all__ = [
    "DEFAULT_MIN_SCORE",
    "DuplicateCluster",
    "DuplicatePair",
    "Match",
    "PairScore",
    "Record",
    "build_records",
    "check_papers",
    "detect_duplicates",
    "find_duplicates",
    "library_match",
    "library_matches",
    "score_pair",
    "title_similarity",
]
