"""Errors a user can hit. Each message says what went wrong and what to do."""

from __future__ import annotations


class SpecterDeskError(Exception):
    """Base class for every error shown to the user as one line."""

    code = "error"
    exit_code = 1


class ConfigError(SpecterDeskError):
    """The config file or an option is invalid."""

    code = "bad_config"
    exit_code = 2


class InputError(SpecterDeskError):
    """A file or argument given by the user cannot be used."""

    code = "bad_input"
    exit_code = 2


class ItemNotFoundError(SpecterDeskError):
    """No paper matches the key, identifier or title the user gave."""

    code = "not_found"
    exit_code = 3


class AmbiguousItemError(SpecterDeskError):
    """Several papers match a title fragment."""

    code = "ambiguous"
    exit_code = 3


class ModelNotFoundError(SpecterDeskError):
    """Model weights are not on disk and cannot be downloaded."""

    code = "model_not_found"
    exit_code = 4


class NotEmbeddedError(SpecterDeskError):
    """The paper has no vector for the requested model yet."""

    code = "not_embedded"
    exit_code = 3


class StoreError(SpecterDeskError):
    """The store cannot be opened or is from a newer version."""

    code = "store_error"
    exit_code = 5


class SyncError(SpecterDeskError):
    """A sync source failed (network, authentication, malformed data)."""

    code = "sync_failed"
    exit_code = 6


class ZoteroAuthError(SyncError):
    """Zotero refused the API key (wrong, revoked or without access to the library)."""

    code = "zotero_auth"


class ZoteroUnreachableError(SyncError):
    """The Zotero server (web API or the local Zotero app) cannot be reached."""

    code = "zotero_unreachable"


class LocalApiDisabledError(SyncError):
    """Zotero runs but its local API is switched off."""

    code = "local_api_disabled"


class SyncFileError(SyncError, InputError):
    """A bibliography file to sync or import is missing or malformed."""

    code = "bad_file"
    exit_code = 2


class CorpusError(SpecterDeskError):
    """A corpus output directory or a corpus embedding run cannot be used or did not finish."""

    code = "corpus_error"
    exit_code = 7


class CitationSourceError(SyncError):
    """A citation source (OpenAlex, Crossref, Semantic Scholar) failed or cannot be reached."""

    code = "citations_failed"


class NoCitationDataError(SpecterDeskError):
    """A paper has no citation data yet: not matched to a work, or never fetched."""

    code = "no_citations"
    exit_code = 3
