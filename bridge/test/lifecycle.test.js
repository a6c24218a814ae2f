// bootstrap.js lifecycle: what startup registers, and that shutdown unregisters all of it.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { startPlugin, makeWindow, clickMenu, waitFor } = require("./helpers/fakeZotero");

const SECTIONS_10 = ["specter-desk\\@specter-desk\\.org-specter-desk-related", "specter-desk\\@specter-desk\\.org-specter-desk-citations"];
const SECTIONS_7 = ["specter-desk-specter-desk-org-specter-desk-related", "specter-desk-specter-desk-org-specter-desk-citations"];
const MENU_ENTRIES = ["specter-desk-menu-recommended", "specter-desk-menu-duplicates", "specter-desk-menu-sync"];

test("startup registers chrome, the preference pane, the section, the observer and the menus (Zotero 10)", async () => {
  const { records, window, Zotero, ROOT_URI } = await startPlugin();
  assert.equal(records.chrome.length, 1);
  assert.deepEqual(JSON.parse(JSON.stringify(records.chrome[0].entries)), [["content", "specter-desk", `${ROOT_URI}content/`]]);
  const pane = records.prefPanes.get("specter-desk-prefpane");
  assert.equal(pane.pluginID, "specter-desk@specter-desk.org");
  assert.equal(pane.src, `${ROOT_URI}prefs.xhtml`);
  assert.deepEqual([...pane.scripts], [`${ROOT_URI}content/prefsPane.js`]);
  assert.equal(pane.image, "chrome://specter-desk/content/icons/specter-desk.svg");
  assert.deepEqual([...records.sections.keys()], SECTIONS_10);
  const observers = [...records.observers.values()];
  assert.equal(observers.length, 1);
  assert.deepEqual([...observers[0].types], ["item"]);
  // Zotero 8+: one MenuManager registration for the Tools menu, nothing put into the window
  assert.deepEqual([...records.menus.keys()], [
    "specter-desk\\@specter-desk\\.org-specter-desk-tools",
    "specter-desk\\@specter-desk\\.org-specter-desk-collection",
  ]);
  const [menu, collectionMenu] = [...records.menus.values()];
  assert.equal(collectionMenu.target, "main/library/collection");
  assert.deepEqual([...collectionMenu.menus].map((m) => m.l10nID), ["specter-desk-menu-subscribe"]);
  assert.equal(menu.target, "main/menubar/tools");
  assert.deepEqual([...menu.menus].map((m) => m.menuType), ["separator", "menuitem", "menuitem", "menuitem"]);
  assert.deepEqual([...menu.menus].slice(1).map((m) => m.l10nID), MENU_ENTRIES);
  const doc = window.document;
  assert.equal(doc.getElementById("menu_ToolsPopup").children.length, 0);
  assert.equal(doc.getElementById("specter-desk-ftl").getAttribute("href"), "specter-desk.ftl");
  assert.ok(doc.getElementById("specter-desk-stylesheet"));
  assert.equal(Zotero.SpecterDesk.pluginID, "specter-desk@specter-desk.org");
});

test("on Zotero 7 the menus go into each window's Tools menu and the section id is Zotero 7's", async () => {
  const { records, window } = await startPlugin({ zotero: 7 });
  assert.deepEqual([...records.sections.keys()], SECTIONS_7);
  assert.equal(records.menus.size, 0);
  const doc = window.document;
  for (const id of MENU_ENTRIES) {
    assert.equal(doc.getElementById(id).parentElement.id, "menu_ToolsPopup", id);
    assert.equal(doc.getElementById(id).getAttribute("data-l10n-id"), id);
  }
  const subscribe = doc.getElementById("specter-desk-menu-subscribe");
  assert.equal(subscribe.parentElement.id, "zotero-collectionmenu");
  assert.equal(subscribe.getAttribute("data-l10n-id"), "specter-desk-menu-subscribe");
});

for (const zotero of [10, 7]) {
  test(`shutdown unregisters everything startup registered (Zotero ${zotero})`, async () => {
    const { context, records, window, Zotero } = await startPlugin({ zotero });
    const second = makeWindow();
    context.onMainWindowLoad({ window: second });
    assert.ok(second.document.getElementById("specter-desk-stylesheet"));
    const observerIDs = [...records.observers.keys()];
    const sectionIDs = [...records.sections.keys()];
    const menuIDs = [...records.menus.keys()];

    context.shutdown({}, 4);

    assert.equal(records.sections.size, 0);
    assert.deepEqual([...records.unregisteredSections].sort(), sectionIDs.sort());
    assert.equal(records.observers.size, 0);
    assert.deepEqual(records.unregisteredObservers, observerIDs);
    assert.equal(records.menus.size, 0);
    assert.deepEqual(records.unregisteredMenus, menuIDs);
    assert.equal(records.prefPanes.size, 0);
    assert.deepEqual(records.unregisteredPanes, ["specter-desk-prefpane"]);
    assert.equal(records.chrome[0].destructed, true);
    assert.equal(Zotero.SpecterDesk, undefined);
    for (const win of [window, second]) {
      assert.equal(win.document.querySelectorAll('[id^="specter-desk-"]').length, 0);
      assert.equal(win.document.getElementById("menu_ToolsPopup").children.length, 0);
      assert.equal(win.document.getElementById("zotero-collectionmenu").children.length, 0);
    }
  });
}

test("a window closed before shutdown loses its elements on unload; reloading does not duplicate", async () => {
  const { context, window } = await startPlugin({ zotero: 7 });
  context.onMainWindowLoad({ window });
  assert.equal(window.document.querySelectorAll("#specter-desk-menu-sync").length, 1);
  assert.equal(window.document.querySelectorAll("#specter-desk-stylesheet").length, 1);
  context.onMainWindowUnload({ window });
  assert.equal(window.document.querySelectorAll('[id^="specter-desk-"]').length, 0);
});

test("a shutdown while a sync is pending cancels it: no request after shutdown", async () => {
  const { startFakeBridge } = require("./helpers/fakeBridge");
  const bridge = await startFakeBridge();
  try {
    const { context, Zotero } = await startPlugin({
      prefs: { "extensions.specter-desk.bridgeURL": bridge.url, "extensions.specter-desk.token": bridge.token },
      items: [require("./helpers/fakeZotero").makeItem({ id: 1, key: "AAAAAAA2" })],
      syncDelayMs: 30,
    });
    Zotero.Notifier.trigger("modify", "item", [1]);
    context.shutdown({}, 4);
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(bridge.requests.length, 0);
  } finally {
    await bridge.close();
  }
});

for (const zotero of [10, 7]) {
  test(`the Tools menu entries open the dialogs and Sync now posts /v1/sync (Zotero ${zotero})`, async () => {
    const { startFakeBridge } = require("./helpers/fakeBridge");
    const bridge = await startFakeBridge();
    try {
      const env = await startPlugin({
        zotero,
        prefs: { "extensions.specter-desk.bridgeURL": bridge.url, "extensions.specter-desk.token": bridge.token },
      });
      const { window } = env;
      clickMenu(env, "specter-desk-menu-duplicates");
      clickMenu(env, "specter-desk-menu-recommended");
      assert.deepEqual(window.openedDialogs.map((d) => [d.url, d.io.title]), [
        ["chrome://specter-desk/content/dialog.xhtml", "Duplicates"],
        ["chrome://specter-desk/content/dialog.xhtml", "Recommended this week"],
      ]);
      clickMenu(env, "specter-desk-menu-sync");
      await waitFor(() => bridge.requests.some((r) => r.method === "POST" && r.path === "/v1/sync"));
    } finally {
      await bridge.close();
    }
  });
}
