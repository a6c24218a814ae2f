// The settings pane (prefs.xhtml + content/prefsPane.js) loaded the way Zotero 8+ loads it:
// the markup in the settings window, the script in a sandbox of its own whose prototype is
// that window (preferences.js _loadPane), and the markup's inline onload run in the window.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const { JSDOM } = require("jsdom");
const { BRIDGE_DIR, waitFor } = require("./helpers/fakeZotero");

function settingsWindow({ localAPI = true, plugin = { testConnection: async () => "Connected to specter-desk 0.1.0" } } = {}) {
  const dom = new JSDOM("<!DOCTYPE html><html><body></body></html>", { runScripts: "outside-only" });
  const window = dom.window;
  const prefs = new Map([["httpServer.localAPI.enabled", localAPI]]);
  const observers = new Map();
  window.Zotero = {
    SpecterDesk: plugin || undefined,
    Prefs: {
      get: (name) => prefs.get(name),
      set: (name, value) => { prefs.set(name, value); for (const [pref, fn] of observers.values()) if (pref === name) fn(); },
      registerObserver: (name, fn) => { const id = Symbol(name); observers.set(id, [name, fn]); return id; },
      unregisterObserver: (id) => observers.delete(id),
    },
  };
  // the pane's markup, as Zotero inserts it (XUL tags become plain elements here)
  const markup = fs.readFileSync(path.join(BRIDGE_DIR, "prefs.xhtml"), "utf8").replace(/<(\/?)html:/g, "<$1");
  window.document.body.innerHTML = markup;
  return { window, prefs, observers };
}

/** Load prefsPane.js as Zotero 8+ does: its own global whose prototype is the window. */
function loadPaneScript(window) {
  const scope = vm.createContext(Object.assign(Object.create(window), { window, document: window.document, Zotero: window.Zotero }));
  vm.runInContext(fs.readFileSync(path.join(BRIDGE_DIR, "content", "prefsPane.js"), "utf8"), scope);
  return scope;
}

/** What Zotero does after inserting the markup: fire `load` on the pane's root (its onload). */
function firePaneLoad(window) {
  const root = window.document.getElementById("specter-desk-prefpane-root");
  window.eval(root.getAttribute("onload"));
}

test("a top-level var in a Zotero 8+ pane script is not a window global (why the pane sets window.SpecterDeskPrefs)", () => {
  const { window } = settingsWindow();
  const scope = vm.createContext(Object.assign(Object.create(window), { window }));
  vm.runInContext("var OnlyInTheSandbox = 1;", scope);
  assert.equal(window.OnlyInTheSandbox, undefined);
  assert.throws(() => window.eval("OnlyInTheSandbox"), /not defined/);
});

test("the pane's onload finds SpecterDeskPrefs and Test connection shows the plugin's answer", async () => {
  const { window } = settingsWindow();
  loadPaneScript(window);
  firePaneLoad(window);
  window.document.getElementById("specter-desk-pref-test").dispatchEvent(new window.Event("command"));
  const result = window.document.getElementById("specter-desk-pref-test-result");
  await waitFor(() => result.textContent === "Connected to specter-desk 0.1.0");
});

test("Test connection says so when the plugin is not running", async () => {
  const { window } = settingsWindow({ plugin: null });
  loadPaneScript(window);
  firePaneLoad(window);
  window.document.getElementById("specter-desk-pref-test").dispatchEvent(new window.Event("command"));
  assert.equal(window.document.getElementById("specter-desk-pref-test-result").textContent, "The specter-desk plugin is not running.");
});

test("the local-API note shows while Zotero's local API is off and hides when it is turned on", () => {
  const { window } = settingsWindow({ localAPI: false });
  loadPaneScript(window);
  firePaneLoad(window);
  const note = window.document.getElementById("specter-desk-pref-local-api");
  assert.equal(note.hidden, false);
  assert.equal(note.querySelector("[data-l10n-id]").getAttribute("data-l10n-id"), "specter-desk-prefs-local-api-title");
  window.Zotero.Prefs.set("httpServer.localAPI.enabled", true);
  assert.equal(note.hidden, true);
});

test("the note stays hidden with the local API on, and the pref observer goes with the window", () => {
  const { window, observers } = settingsWindow({ localAPI: true });
  loadPaneScript(window);
  firePaneLoad(window);
  assert.equal(window.document.getElementById("specter-desk-pref-local-api").hidden, true);
  assert.equal(observers.size, 1);
  window.dispatchEvent(new window.Event("unload"));
  assert.equal(observers.size, 0);
});
