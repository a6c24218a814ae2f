// The Duplicates dialog's part C (bulk merge with progress and undo, versions apart and
// cross-type merge, "Not duplicates") and check on add, against the fake Zotero (its item
// schema recorded from Zotero 10 and re-checked by tests/real_zotero/test_duplicates.py, which
// runs the same flows in a real Zotero).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { startFakeBridge, deadURL } = require("./helpers/fakeBridge");
const { startPlugin, makeItem, makeWindow, waitFor, clickMenu } = require("./helpers/fakeZotero");

const paper = (key, title, extra = {}) => ({ key, title, year: 2020, first_author: "Doe", doi: null, item_type: "journalArticle", ...extra });
/** A cluster of the daemon over items K{n}A (kept) and K{n}B. */
function cluster(n, score, extra = {}) {
  const a = `KEEP${n + 4}AAA`;
  const b = `COPY${n + 4}BBB`;
  return {
    id: n, score, master: a, kind: "duplicates", mixed_types: false,
    papers: [paper(a, `Paper ${n}`), paper(b, `Paper ${n}`)],
    pairs: [{ a, b, score, reasons: ["same DOI", "same title"] }],
    merged: {}, ...extra,
  };
}
const itemsOf = (n, extra = {}) => [
  makeItem({ id: n * 10, key: `KEEP${n + 4}AAA`, title: `Paper ${n}` }),
  makeItem({ id: n * 10 + 1, key: `COPY${n + 4}BBB`, title: `Paper ${n}`, ...extra }),
];

let bridge;
test.beforeEach(async () => { bridge = await startFakeBridge(); });
test.afterEach(async () => { await bridge.close(); });

async function openDuplicates({ clusters = [], versions = [], items = [], confirmAnswer = true, zotero = 10, url, mergeError, readOnlyLibraries } = {}) {
  bridge.route("GET", "/v1/duplicates", () => ({ status: 200, json: { clusters, versions } }));
  const env = await startPlugin({
    zotero, items, confirmAnswer, mergeError, readOnlyLibraries,
    prefs: { "extensions.specter-desk.bridgeURL": url || bridge.url, "extensions.specter-desk.token": bridge.token },
  });
  clickMenu(env, "specter-desk-menu-duplicates");
  const { io } = env.window.openedDialogs.at(-1);
  const dialog = makeWindow();
  dialog.document.body.innerHTML = '<div id="sd-dialog-root"></div>';
  io.onLoad(dialog);
  const root = dialog.document.getElementById("sd-dialog-root");
  await waitFor(() => root.querySelector("[data-sd-state]")?.getAttribute("data-sd-state") !== "loading" && root.querySelector("[data-sd-state]"));
  const card = (id, kind = "duplicates") => root.querySelector(`.sd-cluster[data-kind="${kind}"][data-cluster="${id}"]`);
  return { ...env, root, card };
}

test("duplicates and versions are listed apart; a version group keeps the published one and offers Link as related", async () => {
  const versions = [{
    id: 7, score: 0.99, master: "ARTICLE7", kind: "versions", mixed_types: true,
    papers: [paper("ARTICLE7", "Crowd work", { venue: "MIS Quarterly" }), paper("CONFER77", "Crowd work", { item_type: "conferencePaper", venue: "ICIS 2020" })],
    pairs: [{ a: "ARTICLE7", b: "CONFER77", score: 0.99, reasons: ["same title"], versions: ["item types differ"] }],
    merged: {},
  }];
  const { root, card } = await openDuplicates({ clusters: [cluster(1, 0.99)], versions });
  assert.equal(root.querySelector("[data-sd-state]").getAttribute("data-sd-state"), "clusters");
  assert.match(root.textContent, /1 cluster of duplicates and 1 group of versions/);
  const headings = [...root.querySelectorAll(".sd-subheading")].map((h) => h.textContent);
  assert.deepEqual(headings, ["The same publication recorded more than once", "Versions of one work (preprint, conference paper, journal article…)"]);
  const group = card(7, "versions");
  assert.equal(group.querySelector(".sd-master").getAttribute("data-key"), "ARTICLE7");
  assert.match(group.querySelector(".sd-master").textContent, /kept \(published\)/);
  assert.match(group.querySelector(".sd-cluster-head").textContent, /versions: item types differ/);
  assert.match(group.querySelector('[data-key="CONFER77"] .sd-meta').textContent, /Conference Paper · ICIS 2020/);
  assert.deepEqual([...group.querySelectorAll(".sd-card-actions button")].map((b) => b.textContent),
    ["Merge, keeping the published one…", "Link as related", "Not the same work"]);
  assert.deepEqual([...card(1).querySelectorAll(".sd-card-actions button")].map((b) => b.textContent), ["Merge…", "Not duplicates"]);
  // versions are never in the bulk merge
  assert.equal(root.querySelector(".sd-bulk-merge").textContent, "Merge all 1 cluster above 0.95");
});

test("bulk merge: the clusters above the score, one Zotero merge each, progress, a cluster that cannot be merged skipped with its reason", async () => {
  const clusters = [cluster(1, 0.99), cluster(2, 0.98), cluster(3, 0.97), cluster(4, 0.91)];
  const items = [...itemsOf(1), ...itemsOf(2, { deleted: true }), ...itemsOf(3), ...itemsOf(4)];
  const { root, records, card, item } = await openDuplicates({ clusters, items });
  const button = root.querySelector(".sd-bulk-merge");
  assert.equal(button.textContent, "Merge all 3 clusters above 0.95");
  const score = root.querySelector(".sd-bulk-score");
  score.value = "0.9";
  score.dispatchEvent(new score.ownerDocument.defaultView.Event("input"));
  assert.equal(button.textContent, "Merge all 4 clusters above 0.90");
  score.value = "0.975";
  score.dispatchEvent(new score.ownerDocument.defaultView.Event("input"));
  assert.equal(button.textContent, "Merge all 2 clusters above 0.97", "0.99 and 0.98");
  score.value = "0.95";
  score.dispatchEvent(new score.ownerDocument.defaultView.Event("input"));

  const progress = [];
  const observer = new (root.ownerDocument.defaultView.MutationObserver)(() => progress.push(root.querySelector(".sd-bulk-progress").getAttribute("value")));
  observer.observe(root.querySelector(".sd-bulk-progress"), { attributes: true });
  button.click();
  await waitFor(() => /^Merged/.test(root.querySelector(".sd-bulk-status").textContent));
  observer.disconnect();
  assert.equal(records.confirms.length, 1, "one question for the batch");
  assert.match(records.confirms[0].text, /^Merge 3 clusters \(6 items\) scoring 0\.95 or more/);
  assert.match(records.confirms[0].text, /Zotero can undo these merges \(one undo step each\)/);
  assert.deepEqual(records.merges.map((m) => m.master.key), ["KEEP5AAA", "KEEP7AAA"], "cluster 2 skipped, 4 below the score");
  assert.ok(records.merges.every((m) => m.via === "mergeItems"));
  assert.deepEqual([...new Set(progress)], ["0", "1", "2", "3"]);
  assert.equal(root.querySelector(".sd-bulk-progress").getAttribute("hidden"), "hidden");
  assert.match(root.querySelector(".sd-bulk-status").textContent, /^Merged 2 clusters \(4 items\); skipped 1\./);
  assert.equal(root.querySelector(".sd-skipped").textContent, "“Paper 2” (COPY6BBB) is in the trash.", "the reason names the record; no title twice");
  assert.equal(card(1).getAttribute("data-state"), "merged");
  assert.equal(card(2).getAttribute("data-state"), "skipped");
  assert.equal(card(4).getAttribute("data-state"), "open");
  assert.equal(item("COPY5BBB").deleted, true);
  assert.deepEqual(item("KEEP5AAA").getRelations()["dc:replaces"], ["http://zotero.org/users/local/fake/items/COPY5BBB"]);
  assert.equal(button.textContent, "Merge all 0 clusters above 0.95");
  assert.equal(button.getAttribute("disabled"), "true");

  // Zotero 10's undo: both merges, newest first
  root.querySelector(".sd-bulk-undo-button").click();
  await waitFor(() => root.querySelector(".sd-bulk-status").textContent === "Undid 2 merge(s).");
  assert.deepEqual(records.undos, ["undo-action-merge-items", "undo-action-merge-items"]);
  assert.equal(item("COPY5BBB").deleted, false);
  assert.equal(item("COPY7BBB").deleted, false);
  assert.deepEqual(item("KEEP5AAA").getRelations(), {});
  assert.equal(card(1).getAttribute("data-state"), "open");
});

test("bulk merge: a merge Zotero refuses is skipped with Zotero's reason, the items as they were, the batch goes on", async () => {
  const clusters = [cluster(1, 0.99), cluster(2, 0.98, { mixed_types: true })];
  const items = [...itemsOf(1), itemsOf(2)[0], makeItem({ id: 21, key: "COPY6BBB", title: "Paper 2", itemType: "conferencePaper", fields: { conferenceName: "ICIS" } })];
  const mergeError = (master) => { if (master.key === "KEEP5AAA") throw new Error("database is locked"); };
  const { root, records, card, item } = await openDuplicates({ clusters, items, mergeError });
  root.querySelector(".sd-bulk-merge").click();
  await waitFor(() => /^Merged/.test(root.querySelector(".sd-bulk-status").textContent));
  assert.match(records.confirms[0].text, /1 of them mix item types: those items take the kept item's type first/);
  assert.match(root.querySelector(".sd-bulk-status").textContent, /^Merged 1 cluster \(2 items\); skipped 1\./);
  assert.match(card(1).querySelector(".sd-merge-status").textContent, /^Skipped: Zotero could not merge them: database is locked/);
  assert.equal(root.querySelector(".sd-skipped").textContent, "“Paper 1”: Zotero could not merge them: database is locked");
  assert.equal(item("COPY5BBB").deleted, false);
  assert.equal(records.merges.length, 1);
  assert.equal(item("COPY6BBB").itemType, "journalArticle");
});

test("a failed cross-type merge leaves the converted item its old type and fields", async () => {
  const items = [itemsOf(1)[0], makeItem({ id: 11, key: "COPY5BBB", title: "Paper 1", itemType: "conferencePaper", fields: { conferenceName: "ICIS", proceedingsTitle: "Proc. ICIS" } })];
  const { root, card, item } = await openDuplicates({ clusters: [cluster(1, 0.99)], items, mergeError: () => { throw new Error("disk full"); } });
  card(1).querySelector(".sd-merge").click();
  await waitFor(() => card(1).getAttribute("data-state") === "skipped");
  assert.match(card(1).querySelector(".sd-merge-status").textContent, /Zotero could not merge them: disk full/);
  const copy = item("COPY5BBB");
  assert.equal(copy.itemType, "conferencePaper");
  assert.equal(copy.getField("conferenceName"), "ICIS");
  assert.equal(copy.getField("proceedingsTitle"), "Proc. ICIS");
  assert.equal(copy.getField("extra"), "");
  assert.ok(root);
});

test("cross-type merge: the conference paper becomes a journal article (proceedings title kept as publication, conference name to Extra), then Zotero merges", async () => {
  const versions = [{
    id: 7, score: 0.99, master: "ARTICLE7", kind: "versions", mixed_types: true,
    papers: [paper("ARTICLE7", "Crowd work"), paper("CONFER77", "Crowd work", { item_type: "conferencePaper" })],
    pairs: [{ a: "ARTICLE7", b: "CONFER77", score: 0.99, reasons: ["same title"], versions: ["item types differ"] }], merged: {},
  }];
  const items = [
    makeItem({ id: 1, key: "ARTICLE7", title: "Crowd work", fields: { publicationTitle: "MIS Quarterly", volume: "44" } }),
    makeItem({ id: 2, key: "CONFER77", title: "Crowd work", itemType: "conferencePaper", fields: { proceedingsTitle: "Proc. ICIS 2020", conferenceName: "ICIS 2020", place: "India", extra: "Note: keep" } }),
  ];
  const { records, card, item } = await openDuplicates({ versions, items });
  card(7, "versions").querySelector(".sd-merge").click();
  await waitFor(() => card(7, "versions").getAttribute("data-state") === "merged");
  assert.match(records.confirms[0].text, /Merged into it: Crowd work \(CONFER77, Conference Paper\)/);
  assert.match(records.confirms[0].text, /1 item\(s\) become a Journal Article first; fields a Journal Article has no place for go to their Extra field/);
  const [merge] = records.merges;
  assert.deepEqual([...merge.types], ["journalArticle"], "converted before Zotero's merge");
  const json = merge.json[0];
  assert.equal(json.publicationTitle, "Proc. ICIS 2020");
  assert.equal(json.place, "India", "a journal article has a place in Zotero 10");
  assert.equal(json.extra, "Conference Name: ICIS 2020\nNote: keep");
  assert.equal(item("CONFER77").deleted, true);
  // a version's venue and volume are not copied into the kept item
  assert.equal(item("ARTICLE7").getField("publicationTitle"), "MIS Quarterly");
  assert.match(card(7, "versions").querySelector(".sd-merge-status").textContent, /“Crowd work” \(Conference Paper → Journal Article\)/);
  // Zotero's undo takes the type change back too (one transaction)
  card(7, "versions").querySelector(".sd-undo").click();
  await waitFor(() => card(7, "versions").getAttribute("data-state") === "open");
  assert.equal(item("CONFER77").itemType, "conferencePaper");
  assert.equal(item("CONFER77").getField("conferenceName"), "ICIS 2020");
});

test("a duplicate merge fills the kept item's empty fields from the other (a DOI only the copy has)", async () => {
  const items = [itemsOf(1)[0], makeItem({ id: 11, key: "COPY5BBB", title: "Paper 1", fields: { DOI: "10.1/x", volume: "3" } })];
  const { card, item } = await openDuplicates({ clusters: [cluster(1, 0.99)], items });
  card(1).querySelector(".sd-merge").click();
  await waitFor(() => card(1).getAttribute("data-state") === "merged");
  assert.equal(item("KEEP5AAA").getField("DOI"), "10.1/x");
  assert.equal(item("KEEP5AAA").getField("title"), "Paper 1");
});

test("Link as related links every pair both ways (dc:relation) in one transaction Zotero can undo", async () => {
  const versions = [{
    id: 8, score: 0.95, master: "ARTICLE8", kind: "versions", mixed_types: true,
    papers: [paper("ARTICLE8", "A"), paper("PREPRNT8", "A", { item_type: "preprint" })],
    pairs: [{ a: "ARTICLE8", b: "PREPRNT8", score: 0.95, reasons: ["same title"], versions: ["a preprint"] }], merged: {},
  }];
  const items = [makeItem({ id: 1, key: "ARTICLE8", title: "A" }), makeItem({ id: 2, key: "PREPRNT8", title: "A", itemType: "preprint" })];
  const { card, item, world, records } = await openDuplicates({ versions, items });
  card(8, "versions").querySelector(".sd-relate").click();
  await waitFor(() => card(8, "versions").getAttribute("data-state") === "related");
  assert.deepEqual(item("ARTICLE8").getRelations()["dc:relation"], [world.uriOf(item("PREPRNT8"))]);
  assert.deepEqual(item("PREPRNT8").getRelations()["dc:relation"], [world.uriOf(item("ARTICLE8"))]);
  assert.equal(item("PREPRNT8").deleted, false);
  assert.equal(records.merges.length, 0);
  assert.equal(world.UndoHistory.getUndoAction().action, "undo-action-add-related");
});

test("a read-only library is skipped with its reason", async () => {
  const items = [makeItem({ id: 1, key: "KEEP5AAA", title: "Paper 1", libraryID: 2 }), makeItem({ id: 2, key: "COPY5BBB", title: "Paper 1", libraryID: 2 })];
  const { card, records } = await openDuplicates({ clusters: [cluster(1, 0.99)], items, readOnlyLibraries: [2] });
  card(1).querySelector(".sd-merge").click();
  await waitFor(() => card(1).getAttribute("data-state") === "skipped");
  assert.match(card(1).querySelector(".sd-merge-status").textContent, /read-only/);
  assert.equal(records.merges.length, 0);
});

test("undo stops at a merge that is no longer Zotero's last step", async () => {
  const { root, card, world, item } = await openDuplicates({ clusters: [cluster(1, 0.99), cluster(2, 0.99)], items: [...itemsOf(1), ...itemsOf(2)] });
  root.querySelector(".sd-bulk-merge").click();
  await waitFor(() => root.querySelector(".sd-bulk-undo-button"));
  // something else is done in Zotero since: its own undo step is on top
  await world.DB.executeTransaction(async () => {
    world.UndoHistory.stageAction("undo-action-add-tag");
    item("KEEP5AAA").addTag("later");
    await item("KEEP5AAA").save();
  });
  root.querySelector(".sd-bulk-undo-button").click();
  await waitFor(() => /^Undid 0 merge/.test(root.querySelector(".sd-bulk-status").textContent));
  assert.match(root.querySelector(".sd-bulk-status").textContent, /restore them from the trash/);
  assert.equal(card(1).getAttribute("data-state"), "merged");
  assert.equal(item("COPY6BBB").deleted, true);
});

test("Not duplicates posts the cluster's keys to the daemon; Undo forgets the mark; the daemon down says so", async () => {
  const marks = [];
  bridge.route("POST", "/v1/duplicates/distinct", (_url, body) => {
    marks.push(body);
    return { status: 200, json: { keys: body.keys, distinct: body.distinct, pairs: 1, changed: 1 } };
  });
  const { root, card, records } = await openDuplicates({ clusters: [cluster(1, 0.99), cluster(2, 0.99)], items: [...itemsOf(1), ...itemsOf(2)] });
  card(1).querySelector(".sd-distinct").click();
  await waitFor(() => card(1).getAttribute("data-state") === "distinct");
  assert.deepEqual(marks, [{ keys: ["KEEP5AAA", "COPY5BBB"], distinct: true }]);
  assert.match(card(1).querySelector(".sd-merge-status").textContent, /will not offer them together again/);
  assert.equal(root.querySelector(".sd-bulk-merge").textContent, "Merge all 1 cluster above 0.95", "a marked cluster leaves the batch");
  card(1).querySelector(".sd-undo-distinct").click();
  await waitFor(() => card(1).getAttribute("data-state") === "open");
  assert.deepEqual(marks[1], { keys: ["KEEP5AAA", "COPY5BBB"], distinct: false });
  assert.equal(records.merges.length, 0);

  await bridge.close();
  bridge = await startFakeBridge();
  card(2).querySelector(".sd-distinct").click();
  await waitFor(() => card(2).querySelector(".sd-inline-error"));
  assert.match(card(2).querySelector(".sd-inline-error").textContent, /specter-desk|token|401/i);
  assert.equal(card(2).getAttribute("data-state"), "open");
});

test("Not a duplicate for one record of a cluster of three marks it apart from each of the others; the others stay", async () => {
  const marks = [];
  bridge.route("POST", "/v1/duplicates/distinct", (_url, body) => {
    marks.push(body.keys);
    return { status: 200, json: { keys: body.keys, distinct: true, pairs: 1, changed: 1 } };
  });
  const three = cluster(1, 0.97);
  three.papers.push(paper("THIRDXCC", "Paper 1"));
  three.pairs.push({ a: "KEEP5AAA", b: "THIRDXCC", score: 0.97, reasons: ["same title"] });
  const { card } = await openDuplicates({ clusters: [three], items: itemsOf(1) });
  card(1).querySelector('[data-key="THIRDXCC"] .sd-distinct-paper').click();
  await waitFor(() => marks.length === 2 && !card(1).querySelector('[data-key="THIRDXCC"]'));
  assert.deepEqual(marks, [["THIRDXCC", "KEEP5AAA"], ["THIRDXCC", "COPY5BBB"]]);
  assert.equal(card(1).getAttribute("data-state"), "open");
  assert.deepEqual([...card(1).querySelectorAll(".sd-cluster-papers > li")].map((li) => li.getAttribute("data-key")), ["KEEP5AAA", "COPY5BBB"]);
  assert.equal(card(1).querySelectorAll(".sd-reasons").length, 1, "the third record's evidence is gone");
});

// ---- check on add ----

async function adding({ matches = [], prefs = {}, items = [], url } = {}) {
  const checks = [];
  bridge.route("POST", "/v1/duplicates/check", (_url, body) => {
    checks.push(body);
    return { status: 200, json: { matches } };
  });
  const env = await startPlugin({
    items,
    prefs: { "extensions.specter-desk.bridgeURL": url || bridge.url, "extensions.specter-desk.token": bridge.token, "extensions.specter-desk.syncOnChange": false, ...prefs },
  });
  const notice = () => env.window.document.getElementById("specter-desk-duplicate-notice");
  return { ...env, checks, notice };
}

const EXISTING = () => makeItem({ id: 1, key: "OLDKEY33", title: "Turking in the time of COVID", fields: { DOI: "10.3758/s13428-021-01588-4" } });
const ADDED = () => makeItem({ id: 2, key: "NEWKEY22", title: "Turking in the time of COVID", fields: { DOI: "10.3758/s13428-021-01588-4" }, dateAdded: "2026-12-01 10:00:00" });
const MATCH = { index: 0, key: "OLDKEY33", title: "Turking in the time of COVID", score: 0.99, reasons: ["same DOI", "same title"], kind: "duplicate" };

test("check on add: an added item already in the library gets a notice above the library with Show / Merge / Not a duplicate", async () => {
  const env = await adding({ matches: [MATCH], items: [EXISTING(), ADDED()] });
  env.Zotero.Notifier.trigger("add", "item", [2]);
  await waitFor(() => env.notice(), 3000);
  assert.equal(env.checks.length, 1);
  const sent = env.checks[0].items[0];
  assert.equal(sent.key, "NEWKEY22");
  assert.equal(sent.DOI, "10.3758/s13428-021-01588-4");
  assert.equal(sent.relations, undefined, "what says nothing about the work is not sent");
  const notice = env.notice();
  assert.equal(notice.nextElementSibling.id, "zotero-trees", "with Zotero's banners, above the collections and items");
  assert.equal(notice.getAttribute("role"), "status");
  const row = notice.querySelector('.sd-notice-row[data-added="NEWKEY22"]');
  assert.match(row.textContent, /“Turking in the time of COVID” is already in your library as “Turking in the time of COVID” \(0\.99: same DOI; same title\)/);
  assert.deepEqual([...row.querySelectorAll("button")].map((b) => b.textContent), ["Show", "Merge", "Not a duplicate"]);
  row.querySelector(".sd-notice-show").click();
  await waitFor(() => env.records.selected.length === 1);
  assert.deepEqual(env.records.selected, [1]);

  row.querySelector(".sd-notice-merge").click();
  await waitFor(() => /Merged 1 item/.test(row.querySelector(".sd-notice-status").textContent));
  assert.equal(env.records.merges[0].master.key, "OLDKEY33", "the item that was there first is kept");
  assert.equal(env.item("NEWKEY22").deleted, true);
  assert.equal(row.querySelector("button"), null, "done: no buttons");
  row.querySelector(".sd-notice-close").click();
  assert.equal(env.notice(), null, "closing the last row removes the notice");
});

test("check on add: Not a duplicate marks the pair; the daemon not knowing the new item yet (404) syncs first and tries again", async () => {
  const env = await adding({ matches: [MATCH], items: [EXISTING(), ADDED()] });
  let known = false;
  const marks = [];
  bridge.route("POST", "/v1/duplicates/distinct", (_url, body) => {
    marks.push(body.keys);
    if (!known) return { status: 404, json: { error: { code: "not_found", message: "no paper NEWKEY22" } } };
    return { status: 200, json: { keys: body.keys, distinct: true, pairs: 1, changed: 1 } };
  });
  bridge.route("POST", "/v1/sync", () => { known = true; return { status: 202, json: { state: "queued" } }; });
  bridge.route("GET", "/v1/sync", () => ({ status: 200, json: { state: "idle" } }));
  env.Zotero.Notifier.trigger("add", "item", [2]);
  await waitFor(() => env.notice(), 3000);
  env.notice().querySelector(".sd-notice-distinct").click();
  await waitFor(() => /Noted/.test(env.notice().querySelector(".sd-notice-status").textContent), 3000);
  assert.deepEqual(marks, [["NEWKEY22", "OLDKEY33"], ["NEWKEY22", "OLDKEY33"]]);
  assert.ok(bridge.requests.some((r) => r.method === "POST" && r.path === "/v1/sync"));
  assert.equal(env.records.merges.length, 0);
});

test("check on add: a version of a library paper says so, keeps the published one on Merge, and offers Link as related", async () => {
  const existing = makeItem({ id: 1, key: "PREPRNT2", title: "Crowd work", itemType: "preprint" });
  const added = makeItem({ id: 2, key: "ARTICLE2", title: "Crowd work" });
  const env = await adding({ matches: [{ ...MATCH, key: "PREPRNT2", kind: "version", reasons: ["same title"] }], items: [existing, added] });
  env.Zotero.Notifier.trigger("add", "item", [2]);
  await waitFor(() => env.notice(), 3000);
  const row = env.notice().querySelector(".sd-notice-row");
  assert.equal(row.getAttribute("data-kind"), "version");
  assert.match(row.textContent, /A version of “Crowd work” is already in your library as “Crowd work” \(Preprint;/);
  assert.deepEqual([...row.querySelectorAll("button")].map((b) => b.textContent), ["Show", "Merge", "Link as related", "Not a duplicate"]);
  row.querySelector(".sd-notice-merge").click();
  await waitFor(() => env.records.merges.length === 1);
  assert.equal(env.records.merges[0].master.key, "ARTICLE2", "the journal article (the added one) is kept");
  assert.deepEqual([...env.records.merges[0].types], ["journalArticle"], "the preprint took the article's type");
});

test("check on add: nothing asked when the setting is off, for items Zotero's sync writes, for notes; the daemon down shows nothing", async () => {
  const off = await adding({ matches: [MATCH], items: [EXISTING(), ADDED()], prefs: { "extensions.specter-desk.checkOnAdd": false } });
  off.Zotero.Notifier.trigger("add", "item", [2]);
  const synced = await adding({ matches: [MATCH], items: [EXISTING(), ADDED()] });
  synced.Zotero.Notifier.trigger("add", "item", [2], { skipAutoSync: true });
  const note = await adding({ matches: [MATCH], items: [EXISTING(), makeItem({ id: 2, key: "NOTEKEY2", regular: false })] });
  note.Zotero.Notifier.trigger("add", "item", [2]);
  const down = await adding({ matches: [MATCH], items: [EXISTING(), ADDED()], url: await deadURL() });
  down.Zotero.Notifier.trigger("add", "item", [2]);
  await new Promise((r) => setTimeout(r, 800));
  await down.context.SDPlugin.checker.idle();
  assert.equal(off.checks.length + synced.checks.length + note.checks.length, 0);
  for (const env of [off, synced, note, down]) assert.equal(env.notice(), null);
  assert.ok(down.records.debug.some((m) => /duplicate check failed: .*specter-desk/i.test(m)), down.records.debug.join("\n"));
});

test("check on add: a burst of adds is one request; at most 5 rows, then a count", async () => {
  const items = [EXISTING()];
  const matches = [];
  for (let i = 0; i < 7; i += 1) {
    items.push(makeItem({ id: 100 + i, key: `NEWKEY${"ABCDEFG"[i]}Z`, title: "Turking in the time of COVID" }));
    matches.push({ ...MATCH, index: i });
  }
  const env = await adding({ matches, items });
  for (let i = 0; i < 7; i += 1) env.Zotero.Notifier.trigger("add", "item", [100 + i]);
  await waitFor(() => env.notice(), 3000);
  assert.equal(env.checks.length, 1);
  assert.equal(env.checks[0].items.length, 7);
  assert.equal(env.notice().querySelectorAll(".sd-notice-row").length, 5);
  assert.match(env.notice().querySelector(".sd-notice-more").textContent, /and 2 more added item\(s\) already in your library/);
});

test("check on add: shutdown removes the notice and drops a check still waiting", async () => {
  const env = await adding({ matches: [MATCH], items: [EXISTING(), ADDED(), makeItem({ id: 3, key: "NEWKEY33", title: "Another" })] });
  env.Zotero.Notifier.trigger("add", "item", [2]);
  await waitFor(() => env.notice(), 3000);
  env.Zotero.Notifier.trigger("add", "item", [3]);
  env.context.shutdown({}, 4);
  assert.equal(env.notice(), null);
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(env.checks.length, 1, "the second add was never checked");
});
