"""Text for papers without an abstract: the opening words of Zotero's full-text index."""

from __future__ import annotations

from pathlib import Path

from ..models import normalize_title

# About an abstract's length: SPECTER reads title + abstract, abstracts run 150-300 words.
EXCERPT_WORDS = 200
FT_CACHE = ".zotero-ft-cache"
PDF_TYPES = frozenset({"application/pdf", "application/epub+zip", "text/html"})


def excerpt(title: str, text: str, words: int = EXCERPT_WORDS) -> str:
    """The first `words` words of a document's text, starting after its title if it is there."""
    tokens = text.split()
    if not tokens:
        return ""
    wanted = normalize_title(title).split()
    if wanted:
        # Find the title among the first 300 tokens and start right after it.
        norm = [normalize_title(t) for t in tokens[:300]]
        for start in range(len(norm)):
            joined, end = [], start
            while end < len(norm) and len(joined) < len(wanted):
                joined.extend(norm[end].split())
                end += 1
            if joined[: len(wanted)] == wanted:
                tokens = tokens[end:]
                break
    return " ".join(tokens[:words])


def read_ft_cache(storage_dir: Path, attachment_key: str) -> str | None:
    """The text Zotero extracted from an attachment (storage/KEY/.zotero-ft-cache), if any."""
    path = storage_dir / attachment_key / FT_CACHE
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
