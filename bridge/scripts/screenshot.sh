#!/usr/bin/env bash
# The states of the "Related papers" section for docs/plugin.md: the plugin's own rendering
# code (fake Zotero + fake bridge, sample data) in headless Chromium (Debian's `chromium`).
# The real pane in Zotero 10 (docs/images/related-pane-zotero.png) comes from the real-Zotero
# suite: SPECTER_DESK_DOCS_IMAGES=1 make test-zotero.
#   bridge/scripts/screenshot.sh            -> docs/images/related-states.png
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
node bridge/scripts/preview.js "$out"
shot() {
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
    --user-data-dir="$(mktemp -d)" --screenshot="$1" --window-size="$2" "file://$3"
}
mkdir -p docs/images
shot docs/images/related-states.png 1290,700 "$out/related-states.html"
