// packaging/build-xpi.py: a valid zip, reproducible bytes, a manifest that parses, every
// file referenced, and a build that refuses an unreferenced file.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { execFileSync, spawnSync } = require("node:child_process");
const { BRIDGE_DIR } = require("./helpers/fakeZotero");

const REPO = path.resolve(BRIDGE_DIR, "..");
const SCRIPT = path.join(REPO, "packaging", "build-xpi.py");
const sha256 = (file) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/** Python's zipfile reads the archive back: names, test result, manifest, text of every file. */
function readXpi(file) {
  const code = `
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
texts = {n: z.read(n).decode("utf-8") for n in z.namelist()}
print(json.dumps({"bad": bad, "names": z.namelist(), "manifest": json.loads(texts["manifest.json"]), "texts": texts}))`;
  return JSON.parse(execFileSync("python3", ["-c", code, file], { encoding: "utf8" }));
}

test("two builds give the same bytes, and the xpi is a valid zip with a parsable manifest", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sd-xpi-"));
  const a = path.join(dir, "a.xpi");
  const b = path.join(dir, "b.xpi");
  execFileSync("python3", [SCRIPT, "--out", a]);
  execFileSync("python3", [SCRIPT, "--out", b]);
  assert.equal(sha256(a), sha256(b));
  const xpi = readXpi(a);
  assert.equal(xpi.bad, null);
  assert.deepEqual(xpi.names, [...xpi.names].sort());
  const zotero = xpi.manifest.applications.zotero;
  assert.equal(xpi.manifest.manifest_version, 2);
  assert.equal(zotero.id, "specter-desk@specter-desk.org");
  assert.ok(zotero.update_url.startsWith("https://"));
  assert.equal(zotero.strict_min_version, "6.999");
  // Zotero's policy: declare only versions whose feature freeze was announced; an update
  // manifest (dist/updates.json) widens it later without a new .xpi
  assert.equal(zotero.strict_max_version, "10.0.*");
  for (const name of ["bootstrap.js", "prefs.js", "prefs.xhtml", "locale/en-US/specter-desk.ftl", "content/plugin.js"]) {
    assert.ok(xpi.names.includes(name), name);
  }
  assert.ok(!xpi.names.some((n) => n.startsWith("test/") || n.includes("node_modules") || n === "API.md"));
});

test("every packed file is referenced by another packed file (or is a Zotero entry point)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sd-xpi-"));
  const out = path.join(dir, "p.xpi");
  execFileSync("python3", [SCRIPT, "--out", out]);
  const { names, texts } = readXpi(out);
  const entry = new Set(["manifest.json", "bootstrap.js", "prefs.js"]);
  for (const name of names) {
    if (entry.has(name)) continue;
    const needles = [name, path.posix.basename(name), name.replace(/^content\//, "")];
    const referenced = Object.entries(texts).some(([other, text]) => other !== name && needles.some((n) => text.includes(n)));
    assert.ok(referenced, `${name} is not referenced`);
  }
  // Every script bootstrap.js loads is packed.
  const scripts = /SD_SCRIPTS = \[([^\]]*)\]/.exec(texts["bootstrap.js"])[1].match(/"[\w.]+\.js"/g).map((s) => `content/${s.slice(1, -1)}`);
  for (const script of scripts) assert.ok(names.includes(script), script);
  for (const icon of Object.values(JSON.parse(texts["manifest.json"]).icons)) assert.ok(names.includes(icon), icon);
});

test("the build refuses a file nothing refers to", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sd-xpi-src-"));
  fs.cpSync(BRIDGE_DIR, dir, { recursive: true, filter: (p) => !p.includes("node_modules") });
  fs.writeFileSync(path.join(dir, "content", "orphan.js"), "// nobody loads me\n");
  const result = spawnSync("python3", [SCRIPT, "--src", dir, "--out", path.join(dir, "x.xpi")], { encoding: "utf8" });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /content\/orphan\.js is packed but nothing refers to it/);
});

test("the product xpi never contains the real-Zotero suite's test helper plugin", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sd-xpi-"));
  const out = path.join(dir, "p.xpi");
  execFileSync("python3", [SCRIPT, "--out", out]);
  const { names, texts } = readXpi(out);
  const helper = fs.readFileSync(path.join(REPO, "tests", "real_zotero", "helper_plugin", "bootstrap.js"), "utf8");
  const endpoint = /ENDPOINT = "([^"]+)"/.exec(helper)[1];
  assert.ok(!names.some((n) => /helper|real_zotero/.test(n)), names.join(", "));
  for (const [name, text] of Object.entries(texts)) {
    assert.ok(!text.includes(endpoint) && !text.includes("specter-desk-test-helper"), name);
  }
});

test("the build writes updates.json: this version, its sha256, the declared Zotero versions; --max-version widens them", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sd-xpi-"));
  const out = path.join(dir, "specter-desk.xpi");
  execFileSync("python3", [SCRIPT, "--out", out]);
  const manifest = readXpi(out).manifest;
  const entry = JSON.parse(fs.readFileSync(path.join(dir, "updates.json"), "utf8")).addons[manifest.applications.zotero.id].updates[0];
  assert.equal(entry.version, manifest.version);
  assert.equal(entry.update_hash, `sha256:${sha256(out)}`);
  assert.equal(entry.update_link, `https://github.com/specter-desk/specter-desk/releases/download/v${manifest.version}/specter-desk.xpi`);
  assert.ok(entry.update_link.startsWith("https://") && manifest.applications.zotero.update_url.startsWith("https://"));
  assert.deepEqual(entry.applications, { zotero: { strict_min_version: "6.999", strict_max_version: "10.0.*" } });
  execFileSync("python3", [SCRIPT, "--out", out, "--max-version", "11.0.*"]);
  const wider = JSON.parse(fs.readFileSync(path.join(dir, "updates.json"), "utf8")).addons[manifest.applications.zotero.id].updates[0];
  assert.equal(wider.applications.zotero.strict_max_version, "11.0.*");
  assert.equal(wider.update_hash, entry.update_hash, "the same .xpi");
});
