// The Duplicates and "Recommended this week" dialogs.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { startFakeBridge, deadURL } = require("./helpers/fakeBridge");
const { startPlugin, makeItem, waitFor, clickMenu } = require("./helpers/fakeZotero");

const MASTER = makeItem({ id: 10, key: "MASTER22", title: "Deep Residual Learning" });
const COPY = makeItem({ id: 11, key: "COPYKEY3", title: "Deep residual learning for image recognition" });
const BOOK = makeItem({ id: 12, key: "BOOKKEY4", title: "Deep Residual Learning", itemType: "book", fields: { publisher: "IEEE", numPages: "9" } });
const CLUSTER = {
  id: 1, score: 0.97, master: "MASTER22",
  papers: [
    { key: "MASTER22", title: "Deep Residual Learning", year: 2016, first_author: "He", doi: "10.1109/cvpr.2016.90", item_type: "journalArticle" },
    { key: "COPYKEY3", title: "Deep residual learning for image recognition", year: 2016, first_author: "He", doi: null, item_type: "journalArticle" },
  ],
  pairs: [{ a: "MASTER22", b: "COPYKEY3", score: 0.97, reasons: ["same title", "same first author and year"] }],
  merged: { DOI: "10.1109/cvpr.2016.90" },
};

let bridge;
test.beforeEach(async () => { bridge = await startFakeBridge(); });
test.afterEach(async () => { await bridge.close(); });

async function openDialog(menuID, { confirmAnswer = true, items = [MASTER, COPY, BOOK], url, zotero = 10 } = {}) {
  const env = await startPlugin({
    zotero,
    prefs: { "extensions.specter-desk.bridgeURL": url || bridge.url, "extensions.specter-desk.token": bridge.token },
    items, confirmAnswer,
  });
  clickMenu(env, menuID);
  // What dialog.xhtml + dialog.js do: give the dialog window to io.onLoad.
  const { io } = env.window.openedDialogs.at(-1);
  const dialog = require("./helpers/fakeZotero").makeWindow();
  dialog.document.body.innerHTML = '<div id="sd-dialog-root"></div>';
  io.onLoad(dialog);
  const root = dialog.document.getElementById("sd-dialog-root");
  await waitFor(() => root.querySelector("[data-sd-state]") && root.querySelector("[data-sd-state]").getAttribute("data-sd-state") !== "loading");
  return { ...env, root, dialog };
}

test("Duplicates lists clusters with their reasons and marks the suggested master", async () => {
  bridge.route("GET", "/v1/duplicates", () => ({ status: 200, json: { clusters: [CLUSTER] } }));
  const { root, dialog } = await openDialog("specter-desk-menu-duplicates");
  assert.equal(dialog.document.title, "Duplicates");
  const card = root.querySelector(".sd-cluster");
  assert.match(card.querySelector(".sd-reasons").textContent, /same title; same first author and year/);
  assert.equal(card.querySelector(".sd-master").getAttribute("data-key"), "MASTER22");
  assert.match(card.querySelector(".sd-master").textContent, /kept \(master\)/);
});

test("Merge asks first, then calls Zotero 10's mergeItems(master, others) keeping the master", async () => {
  bridge.route("GET", "/v1/duplicates", () => ({ status: 200, json: { clusters: [CLUSTER] } }));
  const { root, records } = await openDialog("specter-desk-menu-duplicates");
  root.querySelector(".sd-merge").click();
  await waitFor(() => records.merges.length === 1);
  assert.equal(records.confirms.length, 1);
  assert.match(records.confirms[0].text, /Kept: Deep Residual Learning \(MASTER22, Journal Article\)/);
  assert.match(records.confirms[0].text, /Why: same title/);
  assert.equal(records.merges[0].master.id, MASTER.id);
  assert.deepEqual([...records.merges[0].others].map((o) => o.id), [COPY.id]);
  assert.equal(records.merges[0].via, "mergeItems");
  assert.deepEqual(records.imports, ["chrome://zotero/content/mergeItems.mjs"]);
  await waitFor(() => root.querySelector(".sd-cluster").getAttribute("data-state") === "merged");
  assert.equal(root.querySelector(".sd-merge"), null, "no second merge");
  assert.equal(root.querySelector(".sd-undo").textContent, "Undo merge");
  assert.equal(MASTER.deleted, false);
  assert.equal(COPY.deleted, true);
});

test("on Zotero 7 (no mergeItems.mjs) Merge calls Zotero.Items.merge", async () => {
  bridge.route("GET", "/v1/duplicates", () => ({ status: 200, json: { clusters: [CLUSTER] } }));
  const { root, records } = await openDialog("specter-desk-menu-duplicates", { zotero: 7 });
  root.querySelector(".sd-merge").click();
  await waitFor(() => records.merges.length === 1);
  assert.equal(records.merges[0].via, "Zotero.Items.merge");
  assert.equal(records.merges[0].master.id, MASTER.id);
  await waitFor(() => root.querySelector(".sd-cluster").getAttribute("data-state") === "merged");
  assert.equal(root.querySelector(".sd-undo"), null, "Zotero 7 has no undo");
  assert.doesNotMatch(records.confirms[0].text, /Undo/);
});

test("Merge cancelled in the confirm dialog merges nothing", async () => {
  bridge.route("GET", "/v1/duplicates", () => ({ status: 200, json: { clusters: [CLUSTER] } }));
  const { root, records } = await openDialog("specter-desk-menu-duplicates", { confirmAnswer: false });
  root.querySelector(".sd-merge").click();
  await waitFor(() => root.querySelector(".sd-merge-status").textContent === "Not merged.");
  assert.equal(records.merges.length, 0);
});

test("Merge refuses items missing from Zotero and items in the trash, without asking", async () => {
  const gone = { ...CLUSTER, papers: [CLUSTER.papers[0], { ...CLUSTER.papers[1], key: "GONEKEY5" }] };
  const trashed = { ...CLUSTER, id: 2 };
  bridge.route("GET", "/v1/duplicates", () => ({ status: 200, json: { clusters: [gone, trashed] } }));
  const copy = makeItem({ id: 11, key: "COPYKEY3", title: "Deep residual learning for image recognition", deleted: true });
  const { root, records } = await openDialog("specter-desk-menu-duplicates", { items: [MASTER, copy] });
  const [first, second] = root.querySelectorAll(".sd-merge");
  first.click();
  second.click();
  await waitFor(() => [...root.querySelectorAll(".sd-merge-status")].every((s) => s.textContent));
  const statuses = [...root.querySelectorAll(".sd-merge-status")].map((s) => s.textContent);
  assert.match(statuses[0], /^Cannot merge: .*GONEKEY5.*is not in your Zotero library any more/);
  assert.match(statuses[1], /^Cannot merge: .*COPYKEY3.*is in the trash/);
  assert.equal(records.confirms.length, 0);
  assert.equal(records.merges.length, 0);
});

test("Duplicates: none found, and daemon down, are states with a message", async () => {
  const none = await openDialog("specter-desk-menu-duplicates");
  assert.equal(none.root.querySelector("[data-sd-state]").getAttribute("data-sd-state"), "empty");
  const down = await openDialog("specter-desk-menu-duplicates", { url: await deadURL() });
  assert.equal(down.root.querySelector("[data-sd-state]").getAttribute("data-sd-state"), "daemon-down");
  assert.match(down.root.textContent, /specter-desk serve/);
});

test("Recommended this week asks since=week and shows results with why", async () => {
  const { root, records } = await openDialog("specter-desk-menu-recommended");
  const call = bridge.requests.find((r) => r.path === "/v1/recommendations");
  assert.equal(call.query.since, "week");
  const row = root.querySelector(".sd-hit");
  assert.equal(row.getAttribute("data-key"), "CANDBBB3");
  assert.match(row.querySelector(".sd-because").textContent, /because you added “Attention Is All You Need” \(0\.88\)/);
  assert.match(root.querySelector(".sd-seeds").textContent, /Based on 1 paper/);
  row.querySelector(".sd-add").click();
  await waitFor(() => records.translations.length === 1);
  assert.deepEqual({ ...records.translations[0].identifier }, { DOI: "10.18653/v1/N19-1423" });
});

test("More like this / Less like this send POST /v1/feedback and show the counts", async () => {
  const { root } = await openDialog("specter-desk-menu-recommended");
  const row = root.querySelector(".sd-hit");
  row.querySelector(".sd-vote-up").click();
  await waitFor(() => /1 up, 0 down/.test(row.querySelector(".sd-vote-status").textContent));
  row.querySelector(".sd-vote-down").click();
  await waitFor(() => /1 up, 1 down/.test(row.querySelector(".sd-vote-status").textContent));
  const votes = bridge.requests.filter((r) => r.path === "/v1/feedback").map((r) => r.body);
  assert.deepEqual(votes, [{ key: "CANDBBB3", vote: "up" }, { key: "CANDBBB3", vote: "down" }]);
});

test("Recommended this week with no seeds shows the bridge's message", async () => {
  bridge.route("GET", "/v1/recommendations", () => ({ status: 200, json: { since: "week", seeds: [], ranker: "similarity", results: [], message: "no papers added since 2026-11-18" } }));
  const { root } = await openDialog("specter-desk-menu-recommended");
  assert.equal(root.querySelector("[data-sd-state]").getAttribute("data-sd-state"), "empty");
  assert.match(root.textContent, /no papers added since 2026-11-18/);
});
