// The type-check really checks Zotero API calls: a copy of the plugin that passes `head:`
// instead of `header:` to ItemPaneManager.registerSection must fail tsc.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { BRIDGE_DIR } = require("./helpers/fakeZotero");

const TSC = path.join(BRIDGE_DIR, "node_modules", "typescript", "bin", "tsc");

test("tsc rejects registerSection({ head: ... }) in a copy of the plugin", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sd-tsc-"));
  for (const name of ["bootstrap.js", "prefs.js", "tsconfig.json", "content", "types"]) {
    fs.cpSync(path.join(BRIDGE_DIR, name), path.join(dir, name), { recursive: true });
  }
  fs.symlinkSync(path.join(BRIDGE_DIR, "node_modules"), path.join(dir, "node_modules"), "dir");
  const file = path.join(dir, "content", "relatedSection.js");
  const source = fs.readFileSync(file, "utf8");
  assert.equal(source.match(/^\s+header: \{/gm).length, 1);
  fs.writeFileSync(file, source.replace(/^(\s+)header: \{/m, "$1head: {"));

  const result = spawnSync(process.execPath, [TSC, "-p", dir], { encoding: "utf8" });
  assert.notEqual(result.status, 0, "tsc accepted `head:`");
  assert.match(result.stdout, /relatedSection\.js.*'head' does not exist in type 'ItemDetailsSectionOptions/);
  assert.equal(result.stdout.trim().split("\n").filter((l) => /error TS/.test(l)).length, 1, result.stdout);
});
