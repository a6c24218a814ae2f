// Every Fluent id the plugin uses exists in the .ftl file its document links, with the
// attribute its element needs (a XUL menuitem, button or checkbox reads .label, the section
// header .label, the side-nav button .tooltiptext, HTML elements the message value); and every
// message in the .ftl files is used.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { startPlugin, section, BRIDGE_DIR } = require("./helpers/fakeZotero");

const LOCALE = path.join(BRIDGE_DIR, "locale", "en-US");

/** Parse a .ftl file strictly enough for ours: {id: {value, attributes: {name: text}}}. */
function parseFtl(file) {
  const messages = {};
  let current = null;
  let attribute = null;
  for (const [number, line] of fs.readFileSync(file, "utf8").split("\n").entries()) {
    let m;
    if (!line.trim() || line.startsWith("#")) continue;
    if ((m = /^([a-zA-Z][\w-]*) =(?: (.*))?$/.exec(line))) {
      current = messages[m[1]] = { value: m[2] ?? "", attributes: {} };
      attribute = null;
    } else if (current && (m = /^ {4}\.([a-zA-Z][\w-]*) = (.+)$/.exec(line))) {
      attribute = m[1];
      current.attributes[attribute] = m[2];
    } else if (current && /^ {4}\S/.test(line)) {
      if (attribute) current.attributes[attribute] += ` ${line.trim()}`;
      else current.value += `${current.value ? " " : ""}${line.trim()}`;
    } else {
      assert.fail(`${path.basename(file)}:${number + 1}: cannot parse ${JSON.stringify(line)}`);
    }
    assert.ok(!/[{}]/.test(line), `${path.basename(file)}:${number + 1}: placeables are not used by the plugin`);
  }
  return messages;
}

/** What an element needs from its message: an attribute name, or "value". */
const NEEDS = { menuitem: "label", button: "label", checkbox: "label", header: "label", sidenav: "tooltiptext" };
const needs = (tag) => NEEDS[tag.replace(/^html:/, "")] || "value";

/** [ftl file, id, tag] for every localized element of prefs.xhtml (it links its .ftl itself). */
function prefsUses() {
  const xhtml = fs.readFileSync(path.join(BRIDGE_DIR, "prefs.xhtml"), "utf8");
  const ftl = /<html:link rel="localization" href="([^"]+)"/.exec(xhtml)[1];
  return [...xhtml.matchAll(/<([\w:]+)\b[^>]*\bdata-l10n-id="([^"]+)"/g)].map((m) => [ftl, m[2], m[1]]);
}

/** [ftl file, id, tag] for what the running plugin puts into the main window (Zotero 10 and 7). */
async function windowUses() {
  const uses = [];
  for (const zotero of [10, 7]) {
    const env = await startPlugin({ zotero });
    const ftl = env.window.document.getElementById("specter-desk-ftl").getAttribute("href");
    for (const paneID of ["specter-desk-related", "specter-desk-citations"]) {
      const options = section(env, paneID);
      uses.push([ftl, options.header.l10nID, "header"], [ftl, options.sidenav.l10nID, "sidenav"]);
    }
    for (const menu of env.records.menus.values()) {
      for (const entry of menu.menus) if (entry.l10nID) uses.push([ftl, entry.l10nID, entry.menuType]);
    }
    for (const el of env.window.document.querySelectorAll("[data-l10n-id]")) {
      uses.push([ftl, el.getAttribute("data-l10n-id"), el.tagName.toLowerCase()]);
    }
  }
  return uses;
}

test("every Fluent id the plugin uses exists with the attribute its element needs", async () => {
  const uses = [...prefsUses(), ...(await windowUses())];
  assert.ok(uses.length >= 12, `found only ${uses.length} uses`);
  const files = new Map();
  for (const [ftl, id, tag] of uses) {
    if (!files.has(ftl)) files.set(ftl, parseFtl(path.join(LOCALE, ftl)));
    const message = files.get(ftl)[id];
    assert.ok(message, `${id} (on <${tag}>) is not in ${ftl}`);
    const need = needs(tag);
    if (need === "value") assert.ok(message.value.trim(), `${id} in ${ftl} needs a value for <${tag}>`);
    else assert.ok(message.attributes[need], `${id} in ${ftl} needs .${need} for <${tag}>`);
  }
});

test("every message in the .ftl files is used, and the JS uses no l10n id the scan missed", async () => {
  const uses = [...prefsUses(), ...(await windowUses())];
  const used = new Set(uses.map(([, id]) => id));
  for (const file of fs.readdirSync(LOCALE)) {
    for (const id of Object.keys(parseFtl(path.join(LOCALE, file)))) assert.ok(used.has(id), `${file}: ${id} is never used`);
  }
  const js = fs.readdirSync(path.join(BRIDGE_DIR, "content")).filter((f) => f.endsWith(".js"))
    .map((f) => fs.readFileSync(path.join(BRIDGE_DIR, "content", f), "utf8")).join("\n");
  const literals = [...js.matchAll(/l10nID: "([^"]+)"|\["(specter-desk-menu-[\w-]+)"/g)].map((m) => m[1] || m[2]);
  assert.ok(literals.length >= 3);
  for (const id of literals) assert.ok(used.has(id), `${id} appears in the JS but no test saw it used`);
});

test("the .ftl parser rejects what it does not understand", () => {
  const file = path.join(require("node:os").tmpdir(), `sd-bad-${process.pid}.ftl`);
  fs.writeFileSync(file, "good = fine\n  .label = two-space attribute\n");
  assert.throws(() => parseFtl(file), /cannot parse/);
  fs.writeFileSync(file, "needs-label = only a value\n");
  const parsed = parseFtl(file);
  assert.deepEqual(parsed["needs-label"].attributes, {});
  fs.rmSync(file);
});
