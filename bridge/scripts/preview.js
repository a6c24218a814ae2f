#!/usr/bin/env node
// Render the "Related papers" section with the plugin's own code (fake Zotero + fake bridge,
// sample data) into standalone HTML pages for a screenshot:
//   node bridge/scripts/preview.js OUT_DIR   -> OUT_DIR/related-pane.html, related-states.html
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { startFakeBridge, deadURL } = require("../test/helpers/fakeBridge");
const { startPlugin, makeItem, renderSection, section: sectionOf, BRIDGE_DIR } = require("../test/helpers/fakeZotero");

const SAMPLE = [
  { key: "LIBAAAA2", title: "SPECTER: Document-level Representation Learning using Citation-informed Transformers", year: 2020, venue: "ACL", first_author: "Cohan", doi: "10.18653/v1/2020.acl-main.207", arxiv_id: "2004.07180", pool: "library", score: 0.912 },
  { key: "LIBBBBB3", title: "SciBERT: A Pretrained Language Model for Scientific Text", year: 2019, venue: "EMNLP", first_author: "Beltagy", doi: "10.18653/v1/D19-1371", arxiv_id: "1903.10676", pool: "library", score: 0.874 },
  { key: "CANDCCC4", title: "SciRepEval: A Multi-Format Benchmark for Scientific Document Representations", year: 2023, venue: "EMNLP", first_author: "Singh", doi: null, arxiv_id: "2211.13308", pool: "candidates", score: 0.861 },
  { key: "LIBDDDD5", title: "Sentence-BERT: Sentence Embeddings using Siamese BERT-Networks", year: 2019, venue: "EMNLP", first_author: "Reimers", doi: "10.18653/v1/D19-1410", arxiv_id: "1908.10084", pool: "library", score: 0.803 },
  { key: "CANDEEE6", title: "Citation recommendation: approaches and datasets", year: 2020, venue: "IJDL", first_author: "Färber", doi: "10.1007/s00799-020-00288-2", arxiv_id: null, pool: "candidates", score: 0.776 },
];

const FRAME_CSS = `
  body { margin: 0; padding: 16px; background: #f2f2f2; font: 13px/1.35 system-ui, "DejaVu Sans", sans-serif; color: #222; }
  .pane { width: 400px; background: #fff; border: 1px solid #d0d0d0; border-radius: 6px; overflow: hidden; }
  .pane-head { display: flex; align-items: center; gap: 6px; padding: 7px 10px; border-bottom: 1px solid #e3e3e3; font-weight: 600; }
  .pane-head img { width: 16px; height: 16px; }
  .pane-head .summary { margin-left: auto; font-weight: normal; color: #777; }
  .pane-body { padding: 4px 10px 8px; }
  .grid { display: grid; grid-template-columns: repeat(3, 400px); gap: 14px; }
  .caption { font-size: 11px; color: #777; margin: 0 0 4px 2px; font-family: monospace; }`;

function pane(bodyHTML, summary, icon) {
  return `<div class="pane"><div class="pane-head"><img src="${icon}" alt=""/>Related papers<span class="summary">${summary}</span></div><div class="pane-body">${bodyHTML}</div></div>`;
}

function page(css, inner) {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"/><style>${css}\n${FRAME_CSS}</style></head><body>${inner}</body></html>`;
}

async function main() {
  const out = path.resolve(process.argv[2] || ".");
  fs.mkdirSync(out, { recursive: true });
  const css = fs.readFileSync(path.join(BRIDGE_DIR, "content", "specter-desk.css"), "utf8");
  const icon = "data:image/svg+xml;base64," + Buffer.from(
    fs.readFileSync(path.join(BRIDGE_DIR, "content", "icons", "related-16.svg"), "utf8").replace("context-fill", "#555")).toString("base64");
  const bridge = await startFakeBridge();
  const seed = makeItem({ id: 1, key: "SEEDKEY2", title: "Seed" });
  const bare = makeItem({ id: 2, key: "NOABST22", abstract: "" });
  const scenarios = {
    results: { handler: () => ({ status: 200, json: { item: { key: "SEEDKEY2", title: "Seed", year: 2021, has_abstract: true }, model: "specter2", related: SAMPLE } }) },
    "no-abstract": { item: bare, handler: () => ({ status: 200, json: { item: { key: "NOABST22", title: "T", year: 2021, has_abstract: false }, model: "specter2", related: SAMPLE.slice(0, 2) } }) },
    "not-embedded": { handler: () => ({ status: 409, json: { error: { code: "not_embedded", message: "SEEDKEY2 has no specter2 vector yet; it is queued for embedding" } } }) },
    "not-synced": { handler: () => ({ status: 404, json: { error: { code: "not_found", message: "no paper with key SEEDKEY2" } } }) },
    "daemon-down": { url: await deadURL() },
    unauthorized: { token: "an-old-token" },
    error: { handler: () => ({ status: 503, json: { error: { code: "model_not_found", message: "model specter2 is not on disk; run: specter-desk models" } } }) },
    loading: { loadingOnly: true },
  };
  const rendered = {};
  for (const [name, s] of Object.entries(scenarios)) {
    if (s.handler) bridge.route("GET", "/v1/papers/{key}/related", s.handler);
    const env = await startPlugin({
      prefs: { "extensions.specter-desk.bridgeURL": s.url || bridge.url, "extensions.specter-desk.token": s.token || bridge.token },
      items: [seed, bare],
    });
    const section = sectionOf(env);
    const summaries = [];
    let body;
    if (s.loadingOnly) {
      body = env.window.document.createElement("div");
      section.onRender({ body, doc: env.window.document, item: seed, setSectionSummary: (x) => summaries.push(x) });
    } else {
      ({ body } = await renderSection(section, env.window, s.item || seed, summaries));
    }
    rendered[name] = pane(body.innerHTML, summaries.at(-1) || "", icon);
  }
  await bridge.close();
  fs.writeFileSync(path.join(out, "related-pane.html"), page(css, rendered.results));
  const grid = Object.entries(rendered).filter(([n]) => n !== "results")
    .map(([n, html]) => `<div><p class="caption">${n}</p>${html}</div>`).join("");
  fs.writeFileSync(path.join(out, "related-states.html"), page(css, `<div class="grid">${grid}</div>`));
  console.log(`wrote ${path.join(out, "related-pane.html")} and related-states.html`);
}

main().catch((e) => { console.error(e); process.exit(1); });
