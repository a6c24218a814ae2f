"""Sync sources: Zotero (web, local API, zotero.sqlite) and bibliography files."""
