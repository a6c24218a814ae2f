// The plugin uses only what Zotero's bootstrap sandbox gives it (fixtures/zotero-sandbox-globals.json,
// recorded from a running Zotero 10 and re-checked by tests/real_zotero): checked at run time by
// the fake (its vm context has exactly those globals) and statically over every script the
// bootstrap loads, so code no test runs is covered too.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const ts = require("typescript");
const { startPlugin, BRIDGE_DIR, SANDBOX } = require("./helpers/fakeZotero");

/** bootstrap.js and the scripts it loads into the sandbox (SD_SCRIPTS), as paths. */
function sandboxScripts() {
  const bootstrap = fs.readFileSync(path.join(BRIDGE_DIR, "bootstrap.js"), "utf8");
  const list = /SD_SCRIPTS = \[([^\]]*)\]/.exec(bootstrap)[1].match(/"([\w.]+\.js)"/g).map((s) => s.slice(1, -1));
  return [path.join(BRIDGE_DIR, "bootstrap.js"), ...list.map((name) => path.join(BRIDGE_DIR, "content", name))];
}

/** Names the scripts use that nothing in them declares and that are not ECMAScript built-ins. */
function freeGlobals(files, extraSource = null) {
  const options = { allowJs: true, checkJs: false, noEmit: true, noLib: false, lib: ["lib.es2022.d.ts"], types: [], target: ts.ScriptTarget.ES2022 };
  const host = ts.createCompilerHost(options);
  if (extraSource) {
    const read = host.getSourceFile;
    host.getSourceFile = (name, ...rest) => (name === extraSource.name
      ? ts.createSourceFile(name, extraSource.text, ts.ScriptTarget.ES2022, true)
      : read(name, ...rest));
    files = [...files, extraSource.name];
  }
  const program = ts.createProgram(files, options, host);
  const checker = program.getTypeChecker();
  const found = new Map();
  for (const file of files) {
    const source = program.getSourceFile(file);
    const visit = (node) => {
      if (ts.isIdentifier(node) && isReference(node) && !checker.getSymbolAtLocation(node)) {
        if (!found.has(node.text)) found.set(node.text, `${path.basename(file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

/** An identifier used as a value, not a property name, key or label. */
function isReference(node) {
  const parent = node.parent;
  if (!parent) return false;
  if ((ts.isPropertyAccessExpression(parent) || ts.isQualifiedName(parent)) && parent.name === node) return false;
  if ((ts.isPropertyAssignment(parent) || ts.isMethodDeclaration(parent) || ts.isPropertyDeclaration(parent)
    || ts.isGetAccessorDeclaration(parent) || ts.isSetAccessorDeclaration(parent)) && parent.name === node) return false;
  if (ts.isBindingElement(parent) && parent.propertyName === node) return false;
  if (ts.isLabeledStatement(parent) || ts.isBreakOrContinueStatement(parent)) return false;
  return true;
}

test("every global the sandbox scripts use is one Zotero's plugin sandbox has", () => {
  const used = freeGlobals(sandboxScripts());
  assert.ok(used.has("Zotero") && used.has("Services") && used.has("fetch"), "the scan sees the plugin's globals");
  const outside = [...used].filter(([name]) => !SANDBOX.globals.includes(name));
  assert.deepEqual(outside, [], `not in Zotero's plugin sandbox: ${outside.map(([n, at]) => `${n} (${at})`).join(", ")}`);
});

test("the scan catches a global outside the list (AbortController, console, window)", () => {
  const used = freeGlobals(sandboxScripts(), {
    name: path.join(BRIDGE_DIR, "content", "__probe__.js"),
    text: "function probe() { const c = new AbortController(); console.log(c); return window.document; }\n",
  });
  for (const name of ["AbortController", "console", "window"]) {
    assert.ok(used.has(name), name);
    assert.ok(!SANDBOX.globals.includes(name), name);
  }
});

test("the fake's sandbox has exactly the recorded globals and nothing of Node's", async () => {
  const { context } = await startPlugin();
  const names = vm.runInContext("Object.getOwnPropertyNames(globalThis)", context);
  const plugin = /^(SD\w*|chromeHandle|install|startup|shutdown|uninstall|onMainWindowLoad|onMainWindowUnload)$/;
  const builtins = vm.runInContext("Object.getOwnPropertyNames(globalThis)", vm.createContext({})).filter((n) => n !== "console");
  const extra = [...names].filter((n) => !plugin.test(n) && !SANDBOX.globals.includes(n) && !builtins.includes(n));
  assert.deepEqual(extra, []);
  for (const name of ["AbortController", "AbortSignal", "console", "structuredClone", "queueMicrotask", "window", "document", "process", "require"]) {
    assert.equal(vm.runInContext(`typeof ${name}`, context), "undefined", name);
  }
  for (const name of ["Zotero", "Services", "ChromeUtils", "IOUtils", "PathUtils", "fetch", "URL", "setTimeout", "CSS", "Cc", "Ci"]) {
    assert.notEqual(vm.runInContext(`typeof ${name}`, context), "undefined", name);
  }
});
