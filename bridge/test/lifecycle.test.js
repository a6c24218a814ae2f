// bootstrap.js lifecycle: what startup registers, and that shutdown unregisters all of it.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { startPlugin, makeWindow } = require("./helpers/fakeZotero");

test("startup registers chrome, the preference pane, the section, the observer and the menus", async () => {
  const { records, window, Zotero, ROOT_URI } = await startPlugin();
  assert.equal(records.chrome.length, 1);
  assert.deepEqual(JSON.parse(JSON.stringify(records.chrome[0].entries)), [["content", "specter-desk", `${ROOT_URI}content/`]]);
  const pane = records.prefPanes.get("specter-desk-prefpane");
  assert.equal(pane.pluginID, "specter-desk@specter-desk.org");
  assert.equal(pane.src, `${ROOT_URI}prefs.xhtml`);
  assert.deepEqual([...pane.scripts], [`${ROOT_URI}content/prefsPane.js`]);
  assert.ok(records.sections.has("specter-desk-related"));
  const observers = [...records.observers.values()];
  assert.equal(observers.length, 1);
  assert.deepEqual([...observers[0].types], ["item"]);
  const doc = window.document;
  for (const id of ["specter-desk-menu-recommended", "specter-desk-menu-duplicates", "specter-desk-menu-sync"]) {
    assert.equal(doc.getElementById(id).parentElement.id, "menu_ToolsPopup", id);
    assert.equal(doc.getElementById(id).getAttribute("data-l10n-id"), id);
  }
  assert.equal(doc.getElementById("specter-desk-ftl").getAttribute("href"), "specter-desk.ftl");
  assert.ok(doc.getElementById("specter-desk-stylesheet"));
  assert.equal(Zotero.SpecterDesk.pluginID, "specter-desk@specter-desk.org");
});

test("shutdown unregisters everything startup registered", async () => {
  const { context, records, window, Zotero } = await startPlugin();
  const second = makeWindow();
  context.onMainWindowLoad({ window: second });
  assert.ok(second.document.getElementById("specter-desk-menu-duplicates"));
  const observerIDs = [...records.observers.keys()];

  context.shutdown({}, 4);

  assert.equal(records.sections.size, 0);
  assert.deepEqual(records.unregisteredSections, ["specter-desk-citations", "specter-desk-related"]);
  assert.equal(records.observers.size, 0);
  assert.deepEqual(records.unregisteredObservers, observerIDs);
  assert.equal(records.prefPanes.size, 0);
  assert.deepEqual(records.unregisteredPanes, ["specter-desk-prefpane"]);
  assert.equal(records.chrome[0].destructed, true);
  assert.equal(Zotero.SpecterDesk, undefined);
  for (const win of [window, second]) {
    assert.equal(win.document.querySelectorAll('[id^="specter-desk-"]').length, 0);
    assert.equal(win.document.getElementById("menu_ToolsPopup").children.length, 0);
  }
});

test("a window closed before shutdown loses its menus on unload; reloading does not duplicate", async () => {
  const { context, window } = await startPlugin();
  context.onMainWindowLoad({ window });
  assert.equal(window.document.querySelectorAll("#specter-desk-menu-sync").length, 1);
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

test("the Tools menu entries open the dialogs and Sync now posts /v1/sync", async () => {
  const { startFakeBridge } = require("./helpers/fakeBridge");
  const bridge = await startFakeBridge();
  try {
    const { window } = await startPlugin({
      prefs: { "extensions.specter-desk.bridgeURL": bridge.url, "extensions.specter-desk.token": bridge.token },
    });
    const doc = window.document;
    doc.getElementById("specter-desk-menu-duplicates").dispatchEvent(new window.Event("command"));
    doc.getElementById("specter-desk-menu-recommended").dispatchEvent(new window.Event("command"));
    assert.deepEqual(window.openedDialogs.map((d) => [d.url, d.io.title]), [
      ["chrome://specter-desk/content/dialog.xhtml", "Duplicates"],
      ["chrome://specter-desk/content/dialog.xhtml", "Recommended this week"],
    ]);
    doc.getElementById("specter-desk-menu-sync").dispatchEvent(new window.Event("command"));
    const { waitFor } = require("./helpers/fakeZotero");
    await waitFor(() => bridge.requests.some((r) => r.method === "POST" && r.path === "/v1/sync"));
  } finally {
    await bridge.close();
  }
});
