// A fake specter-desk bridge on 127.0.0.1: answers the routes of bridge/API.md with data the
// test sets, checks the bearer token like the real one, and records every request.
"use strict";
const http = require("node:http");

const HITS = [
  { key: "LIBAAAA2", title: "Attention Is All You Need", year: 2017, venue: "NeurIPS", first_author: "Vaswani", doi: "10.5555/3295222.3295349", arxiv_id: "1706.03762", pool: "library", score: 0.9312 },
  { key: "CANDBBB3", title: "BERT: Pre-training of Deep Bidirectional Transformers", year: 2019, venue: "NAACL", first_author: "Devlin", doi: "10.18653/v1/N19-1423", arxiv_id: "1810.04805", pool: "candidates", score: 0.8875 },
  { key: "CANDCCC4", title: "A note without identifiers", year: null, venue: "", first_author: "", doi: null, arxiv_id: null, pool: "candidates", score: 0.5 },
];

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

module.exports = { startFakeBridge, deadURL, HITS };
