// A fake Zotero for node --test: records what the plugin registers, runs bootstrap.js and the
// plugin's scripts in a vm context the way Zotero's bootstrap sandbox does
// (Services.scriptloader.loadSubScript), with a jsdom main window.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const { pathToFileURL, fileURLToPath } = require("node:url");
const { JSDOM } = require("jsdom");

const BRIDGE_DIR = path.resolve(__dirname, "..", "..");
const ROOT_URI = pathToFileURL(BRIDGE_DIR).href + "/";

/** A Zotero item with the fields the plugin reads. */
function makeItem({ id, key, libraryID = 1, title = "A paper", abstract = "An abstract.", itemTypeID = 1, itemType = "journalArticle", regular = true }) {
  const fields = { title, abstractNote: abstract };
  return {
    id, key, libraryID, itemTypeID, itemType, deleted: false,
    isRegularItem: () => regular,
    getField: (name) => fields[name] ?? "",
  };
}

/** A main window: a jsdom document with Zotero's Tools menu popup. */
function makeWindow() {
  const dom = new JSDOM(`<!DOCTYPE html><html><head></head><body><div id="menu_ToolsPopup"></div></body></html>`);
  const window = dom.window;
  window.document.createXULElement = (tag) => window.document.createElement(tag);
  window.openedDialogs = [];
  window.openDialog = (url, name, features, io) => {
    window.openedDialogs.push({ url, name, features, io });
    return null;
  };
  return window;
}

/** Read prefs.js the way Zotero does (a pref(name, value) function) into a Map. */
function defaultPrefs() {
  const prefs = new Map();
  vm.runInNewContext(fs.readFileSync(path.join(BRIDGE_DIR, "prefs.js"), "utf8"), {
    pref: (name, value) => prefs.set(name, value),
  });
  return prefs;
}

/**
 * Build the fake Zotero world and start the plugin through bootstrap.js.
 * @param {object} o
 * @param {Record<string, unknown>} [o.prefs]  pref overrides (full names)
 * @param {object[]} [o.items]               items made with makeItem
 * @param {string | null} [o.tokenFileText]  content of the daemon token file (null: no file)
 * @param {number} [o.syncDelayMs]
 * @param {boolean} [o.confirmAnswer]
 * @param {Record<string, string>} [o.env]  environment seen through Services.env
 * @param {boolean} [o.realFiles]  IOUtils reads the real file system (for the token file)
 */
async function startPlugin({ prefs = {}, items = [], tokenFileText = null, syncDelayMs = 40, confirmAnswer = true, env = {}, realFiles = false } = {}) {
  const records = {
    sections: new Map(), unregisteredSections: [], observers: new Map(), unregisteredObservers: [],
    prefPanes: new Map(), unregisteredPanes: [], chrome: [], selected: [], merges: [],
    translations: [], confirms: [], errors: [], debug: [], tokenReads: [],
  };
  const prefStore = defaultPrefs();
  prefStore.set("extensions.specter-desk.syncDelayMs", String(syncDelayMs));
  for (const [name, value] of Object.entries(prefs)) prefStore.set(name, value);
  const byKey = new Map(items.map((item) => [`${item.libraryID}/${item.key}`, item]));
  const byID = new Map(items.map((item) => [item.id, item]));
  const window = makeWindow();
  const pane = {
    selectItem: async (id) => { records.selected.push(id); return true; },
    getSelectedLibraryID: () => 1,
  };
  let observerCount = 0;

  const Zotero = {
    initializationPromise: Promise.resolve(),
    isWin: false, isMac: false, isLinux: true,
    debug: (msg) => records.debug.push(String(msg)),
    logError: (e) => records.errors.push(e),
    Prefs: {
      get: (name, global) => prefStore.get(global ? name : `extensions.zotero.${name}`),
      set: (name, value, global) => prefStore.set(global ? name : `extensions.zotero.${name}`, value),
    },
    PreferencePanes: {
      register: async (options) => { records.prefPanes.set(options.id, options); return options.id; },
      unregister: (id) => { records.prefPanes.delete(id); records.unregisteredPanes.push(id); },
    },
    ItemPaneManager: {
      registerSection: (options) => { records.sections.set(options.paneID, options); return options.paneID; },
      unregisterSection: (id) => { records.unregisteredSections.push(id); return records.sections.delete(id); },
    },
    Notifier: {
      registerObserver: (observer, types, name) => {
        const id = `${name}_${++observerCount}`;
        records.observers.set(id, { observer, types });
        return id;
      },
      unregisterObserver: (id) => { records.unregisteredObservers.push(id); records.observers.delete(id); },
      /** Deliver an event the way Zotero.Notifier.trigger does. */
      trigger: (event, type, ids) => {
        for (const { observer, types } of records.observers.values()) {
          if (!types || types.includes(type)) observer.notify(event, type, ids, {});
        }
      },
    },
    Items: {
      getByLibraryAndKey: (libraryID, key) => byKey.get(`${libraryID}/${key}`) || false,
      get: (ids) => (Array.isArray(ids) ? ids.map((id) => byID.get(id)).filter(Boolean) : byID.get(ids) || false),
      merge: async (master, others) => { records.merges.push({ master, others }); },
    },
    Libraries: { userLibraryID: 1, getAll: () => [{ libraryID: 1 }, { libraryID: 2 }] },
    getMainWindows: () => [window],
    getActiveZoteroPane: () => pane,
    Translate: {
      Search: class {
        setIdentifier(identifier) { this.identifier = identifier; }
        async getTranslators() { return ["DOI Content Negotiation"]; }
        setTranslator(translators) { this.translators = translators; }
        async translate(options) {
          records.translations.push({ identifier: this.identifier, options });
          return [makeItem({ id: 999, key: "NEWITEM9" })];
        }
      },
    },
  };

  const context = {
    Zotero,
    Cc: {
      "@mozilla.org/addons/addon-manager-startup;1": {
        getService: () => ({
          registerChrome: (manifestURI, entries) => {
            const handle = { manifestURI, entries, destructed: false, destruct() { this.destructed = true; } };
            records.chrome.push(handle);
            return handle;
          },
        }),
      },
    },
    Ci: { amIAddonManagerStartup: {}, nsIFile: {} },
    Services: {
      io: { newURI: (spec) => ({ spec }) },
      scriptloader: {
        loadSubScript: (url) => {
          const file = fileURLToPath(url);
          vm.runInContext(fs.readFileSync(file, "utf8"), context, { filename: file });
        },
      },
      prompt: { confirm: (win, title, text) => { records.confirms.push({ title, text }); return confirmAnswer; } },
      env: { exists: (name) => name in env, get: (name) => env[name] ?? "" },
      dirsvc: { get: () => ({ path: "/home/tester" }) },
    },
    PathUtils: { join: (...parts) => path.join(...parts) },
    IOUtils: realFiles
      ? {
        exists: async (p) => { records.tokenReads.push(p); return fs.existsSync(p); },
        readUTF8: async (p) => fs.readFileSync(p, "utf8"),
      }
      : {
        exists: async (p) => { records.tokenReads.push(p); return tokenFileText !== null; },
        readUTF8: async () => tokenFileText,
      },
    fetch, URL, URLSearchParams, AbortController, setTimeout, clearTimeout, console,
  };
  vm.createContext(context);
  vm.runInContext(fs.readFileSync(path.join(BRIDGE_DIR, "bootstrap.js"), "utf8"), context, { filename: "bootstrap.js" });
  const started = context.startup({ id: "specter-desk@specter-desk.org", version: "0.1.0", rootURI: ROOT_URI }, 5);
  await started;
  return { context, Zotero, records, window, pane, prefStore, ROOT_URI };
}

/** Render a section option's onRender + onAsyncRender into a fresh body; returns the body. */
async function renderSection(section, window, item, summaries = []) {
  const doc = window.document;
  const body = doc.createElement("div");
  doc.body.appendChild(body);
  const args = {
    paneID: section.paneID, doc, body, item, tabType: "library", editable: true,
    setL10nArgs: () => {}, setEnabled: (v) => v, setSectionButtonStatus: () => {},
    setSectionSummary: (s) => { summaries.push(s); return s; },
  };
  section.onRender(args);
  const afterRender = body.querySelector("[data-sd-state]")?.getAttribute("data-sd-state");
  await section.onAsyncRender(args);
  return { body, afterRender, args };
}

/** Wait until check() is truthy (polling), or fail after ms. */
async function waitFor(check, ms = 2000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("waitFor timed out");
}

module.exports = { startPlugin, makeItem, makeWindow, renderSection, waitFor, BRIDGE_DIR, ROOT_URI };
