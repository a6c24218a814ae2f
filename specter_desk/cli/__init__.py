"""The specter-desk command line: thin commands that call services and render with rich."""

from . import (
    citations,  # noqa: F401  (citations sync|show|status, graph)
    core,  # noqa: F401  (registers commands)
    corpus,  # noqa: F401  (corpus embed, index, import, status)
    duplicates,  # noqa: F401  (duplicates, duplicates check)
    feeds,  # noqa: F401  (feeds list|add|set|remove|show|refresh|collections)
    model,  # noqa: F401  (model download|list|use|remove, models)
    recommend,  # noqa: F401  (recommend, search, feedback, candidates)
    serve,  # noqa: F401  (serve, bridge token, service install|uninstall|status)
    setup,  # noqa: F401  (setup: the first run)
    sync,  # noqa: F401  (sync, login, logout, import)
)
from .app import app


def main() -> None:
    """Entry point of the `specter-desk` console script."""
    app()
