"""Write the bridge's OpenAPI schema (`make openapi` writes bridge/openapi.json)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def schema_text() -> str:
    """The schema as committed: sorted keys, two-space indent, trailing newline."""
    from .app import create_api

    return json.dumps(create_api().openapi(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> None:
    text = schema_text()
    if not argv:
        sys.stdout.write(text)
        return
    Path(argv[0]).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
