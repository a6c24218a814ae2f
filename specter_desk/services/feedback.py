"""Feedback: thumbs up/down on papers, and the per-user linear classifier trained on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, ItemNotFoundError
from ..store import Store

VOTES = {"up": 1, "down": -1}
# Labels needed on each side before the classifier re-ranks recommendations.
MIN_LABELS = 5


def record_feedback(store: Store, key: str, vote: str) -> dict[str, Any]:
    """Store a vote ("up", "down", or "clear" to remove it) for a paper; returns the counts."""
    if vote not in (*VOTES, "clear"):
        raise InputError(f"vote must be 'up' or 'down' (or 'clear'), not {vote!r}")
    paper = store.get_paper(key)
    if paper is None or paper.deleted:
        raise ItemNotFoundError(f"no paper with key {key!r}; use a key from `recommend --json`")
    if vote == "clear":
        store.clear_vote(key)
    else:
        store.set_vote(key, VOTES[vote])
    return {"key": key, "vote": vote, "labels": label_counts(store)}


def label_counts(store: Store) -> dict[str, int]:
    """{"up": n, "down": n} over live papers."""
    votes = store.votes().values()
    return {"up": sum(1 for v in votes if v > 0), "down": sum(1 for v in votes if v < 0)}


@dataclass
class FeedbackClassifier:
    """A logistic regression on embeddings: probability that the user votes up."""

    model: str
    ups: int
    downs: int
    _clf: Any

    def score(self, vectors: np.ndarray) -> np.ndarray:
        """P(up) for each row."""
        if len(vectors) == 0:
            return np.zeros(0, dtype=np.float32)
        return self._clf.predict_proba(vectors)[:, 1].astype(np.float32)

    def direction(self) -> np.ndarray:
        """The unit vector whose cosine with a unit paper vector orders papers as score()
        does (P(up) grows with the linear model's coefficients . vector)."""
        coef = np.asarray(self._clf.coef_[0], dtype=np.float32)
        return coef / max(float(np.linalg.norm(coef)), 1e-12)


def train_classifier(
    store: Store, model: str, *, min_labels: int = MIN_LABELS
) -> FeedbackClassifier | None:
    """Fit the classifier on labelled papers' vectors; None below min_labels each way."""
    votes = store.votes()
    if not votes:
        return None
    keys, _hashes, matrix = store.vectors(model, list(votes))
    y = np.array([1 if votes[k] > 0 else 0 for k in keys], dtype=np.int64)
    ups, downs = int(y.sum()), int(len(y) - y.sum())
    if ups < min_labels or downs < min_labels:
        return None
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    clf.fit(matrix, y)
    return FeedbackClassifier(model=model, ups=ups, downs=downs, _clf=clf)
