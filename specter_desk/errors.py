"""Errors a user can hit. Each message says what went wrong and what to do.

Each class says how every surface answers it: the CLI prints the message as one line and
exits with `exit_code`; the bridge answers `http_status` with `{"error": {"code", "message"}}`.
"""

from __future__ import annotations


class SpecterDeskError(Exception):
    """Base class for every error shown to the user as one line."""

    code = "error"
    exit_code = 1
    http_status = 500


class ConfigError(SpecterDeskError):
    """The config file or an option is invalid."""

    code = "bad_config"
    exit_code = 2
    http_status = 400


class InputError(SpecterDeskError):
    """A file, argument or request value given by the user cannot be used."""

    code = "bad_request"
    exit_code = 2
    http_status = 400


class ItemNotFoundError(SpecterDeskError):
    """No paper matches the key, identifier or title the user gave."""

    code = "not_found"
    exit_code = 3
    http_status = 404


class AmbiguousItemError(SpecterDeskError):
    """Several papers match a title fragment."""

    code = "ambiguous"
    exit_code = 3
    http_status = 409


class NotEmbeddedError(SpecterDeskError):
    """The paper has no vector for the requested model yet."""

    code = "not_embedded"
    exit_code = 3
    http_status = 409


class ModelNotFoundError(SpecterDeskError):
    """Model weights are not on disk and cannot be downloaded."""

    code = "model_not_found"
    exit_code = 4
    http_status = 503


class ModelDownloadError(ModelNotFoundError):
    """A model download failed (network, hub, a file that does not match its checksum)."""

    code = "model_download_failed"


class StoreError(SpecterDeskError):
    """The data dir or the store cannot be used, or the store is from a newer version."""

    code = "store_error"
    exit_code = 5
    http_status = 503


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


class SyncNotConfiguredError(SpecterDeskError):
    """POST /v1/sync on a bridge that runs without a sync worker."""

    code = "not_configured"
    exit_code = 2
    http_status = 409


class CorpusError(SpecterDeskError):
    """A corpus output directory or a corpus embedding run cannot be used or did not finish."""

    code = "corpus_error"
    exit_code = 7


class DaemonRunningError(SpecterDeskError):
    """Another `specter-desk serve` already owns this data dir."""

    code = "daemon_running"
    exit_code = 7
    http_status = 409


class BindError(SpecterDeskError):
    """The bridge cannot listen on the requested address."""

    code = "bind_failed"
    exit_code = 2


class CitationSourceError(SyncError):
    """A citation source (OpenAlex, Crossref, Semantic Scholar) failed or cannot be reached."""

    code = "citations_failed"


class NoCitationDataError(SpecterDeskError):
    """A paper has no citation data yet: not matched to a work, or never fetched."""

    code = "no_citations"
    exit_code = 3
    http_status = 409
