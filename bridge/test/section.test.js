// The "Related papers" section: every state, clicks, token header, errors shown not thrown.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { startFakeBridge, deadURL } = require("./helpers/fakeBridge");
const { startWithBridge, makeItem, renderSection, waitFor, section: sectionOf } = require("./helpers/fakeZotero");

const SEED = makeItem({ id: 1, key: "SEEDKEY2", title: "Seed paper" });
const LIBRARY_HIT = makeItem({ id: 2, key: "LIBAAAA2", title: "Attention Is All You Need" });

let bridge;
test.beforeEach(async () => { bridge = await startFakeBridge(); });
test.afterEach(async () => { await bridge.close(); });

function plugin(extra = {}) {
  return startWithBridge(bridge, "specter-desk-related", { items: [SEED, LIBRARY_HIT], ...extra });
}

const state = (body) => body.querySelector("[data-sd-state]")?.getAttribute("data-sd-state");

test("section is registered with header and sidenav l10n ids and a plugin id", async () => {
  const { section } = await plugin();
  assert.equal(section.pluginID, "specter-desk@specter-desk.org");
  assert.equal(section.header.l10nID, "specter-desk-related-header");
  assert.equal(section.sidenav.l10nID, "specter-desk-related-sidenav");
  assert.match(section.header.icon, /content\/icons\/related-16\.svg$/);
  assert.equal(typeof section.onRender, "function");
});

test("loading first, then results with title, year and score; summary set", async () => {
  const { section, window } = await plugin();
  const summaries = [];
  const { body, afterRender } = await renderSection(section, window, SEED, summaries);
  assert.equal(afterRender, "loading");
  assert.equal(state(body), "results");
  const rows = [...body.querySelectorAll(".sd-hit")];
  assert.equal(rows.length, 3);
  assert.equal(rows[0].querySelector(".sd-title").textContent, "Attention Is All You Need");
  assert.match(rows[0].querySelector(".sd-meta").textContent, /Vaswani · 2017 · NeurIPS/);
  assert.equal(rows[0].querySelector(".sd-score").textContent, "0.93");
  assert.equal(summaries.at(-1), "3 related");
  const call = bridge.requests.find((r) => r.path === "/v1/papers/SEEDKEY2/related");
  assert.equal(call.query.k, "10");
});

test("the bearer token from the preferences is sent, and k/model come from the preferences", async () => {
  const { section, window } = await plugin({
    prefs: { "extensions.specter-desk.bridgeURL": bridge.url, "extensions.specter-desk.token": bridge.token, "extensions.specter-desk.results": "2", "extensions.specter-desk.model": "specter2" },
  });
  const { body } = await renderSection(section, window, SEED);
  const call = bridge.requests.find((r) => r.path.endsWith("/related"));
  assert.equal(call.headers.authorization, `Bearer ${bridge.token}`);
  assert.deepEqual(call.query, { k: "2", model: "specter2" });
  assert.equal(body.querySelectorAll(".sd-hit").length, 2);
});

test("with an empty token preference the token file is read and sent", async () => {
  const { section, window, records } = await plugin({
    prefs: { "extensions.specter-desk.bridgeURL": bridge.url },
    tokenFileText: `${bridge.token}\n`,
  });
  const { body } = await renderSection(section, window, SEED);
  assert.equal(state(body), "results");
  assert.equal(bridge.requests.at(-1).headers.authorization, `Bearer ${bridge.token}`);
  assert.equal(records.tokenReads[0], "/home/tester/.local/share/specter-desk/bridge-token");
});

test("a wrong token shows the unauthorized state with the command that prints the token", async () => {
  const { section, window } = await plugin({
    prefs: { "extensions.specter-desk.bridgeURL": bridge.url, "extensions.specter-desk.token": "wrong" },
  });
  const { body } = await renderSection(section, window, SEED);
  assert.equal(state(body), "unauthorized");
  assert.match(body.textContent, /specter-desk bridge token/);
});

test("daemon not running: a clear message and how to start it; onAsyncRender does not throw", async () => {
  const { section, window } = await plugin({ prefs: { "extensions.specter-desk.bridgeURL": await deadURL(), "extensions.specter-desk.token": "t" } });
  const { body } = await renderSection(section, window, SEED);
  assert.equal(state(body), "daemon-down");
  assert.match(body.querySelector(".sd-state-title").textContent, /not running/);
  assert.equal(body.querySelector(".sd-command").textContent, "specter-desk serve");
});

test("no abstract: the explanation is shown above the title-only results", async () => {
  bridge.route("GET", "/v1/papers/{key}/related", (_url, _b, params) => ({
    status: 200,
    json: { item: { key: params.key, title: "T", year: 2020, has_abstract: false }, model: "minilm", related: [{ key: "LIBAAAA2", title: "X", year: 2001, venue: "", first_author: "", doi: null, arxiv_id: null, pool: "library", score: 0.4 }] },
  }));
  const noAbstract = makeItem({ id: 3, key: "NOABST22", abstract: "" });
  const { section, window } = await plugin({ items: [noAbstract] });
  const { body } = await renderSection(section, window, noAbstract);
  assert.equal(state(body), "no-abstract");
  assert.match(body.textContent, /Similarity is computed from the title and the abstract/);
  assert.equal(body.querySelectorAll(".sd-hit").length, 1);
});

test("not yet embedded (409 not_embedded) has its own state with a retry that re-asks", async () => {
  let calls = 0;
  bridge.route("GET", "/v1/papers/{key}/related", () => {
    calls += 1;
    return calls === 1
      ? { status: 409, json: { error: { code: "not_embedded", message: "SEEDKEY2 has no minilm vector yet" } } }
      : { status: 200, json: { item: { key: "SEEDKEY2", title: "T", year: 1, has_abstract: true }, model: "m", related: [] } };
  });
  const { section, window } = await plugin();
  const { body } = await renderSection(section, window, SEED);
  assert.equal(state(body), "not-embedded");
  assert.match(body.textContent, /still computing its embedding/);
  body.querySelector(".sd-button").click();
  await waitFor(() => state(body) === "empty");
  assert.equal(calls, 2);
});

test("unknown to the bridge (404) offers Sync now, which POSTs /v1/sync", async () => {
  bridge.route("GET", "/v1/papers/{key}/related", () => ({ status: 404, json: { error: { code: "not_found", message: "no paper SEEDKEY2" } } }));
  const { section, window } = await plugin();
  const { body } = await renderSection(section, window, SEED);
  assert.equal(state(body), "not-synced");
  body.querySelector(".sd-button").click();
  await waitFor(() => bridge.requests.some((r) => r.method === "POST" && r.path === "/v1/sync"));
});

test("a server error is shown in the section with its message, not thrown", async () => {
  bridge.route("GET", "/v1/papers/{key}/related", () => ({ status: 500, json: { error: { code: "internal", message: "index is being rebuilt" } } }));
  const { section, window } = await plugin();
  const { body } = await renderSection(section, window, SEED);
  assert.equal(state(body), "error");
  assert.match(body.textContent, /index is being rebuilt/);
  assert.match(body.textContent, /code: internal/);
});

test("a reply that is not JSON is an error state too", async () => {
  bridge.route("GET", "/v1/papers/{key}/related", () => ({ status: 200, json: undefined }));
  const { section, window } = await plugin();
  const { body } = await renderSection(section, window, SEED);
  assert.equal(state(body), "error");
});

test("a bridge URL off this computer is refused before any request (the token stays local)", async () => {
  const { section, window } = await plugin({ prefs: { "extensions.specter-desk.bridgeURL": "http://example.com:23120", "extensions.specter-desk.token": "t" } });
  const { body } = await renderSection(section, window, SEED);
  assert.equal(state(body), "error");
  assert.match(body.textContent, /must point to this computer/);
  assert.equal(bridge.requests.length, 0);
});

test("clicking a library result selects that item in Zotero", async () => {
  const { section, window, records } = await plugin();
  const { body } = await renderSection(section, window, SEED);
  const row = body.querySelector('.sd-hit[data-key="LIBAAAA2"]');
  assert.equal(row.querySelector(".sd-add"), null);
  row.querySelector("button.sd-title").click();
  await waitFor(() => records.selected.length === 1);
  assert.deepEqual(records.selected, [LIBRARY_HIT.id]);
});

test("a library result that is gone from Zotero shows an inline error instead of throwing", async () => {
  const { section, window, records } = await plugin({ items: [SEED] });
  const { body } = await renderSection(section, window, SEED);
  body.querySelector('.sd-hit[data-key="LIBAAAA2"] button.sd-title').click();
  await waitFor(() => body.querySelector(".sd-inline-error"));
  assert.match(body.querySelector(".sd-inline-error").textContent, /not in your Zotero libraries/);
  assert.equal(records.selected.length, 0);
});

test("a candidate offers Add to library by DOI; one without identifiers says so", async () => {
  const { section, window, records } = await plugin();
  const { body } = await renderSection(section, window, SEED);
  const candidate = body.querySelector('.sd-hit[data-key="CANDBBB3"]');
  assert.equal(candidate.querySelector(".sd-badge").textContent, "not in your library");
  candidate.querySelector(".sd-add").click();
  await waitFor(() => candidate.querySelector(".sd-add").textContent === "Added");
  assert.deepEqual({ ...records.translations[0].identifier }, { DOI: "10.18653/v1/N19-1423" });
  assert.equal(records.translations[0].options.libraryID, 1);
  const bare = body.querySelector('.sd-hit[data-key="CANDCCC4"]');
  assert.equal(bare.querySelector(".sd-add"), null);
  assert.match(bare.textContent, /no DOI or arXiv id/);
});

test("a slow answer for a previous item never overwrites the current one", async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  bridge.route("GET", "/v1/papers/{key}/related", async (_u, _b, params) => {
    if (params.key === "SEEDKEY2") await gate;
    return { status: 200, json: { item: { key: params.key, title: "T", year: 1, has_abstract: true }, model: "m", related: [{ key: "LIBAAAA2", title: `for ${params.key}`, year: 1, venue: "", first_author: "", doi: null, arxiv_id: null, pool: "library", score: 1 }] } };
  });
  const other = makeItem({ id: 5, key: "OTHERKY2" });
  const { section, window } = await plugin({ items: [SEED, other] });
  const doc = window.document;
  const body = doc.createElement("div");
  const args = (item) => ({ doc, body, item, setSectionSummary: () => {}, setEnabled: () => {} });
  section.onRender(args(SEED));
  const slow = section.onAsyncRender(args(SEED));
  await waitFor(() => bridge.requests.some((r) => r.path.includes("SEEDKEY2")));
  section.onRender(args(other));
  await section.onAsyncRender(args(other));
  release();
  await slow;
  assert.equal(body.querySelector(".sd-title").textContent, "for OTHERKY2");
});

test("the section is disabled for notes and attachments", async () => {
  const { section } = await plugin();
  const enabled = [];
  section.onItemChange({ item: makeItem({ id: 7, key: "NOTEKEY2", regular: false }), setEnabled: (v) => enabled.push(v) });
  section.onItemChange({ item: SEED, setEnabled: (v) => enabled.push(v) });
  assert.deepEqual(enabled, [false, true]);
});

test("on Zotero 7 Add to library uses the selected library from getSelectedLibraryID()", async () => {
  const { section, window, records } = await plugin({ zotero: 7 });
  const { body } = await renderSection(section, window, SEED);
  const candidate = body.querySelector('.sd-hit[data-key="CANDBBB3"]');
  candidate.querySelector(".sd-add").click();
  await waitFor(() => candidate.querySelector(".sd-add").textContent === "Added");
  assert.equal(records.translations[0].options.libraryID, 1);
});

test("Add to library while offline says the lookup failed and why, and can be tried again", async () => {
  const offline = new Error("HTTP GET https://doi.org/10.18653/v1/N19-1423 failed with status code 0");
  const { section, window } = await plugin({ translateError: offline });
  const { body } = await renderSection(section, window, SEED);
  const candidate = body.querySelector('.sd-hit[data-key="CANDBBB3"]');
  candidate.querySelector(".sd-add").click();
  await waitFor(() => candidate.querySelector(".sd-inline-error"));
  assert.equal(candidate.querySelector(".sd-inline-error").textContent,
    "Zotero could not look up 10.18653/v1/N19-1423 (is this computer online?): HTTP GET https://doi.org/10.18653/v1/N19-1423 failed with status code 0");
  assert.equal(candidate.querySelector(".sd-add").textContent, "Add to library");
  assert.equal(candidate.querySelector(".sd-add").hasAttribute("disabled"), false);
});

test("no token anywhere (empty preference, no token file): the no-token state says where it looked", async () => {
  const { section, window } = await plugin({
    prefs: { "extensions.specter-desk.bridgeURL": bridge.url },
    tokenFileText: null,
    env: { SPECTER_DESK_HOME: "/data/specter" },
  });
  const { body } = await renderSection(section, window, SEED);
  assert.equal(state(body), "no-token");
  assert.equal(body.querySelector(".sd-command").textContent, "specter-desk bridge token");
  assert.match(body.querySelector(".sd-state-detail").textContent,
    /^Looked in: \/data\/specter\/bridge-token, \/home\/tester\/.local\/share\/specter-desk\/bridge-token$/);
  assert.equal(bridge.requests.filter((r) => r.path.endsWith("/related")).length, 0, "no request without a token");
});

/** One section body that items are rendered into in turn, as Zotero does. */
function oneBody(window, summaries = []) {
  const doc = window.document;
  const body = doc.createElement("div");
  const args = (item) => ({ doc, body, item, setSectionSummary: (s) => summaries.push(s), setEnabled: () => {} });
  return { body, args };
}

/** SEED rendered (both hooks), then only OTHER's onRender: what Zotero does when OTHER's
 * section is out of view. */
async function seedThenOther(section, args, other) {
  section.onRender(args(SEED));
  await section.onAsyncRender(args(SEED));
  section.onRender(args(other));
}

test("A, then B without its async render, then A again: A's last answer is shown, not a placeholder", async () => {
  // Zotero skips onAsyncRender for an item it already async-rendered, even if B's onRender
  // replaced the body in between (seen in Zotero 10: B's section was scrolled out of view).
  const other = makeItem({ id: 5, key: "OTHERKY2" });
  const { section, window } = await plugin({ items: [SEED, other] });
  const summaries = [];
  const { body, args } = oneBody(window, summaries);
  await seedThenOther(section, args, other);
  assert.equal(state(body), "loading");
  const requests = bridge.requests.length;
  section.onRender(args(SEED)); // no onAsyncRender: Zotero thinks SEED is rendered
  assert.equal(state(body), "results");
  assert.equal(body.dataset.sdItem, "SEEDKEY2");
  assert.equal(body.querySelectorAll(".sd-hit").length, 3);
  assert.equal(summaries.at(-1), "3 related");
  assert.equal(bridge.requests.length, requests, "drawn from the last answer, no new request");
});

test("the last error is shown again the same way, with its Retry", async () => {
  const { section, window } = await plugin({ prefs: { "extensions.specter-desk.bridgeURL": await deadURL(), "extensions.specter-desk.token": "t" } });
  const { body, args } = oneBody(window);
  await seedThenOther(section, args, makeItem({ id: 5, key: "OTHERKY2" }));
  section.onRender(args(SEED));
  assert.equal(state(body), "daemon-down");
  assert.equal(body.querySelector(".sd-button").textContent, "Retry");
});

test("after a settings change the last answer is shown and asked again with the new settings", async () => {
  const other = makeItem({ id: 5, key: "OTHERKY2" });
  const env = await plugin({ items: [SEED, other] });
  const { section, window, prefStore } = env;
  const { body, args } = oneBody(window);
  await seedThenOther(section, args, other);
  prefStore.set("extensions.specter-desk.results", "2");
  section.onRender(args(SEED)); // Zotero skips onAsyncRender: the section asks by itself
  assert.equal(state(body), "results");
  await waitFor(() => body.querySelectorAll(".sd-hit").length === 2);
  assert.equal(bridge.requests.filter((r) => r.path.endsWith("/related")).at(-1).query.k, "2");
});
