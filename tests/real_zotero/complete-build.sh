#!/usr/bin/env bash
# Add zotero/translate's nested `modules/utilities` to a Zotero build that lacks it.
#
# A release build from zotero.org has it; a build made from repository snapshots without the
# translate submodule's own submodules (../shared/zotero-real/build.sh, 2026-12) does not, and
# then every translation fails ("translate/modules/utilities/openurl.js" cannot be read), so
# "Add to My Library" in a feed adds nothing. The files are zotero/utilities, which the build
# already holds under xpcom/utilities: they are copied inside the app's omni.ja. Idempotent;
# the original omni.ja is kept as omni.ja.orig.
#
#     bash tests/real_zotero/complete-build.sh "$ZOTERO_APP"
set -euo pipefail
app=${1:?usage: complete-build.sh ZOTERO_APP}
[ -f "$app/app/omni.ja" ] || { echo "complete-build.sh: no $app/app/omni.ja: not a Zotero build folder" >&2; exit 2; }
omni="$(cd "$app/app" && pwd)/omni.ja"
inner=chrome/content/zotero/xpcom
if unzip -l "$omni" "$inner/translate/modules/utilities/openurl.js" >/dev/null 2>&1; then
	echo "complete-build.sh: $omni already has translate/modules/utilities"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unzip -q "$omni" "$inner/utilities/*" -d "$work"
mkdir -p "$work/$inner/translate/modules"
cp -r "$work/$inner/utilities" "$work/$inner/translate/modules/utilities"
[ -f "$omni.orig" ] || cp -p "$omni" "$omni.orig"
(cd "$work" && zip -qr "$omni" "$inner/translate/modules/utilities")
echo "complete-build.sh: added $(unzip -l "$omni" "$inner/translate/modules/utilities/*" | tail -1 | awk '{print $2}') files to $omni"
