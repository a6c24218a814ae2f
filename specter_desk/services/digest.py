"""Recommendations as a digest a script can mail or a feed reader can subscribe to: JSON,
Markdown, HTML or Atom, in the ranking's order (best first, ties by key), so the same answer
always gives the same document.

Each entry carries what a reader needs to decide: title, authors, year, venue, the abstract
(as far as the store has one), a DOI or arXiv link, the score and the seeds that explain it.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from ..errors import InputError
from ..models import Paper
from ..store import Store
from .recommend import Recommendation, Recommendations

FORMATS = ("table", "json", "markdown", "html", "atom")
ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
ABSTRACT_CHARS = 1200  # an abstract longer than this is cut at a word in digests


@dataclass
class DigestEntry:
    """One recommendation with the stored paper's details."""

    rank: int
    recommendation: Recommendation
    authors: list[str]
    abstract: str
    link: str | None

    @property
    def key(self) -> str:
        return self.recommendation.paper.key

    def because_text(self) -> str:
        return "; ".join(f"{b['title']} ({b['score']:.2f})" for b in self.recommendation.because)


def check_format(name: str) -> str:
    """name itself, or InputError listing the formats."""
    if name not in FORMATS:
        raise InputError(f"unknown format {name!r}; use one of: {', '.join(FORMATS)}")
    return name


def paper_link(paper: Paper | Any) -> str | None:
    """https://doi.org/DOI, else the arXiv abstract page, else the paper's URL, else None."""
    if getattr(paper, "doi", None):
        return f"https://doi.org/{paper.doi}"
    if getattr(paper, "arxiv_id", None):
        return f"https://arxiv.org/abs/{paper.arxiv_id}"
    return getattr(paper, "url", None) or None


def _authors(paper: Paper) -> list[str]:
    names = []
    for creator in paper.creators or []:
        if not isinstance(creator, dict) or creator.get("creatorType", "author") != "author":
            continue
        name = creator.get("name") or " ".join(
            part for part in (creator.get("firstName"), creator.get("lastName")) if part
        )
        if name.strip():
            names.append(" ".join(name.split()))
    return names


def _short(text: str, limit: int | None = ABSTRACT_CHARS) -> str:
    """text on one line, cut at a word after limit characters (None: whole)."""
    text = " ".join((text or "").split())
    if limit is None or len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def digest_entries(
    store: Store, answer: Recommendations, *, abstract_chars: int | None = ABSTRACT_CHARS
) -> list[DigestEntry]:
    """The answer's results with authors, abstract (cut at abstract_chars; None: whole) and
    link from the store, in rank order."""
    papers = store.get_papers(r.paper.key for r in answer.results)
    entries = []
    for rank, rec in enumerate(answer.results, start=1):
        paper = papers.get(rec.paper.key)
        entries.append(
            DigestEntry(
                rank,
                rec,
                _authors(paper) if paper else [],
                _short(paper.abstract, abstract_chars) if paper else "",
                paper_link(paper or rec.paper),
            )
        )
    return entries


def heading(answer: Recommendations) -> str:
    """One line: what the recommendations are for."""
    scope = answer.scope.get("label", "the library")
    if answer.scope.get("kind", "library") == "library":
        return f"Recommended for {len(answer.seeds)} papers added since {answer.since[:10]}"
    return f"Recommended for {scope} ({len(answer.seeds)} papers)"


def to_json(store: Store, answer: Recommendations) -> str:
    """recommend --json's document, each result with its authors, abstract and link."""
    data = answer.to_dict()
    for row, entry in zip(data["results"], digest_entries(store, answer), strict=True):
        row.update(rank=entry.rank, authors=entry.authors, abstract=entry.abstract)
        row["link"] = entry.link
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def to_markdown(store: Store, answer: Recommendations) -> str:
    """A Markdown digest: a numbered list, each with its link, details and reasons."""
    lines = [f"# {heading(answer)}", ""]
    if answer.message:
        return "\n".join([*lines, answer.message, ""])
    for entry in digest_entries(store, answer):
        paper = entry.recommendation.paper
        title = _md(paper.title)
        lines.append(f"{entry.rank}. **{f'[{title}]({entry.link})' if entry.link else title}**")
        details = ", ".join(
            part
            for part in (
                _md(", ".join(entry.authors[:3]) + (" et al." if len(entry.authors) > 3 else "")),
                str(paper.year or ""),
                _md(paper.venue),
            )
            if part
        )
        if details:
            lines.append(f"   {details}")
        lines.append(f"   score {paper.score:.3f}; because of: {_md(entry.because_text())}")
        if entry.abstract:
            lines.append(f"   > {_md(entry.abstract)}")
        lines.append("")
    lines.append(f"_{answer.model}, ranked by {answer.ranker}_")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """Text with Markdown's link and emphasis characters escaped."""
    out = " ".join((text or "").split())
    for char in "\\`*_[]<>#|":
        out = out.replace(char, "\\" + char)
    return out


def to_html(store: Store, answer: Recommendations) -> str:
    """A self-contained HTML digest (for a mail body)."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(heading(answer))}</title></head><body>",
        f"<h1>{esc(heading(answer))}</h1>",
    ]
    if answer.message:
        parts.append(f"<p>{esc(answer.message)}</p>")
    else:
        parts.append("<ol>")
        for entry in digest_entries(store, answer):
            paper = entry.recommendation.paper
            title = esc(paper.title)
            if entry.link:
                title = f'<a href="{esc(entry.link)}">{title}</a>'
            details = ", ".join(
                esc(p) for p in (", ".join(entry.authors), str(paper.year or ""), paper.venue) if p
            )
            parts.append(f"<li><p><strong>{title}</strong><br>{details}</p>")
            parts.append(f"<p>score {paper.score:.3f}; because of: {esc(entry.because_text())}</p>")
            if entry.abstract:
                parts.append(f"<blockquote>{esc(entry.abstract)}</blockquote>")
            parts.append("</li>")
        parts.append("</ol>")
        parts.append(f"<p><small>{esc(answer.model)}, ranked by {esc(answer.ranker)}</small></p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def to_atom(
    store: Store,
    answer: Recommendations,
    *,
    feed_id: str = "urn:specter-desk:recommendations",
    title: str | None = None,
    self_link: str | None = None,
    now: datetime | None = None,
    zotero: bool = False,
) -> str:
    """An Atom 1.0 feed (RFC 4287): one entry per recommendation, its id stable per paper
    (a reader shows a paper once however often the feed is refreshed). Dublin Core elements
    give the DOI, venue and year where Zotero's feed reader looks for them.

    zotero=True shapes it for Zotero's reader, whose feed items become library items with
    "Add to My Library": no feed-level author (Zotero makes it every author-less paper's
    author), no HTML content (Zotero prefers it to the summary as the abstract, markup and
    all), an entry's `updated` is the paper's year (Zotero takes it as the item's date; none
    without a year); the summary is the abstract as text, then the "because of" line."""
    updated = _iso(now or datetime.now(UTC))
    ET.register_namespace("", ATOM_NS)
    ET.register_namespace("dc", DC_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", feed_id)
    sub(feed, "title", title or f"specter-desk: {heading(answer)}")
    sub(feed, "updated", updated)
    if not zotero:
        sub(sub(feed, "author"), "name", "specter-desk")
    sub(feed, "generator", "specter-desk")
    if self_link:
        sub(feed, "link", rel="self", href=self_link)
    if answer.message:
        sub(feed, "subtitle", answer.message)
    # Zotero keeps the summary as the library item's abstract: all of it
    entries = digest_entries(store, answer, abstract_chars=None if zotero else ABSTRACT_CHARS)
    for entry in entries:
        paper = entry.recommendation.paper
        item = sub(feed, "entry")
        sub(item, "id", f"{feed_id}:{paper.key}")
        sub(item, "title", paper.title)
        if not zotero:
            sub(item, "updated", updated)
        elif paper.year:  # Zotero's item date is the entry's update: the paper's, or none
            sub(item, "updated", f"{int(paper.year):04d}-01-01T00:00:00Z")
        if paper.year:
            sub(item, "published", f"{int(paper.year):04d}-01-01T00:00:00Z")
        for name in entry.authors or ([paper.first_author] if paper.first_author else []):
            sub(sub(item, "author"), "name", name)
        if entry.link:
            sub(item, "link", rel="alternate", href=entry.link)
        if paper.doi:
            sub(item, "link", rel="related", href=f"https://doi.org/{paper.doi}", title="DOI")
        _dublin_core(item, paper)
        if zotero:
            because = f"score {paper.score:.3f} (rank {entry.rank}); because of: "
            abstract = f"{entry.abstract}\n\n" if entry.abstract else ""
            text = f"{abstract}Recommended by specter-desk: {because}{entry.because_text()}"
            sub(item, "summary", text)
            continue
        sub(item, "summary", entry.abstract or paper.title)
        reasons = (
            f"<p>Score {paper.score:.3f} (rank {entry.rank}); because of: "
            f"{html.escape(entry.because_text())}</p>"
        )
        if paper.venue:
            reasons = f"<p>{html.escape(paper.venue)}</p>" + reasons
        if entry.abstract:
            reasons += f"<p>{html.escape(entry.abstract)}</p>"
        sub(item, "content", reasons, type="html")
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def _dublin_core(item: ET.Element, paper: Any) -> None:
    """dc:identifier (the DOI), dc:source (the venue) and dc:date (the year): Zotero's feed
    reader fills DOI, publication and date from them (else the date is the entry's update)."""
    for tag, value in (
        ("identifier", f"doi:{paper.doi}" if paper.doi else None),
        ("source", paper.venue or None),
        ("date", f"{int(paper.year):04d}" if paper.year else None),
    ):
        if value:
            ET.SubElement(item, f"{{{DC_NS}}}{tag}").text = value


def render(store: Store, answer: Recommendations, fmt: str, **atom: Any) -> str:
    """The answer in one of the digest formats (json, markdown, html, atom)."""
    renderers = {"json": to_json, "markdown": to_markdown, "html": to_html}
    if fmt == "atom":
        return to_atom(store, answer, **atom)
    if fmt not in renderers:
        raise InputError(f"no digest for format {fmt!r}; use json, markdown, html or atom")
    return renderers[fmt](store, answer)
