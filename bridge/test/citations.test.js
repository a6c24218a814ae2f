// The "Citations" section: Cites / Cited-by lists with counts, library papers marked and
// selectable, "Add to library" by DOI for the rest, and every state shown, never thrown.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { startFakeBridge, deadURL } = require("./helpers/fakeBridge");
const { startPlugin, makeItem, renderSection, waitFor } = require("./helpers/fakeZotero");

const SEED = makeItem({ id: 1, key: "SEEDKEY2", title: "Population pharmacokinetics of emicizumab" });
const CITED = makeItem({ id: 2, key: "LIBAAAA2", title: "Factor VIII-Mimetic Function of Humanized Bispecific Antibody" });

let bridge;
test.beforeEach(async () => { bridge = await startFakeBridge(); });
test.afterEach(async () => { await bridge.close(); });

async function plugin(extra = {}) {
  const env = await startPlugin({
    prefs: { "extensions.specter-desk.bridgeURL": bridge.url, "extensions.specter-desk.token": bridge.token },
    items: [SEED, CITED],
    ...extra,
  });
  return { ...env, section: env.records.sections.get("specter-desk-citations") };
}

const state = (body) => body.querySelector("[data-sd-state]")?.getAttribute("data-sd-state");

test("the section is registered beside Related papers, with its own l10n ids and icons", async () => {
  const { section, records } = await plugin();
  assert.ok(records.sections.has("specter-desk-related"));
  assert.equal(section.pluginID, "specter-desk@specter-desk.org");
  assert.equal(section.header.l10nID, "specter-desk-citations-header");
  assert.equal(section.sidenav.l10nID, "specter-desk-citations-sidenav");
  assert.match(section.header.icon, /content\/icons\/citations-16\.svg$/);
  assert.match(section.sidenav.icon, /content\/icons\/citations-20\.svg$/);
});

test("both lists with their counts; library papers marked; the summary says how many", async () => {
  const { section, window } = await plugin();
  const summaries = [];
  const { body, afterRender } = await renderSection(section, window, SEED, summaries);
  assert.equal(afterRender, "loading");
  assert.equal(state(body), "citations");
  const [cites, citedBy] = body.querySelectorAll("[data-sd-list]");
  assert.equal(cites.querySelector(".sd-citation-heading").textContent, "Cites 3 (1 in your library)");
  assert.equal(citedBy.querySelector(".sd-citation-heading").textContent, "Cited by 16 (0 in your library; 1 fetched)");
  const rows = [...cites.querySelectorAll(".sd-citation")];
  assert.equal(rows.length, 3);
  assert.match(rows[0].textContent, /in your library/);
  assert.equal(rows[0].querySelector(".sd-title").tagName, "BUTTON");
  assert.equal(rows[0].querySelector(".sd-add"), null);
  assert.equal(rows[1].querySelector(".sd-add").textContent, "Add to library");
  assert.match(rows[2].textContent, /no DOI to add it by/);
  assert.match(citedBy.textContent, /a candidate/);
  assert.equal(summaries.at(-1), "cites 3 · cited by 16");
  const call = bridge.requests.find((r) => r.path === "/v1/papers/SEEDKEY2/citations");
  assert.equal(call.headers.authorization, `Bearer ${bridge.token}`);
  assert.equal(call.query.limit, "200");
});

test("clicking a library paper selects it in Zotero", async () => {
  const { section, window, records } = await plugin();
  const { body } = await renderSection(section, window, SEED);
  body.querySelector(".sd-cites .sd-pool-library .sd-title").click();
  await waitFor(() => records.selected.length === 1);
  assert.deepEqual(records.selected, [CITED.id]);
});

test("Add to library looks the DOI up with Zotero's translators", async () => {
  const { section, window, records } = await plugin();
  const { body } = await renderSection(section, window, SEED);
  const add = body.querySelector(".sd-cites .sd-outside .sd-add");
  add.click();
  await waitFor(() => add.textContent === "Added");
  assert.equal(records.translations[0].identifier.DOI, "10.1111/j.1365-2516.2011.02539.x");
});

test("a paper without citation data says which command fetches it", async () => {
  bridge.route("GET", "/v1/papers/{key}/citations", (_url, _b, params) => ({
    status: 200,
    json: {
      key: params.key, title: "T", work: null, matched_by: null, cites: [], cited_by: [],
      counts: { cites: 0, cited_by: 0, cited_by_listed: 0, cites_in_library: 0, cited_by_in_library: 0 },
      fetched_at: {}, message: "no citation data for this paper yet: run `specter-desk citations sync`",
    },
  }));
  const { section, window } = await plugin();
  const summaries = [];
  const { body } = await renderSection(section, window, SEED, summaries);
  assert.equal(state(body), "no-citations");
  assert.equal(body.querySelector(".sd-command").textContent, "specter-desk citations sync");
  assert.equal(summaries.at(-1), "");
});

test("daemon not running: a clear message and how to start it; nothing thrown", async () => {
  const { section, window } = await plugin({ prefs: { "extensions.specter-desk.bridgeURL": await deadURL(), "extensions.specter-desk.token": "t" } });
  const { body } = await renderSection(section, window, SEED);
  assert.equal(state(body), "daemon-down");
  assert.equal(body.querySelector(".sd-command").textContent, "specter-desk serve");
});

test("an item the daemon does not know yet (404) says to sync first", async () => {
  bridge.route("GET", "/v1/papers/{key}/citations", () => ({ status: 404, json: { error: { code: "not_found", message: "no paper with key 'SEEDKEY2' in the store; sync first" } } }));
  const { section, window } = await plugin();
  const { body } = await renderSection(section, window, SEED);
  assert.equal(state(body), "not-synced");
});

test("the last answer is drawn at once when the item comes back (Zotero may skip onAsyncRender)", async () => {
  const { section, window } = await plugin();
  await renderSection(section, window, SEED);
  const asked = bridge.requests.length;
  const body = window.document.createElement("div");
  section.onRender({ body, doc: window.document, item: SEED, setSectionSummary: () => {} });
  assert.equal(state(body), "citations");
  assert.equal(bridge.requests.length, asked);
});

test("related results show what citations say, and a fused score is labelled as one", async () => {
  bridge.route("GET", "/v1/papers/{key}/related", (_url, _b, params) => ({
    status: 200,
    json: {
      item: { key: params.key, title: "T", year: 2020, has_abstract: true }, model: "minilm", by: "both",
      related: [{ key: "LIBAAAA2", title: "X", year: 2016, venue: "", first_author: "Shima", doi: null, arxiv_id: null, pool: "library", score: 0.0328, reasons: ["cited by this paper", "shares 9 references with it"], scores: { meaning: 0.71, citations: 1.73 } }],
    },
  }));
  const { records, window } = await plugin();
  const { body } = await renderSection(records.sections.get("specter-desk-related"), window, SEED);
  assert.equal(body.querySelector(".sd-reasons").textContent, "cited by this paper; shares 9 references with it");
  assert.match(body.querySelector(".sd-score").getAttribute("title"), /fusion of meaning and citations/);
});
