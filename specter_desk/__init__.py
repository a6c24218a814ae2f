"""specter-desk: related papers, recommendations and duplicates for Zotero, offline."""

__version__ = "0.1.0"
