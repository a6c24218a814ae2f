// A fake specter-desk bridge on 127.0.0.1: answers the routes of bridge/API.md with data the
// test sets, checks the bearer token like the real one, and records every request.
"use strict";
const http = require("node:http");

const HITS = [
  { key: "LIBAAAA2", title: "Attention Is All You Need", year: 2017, venue: "NeurIPS", first_author: "Vaswani", doi: "10.5555/3295222.3295349", arxiv_id: "1706.03762", pool: "library", score: 0.9312 },
  { key: "CANDBBB3", title: "BERT: Pre-training of Deep Bidirectional Transformers", year: 2019, venue: "NAACL", first_author: "Devlin", doi: "10.18653/v1/N19-1423", arxiv_id: "1810.04805", pool: "candidates", score: 0.8875 },
  { key: "CANDCCC4", title: "A note without identifiers", year: null, venue: "", first_author: "", doi: null, arxiv_id: null, pool: "candidates", score: 0.5 },
];

/** A work in a Cites / Cited-by list (bridge/API.md CitationEntry). */
function entry(work, title, { key = null, pool = null, doi = null, year = 2020, cited = 10 } = {}) {
  return {
    work, title, year, first_author: "Shima", authors: ["Midori Shima"], venue: "Blood", doi,
    url: doi ? `https://doi.org/${doi}` : `https://openalex.org/${work}`, cited_by_count: cited,
    key, pool, in_library: pool === "library",
  };
}

const CITES = [
  entry("W2400928773", "Factor VIII-Mimetic Function of Humanized Bispecific Antibody", { key: "LIBAAAA2", pool: "library", doi: "10.1056/nejmoa1511769", year: 2016, cited: 309 }),
  entry("W1586981128", "Clinical severity of haemophilia A", { doi: "10.1111/j.1365-2516.2011.02539.x", year: 2011, cited: 185 }),
  entry("W9999999999", "A reference without a DOI", { year: 1999, cited: 3 }),
];
const CITED_BY = [
  entry("W3003302859", "Clinical Evidence and Safety Profile of Emicizumab", { key: "openalex:W3003302859", pool: "candidates", doi: "10.2147/dddt.s167731", year: 2020, cited: 9 }),
];

/** The citation lists of an item (the fake knows every key). */
function citationsOf(key, limit) {
  return {
    key, title: "Seed paper", work: "W3034093413", matched_by: "doi",
    cites: CITES.slice(0, limit), cited_by: CITED_BY.slice(0, limit),
    counts: { cites: CITES.length, cited_by: 16, cited_by_listed: CITED_BY.length, cites_in_library: 1, cited_by_in_library: 0 },
    fetched_at: { references: "2026-12-01T10:00:00Z", cited_by: "2026-12-01T10:00:00Z" },
  };
}

/** Start a fake bridge; `token` is the bearer token it accepts. */
async function startFakeBridge({ token = "secret-token" } = {}) {
  const requests = [];
  const routes = new Map();
  const bridge = {
    token,
    requests,
    /** Override a route: handler(url, body, req) -> { status, json } (may be async). */
    route(method, pattern, handler) {
      routes.set(`${method} ${pattern}`, handler);
    },
    url: "",
    close: () => new Promise((resolve) => server.close(resolve)),
  };

  bridge.route("GET", "/v1/health", () => ({ status: 200, json: { status: "ok", version: "0.1.0" } }));
  bridge.route("GET", "/v1/papers/{key}/related", (url, _body, params) => ({
    status: 200,
    json: { item: { key: params.key, title: "Seed paper", year: 2020, has_abstract: true }, model: "minilm", related: HITS.slice(0, Number(url.searchParams.get("k") || 10)) },
  }));
  bridge.route("GET", "/v1/papers/{key}/citations", (url, _body, params) => ({
    status: 200,
    json: citationsOf(params.key, Number(url.searchParams.get("limit") || 100)),
  }));
  bridge.route("GET", "/v1/recommendations", (url) => ({
    status: 200,
    json: {
      since: url.searchParams.get("since"), ranker: "similarity",
      seeds: [{ key: "LIBAAAA2", title: "Attention Is All You Need" }],
      results: [{ ...HITS[1], because: [{ key: "LIBAAAA2", title: "Attention Is All You Need", score: 0.88 }] }],
    },
  }));
  bridge.route("GET", "/v1/duplicates", () => ({ status: 200, json: { clusters: [] } }));
  const labels = new Map();
  bridge.route("POST", "/v1/feedback", (_url, body) => {
    const counts = labels.get(body.key) || { up: 0, down: 0 };
    counts[body.vote] += 1;
    labels.set(body.key, counts);
    return { status: 200, json: { key: body.key, vote: body.vote, labels: counts } };
  });
  // the collections the daemon has synced (key -> name); POST /v1/feeds makes one feed each
  bridge.collections = new Map([["COLLKEY2", "Reading group"]]);
  bridge.feeds = new Map();
  bridge.feedToken = "feedtoken1";
  bridge.route("POST", "/v1/feeds", (_url, body) => {
    const name = bridge.collections.get(body.collection);
    if (!name) {
      return { status: 404, json: { error: { code: "not_found", message: `no collection '${body.collection}'; sync a Zotero library first` } } };
    }
    const created = !bridge.feeds.has(body.collection);
    const id = name.toLowerCase().replace(/[^a-z0-9]+/g, "-");
    if (created) bridge.feeds.set(body.collection, { id, kind: "collection", target: body.collection, name, since: "month", limit: 20, created_at: "2026-12-01T10:00:00Z", refreshed_at: "2026-12-01T10:00:00Z", message: null });
    const feed = bridge.feeds.get(body.collection);
    return { status: 200, json: { feed, url: `${bridge.url}/feeds/${feed.id}/${bridge.feedToken}.atom`, created, entries: 3, message: null } };
  });
  bridge.route("POST", "/v1/sync", () => ({
    status: 202,
    json: { state: "queued", library: null, progress: null, started_at: null, finished_at: null, last_result: null, last_error: null },
  }));

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const body = raw ? JSON.parse(raw) : undefined;
    requests.push({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body });
    const send = (status, json) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(json));
    };
    if (url.pathname !== "/v1/health" && req.headers.authorization !== `Bearer ${bridge.token}`) {
      return send(401, { error: { code: "unauthorized", message: "missing or wrong bearer token" } });
    }
    for (const [spec, handler] of routes) {
      const [method, pattern] = spec.split(" ");
      const regex = new RegExp("^" + pattern.replace(/\{(\w+)\}/g, "(?<$1>[^/]+)") + "$");
      const match = regex.exec(url.pathname);
      if (method !== req.method || !match) continue;
      const params = Object.fromEntries(Object.entries(match.groups || {}).map(([k, v]) => [k, decodeURIComponent(v)]));
      try {
        const out = await handler(url, body, params, req);
        return send(out.status, out.json);
      } catch (e) {
        return send(500, { error: { code: "internal", message: String(e) } });
      }
    }
    return send(404, { error: { code: "not_found", message: `no route ${req.method} ${url.pathname}` } });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  bridge.url = `http://127.0.0.1:${server.address().port}`;
  return bridge;
}

/** A URL on 127.0.0.1 where nothing listens (a closed port). */
async function deadURL() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = server.address().port;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

module.exports = { startFakeBridge, deadURL, HITS, citationsOf };
