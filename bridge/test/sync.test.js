// Notifier observer -> debounced POST /v1/sync.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { startFakeBridge, deadURL } = require("./helpers/fakeBridge");
const { startPlugin, makeItem, waitFor } = require("./helpers/fakeZotero");

const ITEMS = [
  makeItem({ id: 1, key: "AAAAAAA2" }),
  makeItem({ id: 2, key: "BBBBBBB3" }),
  makeItem({ id: 3, key: "NOTENOT4", regular: false }),
  makeItem({ id: 4, key: "FEEDITM5", libraryID: 2, feedItem: true }),
];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const syncs = (bridge) => bridge.requests.filter((r) => r.method === "POST" && r.path === "/v1/sync");

let bridge;
test.beforeEach(async () => { bridge = await startFakeBridge(); });
test.afterEach(async () => { await bridge.close(); });

async function plugin(prefs = {}, syncDelayMs = 80) {
  return startPlugin({
    prefs: { "extensions.specter-desk.bridgeURL": bridge.url, "extensions.specter-desk.token": bridge.token, ...prefs },
    items: ITEMS,
    syncDelayMs,
  });
}

test("a burst of adds and modifies makes one sync request after the quiet period", async () => {
  const { Zotero } = await plugin({}, 400);
  Zotero.Notifier.trigger("add", "item", [1]);
  await sleep(20);
  Zotero.Notifier.trigger("modify", "item", [1, 2]);
  await sleep(20);
  Zotero.Notifier.trigger("modify", "item", [2]);
  assert.equal(syncs(bridge).length, 0, "nothing before the quiet period ends");
  await waitFor(() => syncs(bridge).length === 1);
  await sleep(600);
  assert.equal(syncs(bridge).length, 1);
  assert.equal(syncs(bridge)[0].headers.authorization, `Bearer ${bridge.token}`);
  assert.deepEqual(syncs(bridge)[0].body, {});
});

test("trash and delete trigger a sync too; two separate bursts make two requests", async () => {
  const { Zotero } = await plugin();
  Zotero.Notifier.trigger("trash", "item", [1]);
  await waitFor(() => syncs(bridge).length === 1);
  Zotero.Notifier.trigger("delete", "item", [99]);
  await waitFor(() => syncs(bridge).length === 2);
});

test("changes to notes, feed items, other object types and other events do not sync", async () => {
  const { Zotero } = await plugin();
  Zotero.Notifier.trigger("modify", "item", [3]);
  Zotero.Notifier.trigger("add", "item", [4]); // Zotero's feed reader saving a feed item
  Zotero.Notifier.trigger("add", "collection", [1]);
  Zotero.Notifier.trigger("refresh", "item", [1]);
  await sleep(200);
  assert.equal(syncs(bridge).length, 0);
});

test("the syncOnChange preference turns it off", async () => {
  const { Zotero } = await plugin({ "extensions.specter-desk.syncOnChange": false });
  Zotero.Notifier.trigger("add", "item", [1]);
  await sleep(200);
  assert.equal(syncs(bridge).length, 0);
});

test("a daemon that is not running makes the sync fail quietly (logged, not thrown)", async () => {
  const { Zotero, records } = await plugin({ "extensions.specter-desk.bridgeURL": await deadURL() });
  assert.doesNotThrow(() => Zotero.Notifier.trigger("add", "item", [1]));
  await waitFor(() => records.debug.some((m) => m.includes("sync request failed")));
  assert.match(records.debug.find((m) => m.includes("sync request failed")), /specter-desk serve/);
  assert.equal(records.errors.length, 0);
});

test("changes during a running sync schedule one more sync after it", async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  let first = true;
  bridge.route("POST", "/v1/sync", async () => {
    if (first) { first = false; await gate; }
    return { status: 202, json: { state: "queued", library: null, progress: null, last_error: null } };
  });
  const { Zotero } = await plugin({}, 30);
  Zotero.Notifier.trigger("add", "item", [1]);
  await waitFor(() => syncs(bridge).length === 1);
  Zotero.Notifier.trigger("modify", "item", [2]);
  await sleep(100);
  assert.equal(syncs(bridge).length, 1, "no second request while the first runs");
  release();
  await waitFor(() => syncs(bridge).length === 2);
});
