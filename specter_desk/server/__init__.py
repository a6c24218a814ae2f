"""The localhost bridge (HTTP JSON API for the Zotero plugin) and the daemon loop."""
