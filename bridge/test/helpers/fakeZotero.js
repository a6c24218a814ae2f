// A fake Zotero for node --test: records what the plugin registers and runs bootstrap.js and
// the plugin's scripts in a vm context built like Zotero's bootstrap sandbox
// (Zotero.Plugins' _loadScope, chrome/content/zotero/xpcom/plugins.js): the context has exactly
// the globals recorded from a running Zotero 10 in ../fixtures/zotero-sandbox-globals.json
// (tests/real_zotero checks that list against the real app), so a plugin that uses anything
// else (AbortController, console, structuredClone...) fails here as it would in Zotero.
//
// `zotero: 10` (default) behaves like Zotero 10 (MenuManager, mergeItems.mjs, the namespaced
// section id, getSelectedLibraryIDs); `zotero: 7` like Zotero 7.0 (Tools menu in the window,
// Zotero.Items.merge, getSelectedLibraryID, the older section id).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const { pathToFileURL, fileURLToPath } = require("node:url");
const { JSDOM } = require("jsdom");
const { makeWorld } = require("./fakeItems");

const BRIDGE_DIR = path.resolve(__dirname, "..", "..");
const ROOT_URI = pathToFileURL(BRIDGE_DIR).href + "/";
const SANDBOX = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "zotero-sandbox-globals.json"), "utf8"));
const REASONS = {
  APP_STARTUP: 1, APP_SHUTDOWN: 2, ADDON_ENABLE: 3, ADDON_DISABLE: 4, ADDON_INSTALL: 5,
  ADDON_UNINSTALL: 6, ADDON_UPGRADE: 7, ADDON_DOWNGRADE: 8, MAIN_WINDOW_LOAD: 9, MAIN_WINDOW_UNLOAD: 10,
};
// ECMAScript built-ins SpiderMonkey 140 has and Node 20's V8 lacks: the fake cannot provide
// them (the plugin does not use them; typecheck.test.js would flag a use only by running it).
const NOT_IN_NODE = new Set(["Float16Array", "InternalError", "Iterator", "Temporal"]);

/** CSS.escape as the CSSOM spec defines it (jsdom lacks it; Zotero 8+ namespaces ids with it). */
function cssEscape(value) {
  const string = String(value);
  let result = "";
  for (let i = 0; i < string.length; i++) {
    const code = string.charCodeAt(i);
    if (code === 0) result += "\uFFFD";
    else if ((code >= 0x1 && code <= 0x1f) || code === 0x7f
      || (i === 0 && code >= 0x30 && code <= 0x39)
      || (i === 1 && code >= 0x30 && code <= 0x39 && string.charCodeAt(0) === 0x2d)) {
      result += `\\${code.toString(16)} `;
    } else if (i === 0 && string.length === 1 && code === 0x2d) result += `\\${string[i]}`;
    else if (code >= 0x80 || code === 0x2d || code === 0x5f || (code >= 0x30 && code <= 0x39)
      || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) result += string[i];
    else result += `\\${string[i]}`;
  }
  return result;
}

/**
 * A Zotero item (fakeItems.js) from {id, key, libraryID = 1, title, abstract, itemType =
 * "journalArticle", fields: {field: value}, regular = true, deleted = false, dateAdded}; an
 * item given to startPlugin is made anew in that Zotero (the same object, its state reset).
 */
function makeItem(spec) {
  const alone = makeWorld({ zotero: 10, records: { saves: [], undos: [], merges: [] } });
  return alone.makeItem({ spec: Object.freeze({ ...spec }) });
}

/** A main window: a jsdom document with Zotero's Tools menu popup, collection context menu and the library tab (zotero-pane) with its trees. */
function makeWindow() {
  const dom = new JSDOM(`<!DOCTYPE html><html><head></head><body><div id="menu_ToolsPopup"></div>`
    + `<div id="zotero-collectionmenu"></div>`
    + `<div id="zotero-pane"><div id="zotero-trees"></div></div></body></html>`);
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

const unavailable = (name) => function () {
  throw new Error(`${name} is a real Zotero sandbox global the fake does not implement`);
};

/**
 * The sandbox's globals beyond what every JavaScript context has: exactly the recorded names.
 * A recorded name the fake has no value for throws here, so the list and the fake stay in step.
 */
function sandboxGlobals(provided) {
  const probe = vm.createContext({});
  const builtins = new Set(vm.runInContext("Object.getOwnPropertyNames(globalThis)", probe));
  builtins.delete("console"); // Node adds console to vm contexts; Zotero's sandbox has none
  const globals = {};
  for (const name of SANDBOX.globals) {
    if (builtins.has(name) || NOT_IN_NODE.has(name)) continue;
    if (!(name in provided)) throw new Error(`fakeZotero: no value for the sandbox global ${name}`);
    globals[name] = provided[name];
  }
  const extra = Object.keys(provided).filter((name) => !SANDBOX.globals.includes(name));
  if (extra.length) throw new Error(`fakeZotero: ${extra.join(", ")} are not Zotero sandbox globals`);
  return globals;
}

/**
 * Build the fake Zotero world and start the plugin through bootstrap.js.
 * @param {object} o
 * @param {7 | 10} [o.zotero]                which Zotero to behave like
 * @param {Record<string, unknown>} [o.prefs]  pref overrides (full names)
 * @param {object[]} [o.items]               items made with makeItem
 * @param {string | null} [o.tokenFileText]  content of the daemon token file (null: no file)
 * @param {number} [o.syncDelayMs]
 * @param {boolean} [o.confirmAnswer]
 * @param {Record<string, string>} [o.env]  environment seen through Services.env
 * @param {boolean} [o.realFiles]  IOUtils reads the real file system (for the token file)
 * @param {unknown} [o.translateError]  what Zotero's translation rejects with (e.g. offline)
 * @param {number[]} [o.readOnlyLibraries]  libraries whose items are not editable
 * @param {(master, others) => unknown} [o.mergeError]  run inside each merge (throw to fail it)
 * @param {{ key: string, name: string }[]} [o.collections]  the collections selected in the pane
 */
async function startPlugin({ collections = [], translateError = null, zotero = 10, prefs = {}, items = [], tokenFileText = null, syncDelayMs = 40, confirmAnswer = true, env = {}, realFiles = false, readOnlyLibraries = [], mergeError = null } = {}) {
  const records = {
    sections: new Map(), unregisteredSections: [], observers: new Map(), unregisteredObservers: [],
    prefPanes: new Map(), unregisteredPanes: [], chrome: [], selected: [], merges: [],
    translations: [], confirms: [], errors: [], debug: [], tokenReads: [], menus: new Map(),
    unregisteredMenus: [], imports: [], saves: [], undos: [], transactions: 0,
    feeds: [], feedSaves: [], feedUpdates: [], progress: [],
  };
  const world = makeWorld({ zotero, readOnlyLibraries, records, mergeError });
  items = items.map((spec) => world.makeItem(spec));
  const prefStore = defaultPrefs();
  prefStore.set("extensions.specter-desk.syncDelayMs", String(syncDelayMs));
  for (const [name, value] of Object.entries(prefs)) prefStore.set(name, value);
  const byKey = new Map(items.map((item) => [`${item.libraryID}/${item.key}`, item]));
  const byID = new Map(items.map((item) => [item.id, item]));
  const window = makeWindow();
  const pane = zotero >= 10
    ? {
      selectItem: async (id) => { records.selected.push(id); return true; },
      getSelectedLibraryIDs: () => [1],
      getSelectedCollections: () => collections,
      getSelectedCollection: () => { throw new Error("ZoteroPane.getSelectedCollection() was removed -- use ZoteroPane.getSelectedCollections()"); },
      getSelectedLibraryID: () => { throw new Error("ZoteroPane.getSelectedLibraryID() was removed -- use ZoteroPane.getSelectedLibraryIDs()"); },
    }
    : {
      selectItem: async (id) => { records.selected.push(id); return true; },
      getSelectedLibraryID: () => 1,
      getSelectedCollection: () => collections[0] || false,
    };
  let observerCount = 0;
  const sectionID = (options) => (zotero >= 8
    ? cssEscape(`${options.pluginID}-${options.paneID}`)
    : `${options.pluginID}-${options.paneID}`.replace(/[^a-zA-Z0-9-_]/g, "-"));

  const Zotero = {
    version: zotero >= 10 ? "10.0.0" : "7.0.0",
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
      registerSection: (options) => {
        const id = sectionID(options);
        records.sections.set(id, { ...options, paneID: id });
        return id;
      },
      unregisterSection: (id) => { records.unregisteredSections.push(id); return records.sections.delete(id); },
    },
    Notifier: {
      registerObserver: (observer, types, name) => {
        const id = `${name}_${++observerCount}`;
        records.observers.set(id, { observer, types });
        return id;
      },
      unregisterObserver: (id) => { records.unregisteredObservers.push(id); records.observers.delete(id); },
      /** Deliver an event the way Zotero.Notifier.trigger does (extraData: event options). */
      trigger: (event, type, ids, extraData = {}) => {
        for (const { observer, types } of records.observers.values()) {
          if (!types || types.includes(type)) observer.notify(event, type, ids, extraData);
        }
      },
    },
    Items: {
      getByLibraryAndKey: (libraryID, key) => byKey.get(`${libraryID}/${key}`) || false,
      get: (ids) => (Array.isArray(ids) ? ids.map((id) => byID.get(id)).filter(Boolean) : byID.get(ids) || false),
      merge: (master, others) => world.merge(master, others, "Zotero.Items.merge"),
    },
    ItemTypes: world.schema.ItemTypes,
    ItemFields: world.schema.ItemFields,
    DB: world.DB,
    Libraries: {
      userLibraryID: 1,
      getAll: () => [{ libraryID: 1 }, { libraryID: 2 }],
      get: (libraryID) => ({ libraryID, editable: !readOnlyLibraries.includes(libraryID) }),
    },
    getMainWindow: () => window,
    getMainWindows: () => [window],
    getActiveZoteroPane: () => pane,
    Translate: {
      Search: class {
        setIdentifier(identifier) { this.identifier = identifier; }
        async getTranslators() { return ["DOI Content Negotiation"]; }
        setTranslator(translators) { this.translators = translators; }
        async translate(options) {
          records.translations.push({ identifier: this.identifier, options });
          if (translateError) throw translateError;
          return [world.makeItem(makeItem({ id: 999, key: "NEWITEM9" }))];
        }
      },
    },
  };
  // Zotero's feeds (xpcom/data/feed.js, feeds.js): one library per feed URL, read on updateFeed
  Zotero.Feed = class {
    constructor({ name, url } = {}) { Object.assign(this, { name, url, libraryID: 0, lastCheckError: null }); }
    async saveTx() {
      if (!this.libraryID) {
        if (records.feeds.some((feed) => feed.url === this.url)) throw new Error(`Feed for URL already exists: ${this.url}`);
        this.libraryID = 100 + records.feeds.length;
        records.feeds.push(this);
      }
      records.feedSaves.push({ libraryID: this.libraryID, url: this.url });
    }
    async updateFeed() { records.feedUpdates.push(this.url); }
  };
  Zotero.Feeds = { getAll: () => [...records.feeds] };
  Zotero.ProgressWindow = class {
    constructor() { this.entry = { headline: "", lines: [], shown: false }; records.progress.push(this.entry); }
    changeHeadline(text) { this.entry.headline = text; }
    addDescription(text) { this.entry.lines.push(text); }
    show() { this.entry.shown = true; return true; }
    startCloseTimer(ms) { this.entry.closeAfterMs = ms; }
  };
  if (zotero >= 10) Zotero.UndoHistory = world.UndoHistory;
  if (zotero >= 8) {
    Zotero.MenuManager = {
      registerMenu: (options) => {
        const id = cssEscape(`${options.pluginID}-${options.menuID}`);
        records.menus.set(id, options);
        return id;
      },
      unregisterMenu: (id) => { records.unregisteredMenus.push(id); return records.menus.delete(id); },
    };
  }

  const ChromeUtils = {
    importESModule: (url) => {
      records.imports.push(url);
      if (zotero >= 9 && url === "chrome://zotero/content/mergeItems.mjs") {
        return { mergeItems: (master, others) => world.merge(master, others, "mergeItems") };
      }
      throw new Error(`Failed to load ${url}`);
    },
  };
  const Services = {
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
  };
  const Cc = {
    "@mozilla.org/addons/addon-manager-startup;1": {
      getService: () => ({
        registerChrome: (manifestURI, entries) => {
          const handle = { manifestURI, entries, destructed: false, destruct() { this.destructed = true; } };
          records.chrome.push(handle);
          return handle;
        },
      }),
    },
  };
  const Ci = { amIAddonManagerStartup: {}, nsIFile: {} };
  const IOUtils = realFiles
    ? {
      exists: async (p) => { records.tokenReads.push(p); return fs.existsSync(p); },
      readUTF8: async (p) => fs.readFileSync(p, "utf8"),
    }
    : {
      exists: async (p) => { records.tokenReads.push(p); return tokenFileText !== null; },
      readUTF8: async () => tokenFileText,
    };

  const context = vm.createContext(sandboxGlobals({
    ...REASONS,
    Zotero, Services, ChromeUtils, Cc, Ci, Cu: {}, Cr: {}, Components: { classes: Cc, interfaces: Ci },
    IOUtils, PathUtils: { join: (...parts) => path.join(...parts) },
    atob, btoa, Blob, File, fetch, Headers, Request, Response, URL, URLSearchParams, webkitURL: URL,
    TextDecoder, TextEncoder, crypto: globalThis.crypto, Crypto: globalThis.Crypto,
    setTimeout, clearTimeout, setInterval, clearInterval,
    requestIdleCallback: (fn) => setTimeout(() => fn({ didTimeout: false, timeRemaining: () => 50 }), 0),
    cancelIdleCallback: (id) => clearTimeout(id),
    DOMParser: window.DOMParser, XMLSerializer: window.XMLSerializer, FileReader: window.FileReader,
    XMLHttpRequest: window.XMLHttpRequest, XMLHttpRequestEventTarget: window.XMLHttpRequestEventTarget,
    EventTarget: window.EventTarget, CSS: { escape: cssEscape },
    Localization: unavailable("Localization"), ChromeWorker: unavailable("ChromeWorker"),
    Worker: unavailable("Worker"), importFunction: unavailable("importFunction"),
    XPCNativeWrapper: (o) => o, dump: (s) => records.debug.push(String(s)), debug: (s) => records.debug.push(String(s)),
  }));
  vm.runInContext("delete globalThis.console;", context);
  vm.runInContext(fs.readFileSync(path.join(BRIDGE_DIR, "bootstrap.js"), "utf8"), context, { filename: "bootstrap.js" });
  await context.startup({ id: "specter-desk@specter-desk.org", version: "0.1.0", rootURI: ROOT_URI }, REASONS.ADDON_ENABLE);
  /** The live item of a key (library 1 unless given). */
  const item = (key, libraryID = 1) => byKey.get(`${libraryID}/${key}`);
  return { context, Zotero, records, window, pane, prefStore, ROOT_URI, zotero, world, item };
}

/** A section the plugin registered, by its paneID (under whichever id this Zotero gives it). */
function section(env, paneID = "specter-desk-related") {
  // Zotero keeps the section under "<plugin id>-<paneID>" (escaped as this version does)
  const found = [...env.records.sections.values()].filter((options) => options.paneID.endsWith(`-${paneID}`));
  assert(found.length === 1, `expected one ${paneID} section, got ${found.length}`);
  return found[0];
}

/**
 * Choose a Tools menu entry by its Fluent id, as the user does: through the MenuManager
 * registration on Zotero 8+, through the element in the window's Tools menu on Zotero 7.
 */
function clickMenu(env, l10nID, window = env.window) {
  if (env.zotero >= 8) {
    const entry = [...env.records.menus.values()].flatMap((m) => m.menus).find((m) => m.l10nID === l10nID);
    assert(entry, `no menu entry ${l10nID}`);
    const target = window.document.createElement("menuitem");
    window.document.body.appendChild(target);
    entry.onCommand({ target: Object.assign(target, { ownerGlobal: window }) }, {});
    target.remove();
    return;
  }
  window.document.getElementById(l10nID).dispatchEvent(new window.Event("command"));
}

function assert(ok, message) {
  if (!ok) throw new Error(message);
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

/**
 * The plugin with a fake bridge's URL and token in its settings, and its section paneID.
 * @param {{ url: string, token: string }} bridge
 */
async function startWithBridge(bridge, paneID, extra = {}) {
  const env = await startPlugin({
    prefs: { "extensions.specter-desk.bridgeURL": bridge.url, "extensions.specter-desk.token": bridge.token },
    ...extra,
  });
  return { ...env, section: section(env, paneID) };
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

module.exports = {
  startPlugin, startWithBridge, makeItem, makeWindow, renderSection, waitFor, section, clickMenu, cssEscape,
  BRIDGE_DIR, ROOT_URI, SANDBOX, REASONS,
};
