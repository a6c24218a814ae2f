// The bridge client: endpoints against the contract, token handling, error codes, timeouts.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { startFakeBridge, deadURL } = require("./helpers/fakeBridge");
const { startPlugin, BRIDGE_DIR } = require("./helpers/fakeZotero");

async function sandbox() {
  const { context } = await startPlugin();
  return context;
}

test("every endpoint the plugin calls is in the API.md table", async () => {
  const { SDApi } = await sandbox();
  const table = fs.readFileSync(path.join(BRIDGE_DIR, "API.md"), "utf8");
  const listed = new Set([...table.matchAll(/^\| (GET|POST) (\/v1\/[^\s?|]+)/gm)].map((m) => `${m[1]} ${m[2]}`));
  assert.ok(listed.size >= 5, "API.md table not found");
  for (const [method, route] of SDApi.ENDPOINTS) assert.ok(listed.has(`${method} ${route}`), `${method} ${route}`);
});

test("every endpoint the plugin calls is in bridge/openapi.json", async () => {
  const { SDApi } = await sandbox();
  const spec = JSON.parse(fs.readFileSync(path.join(BRIDGE_DIR, "openapi.json"), "utf8"));
  for (const [method, route] of SDApi.ENDPOINTS) {
    assert.ok(spec.paths[route] && spec.paths[route][method.toLowerCase()], `${method} ${route} missing from openapi.json`);
  }
});

test("openapi.json has every query parameter and response field the plugin uses", () => {
  const spec = JSON.parse(fs.readFileSync(path.join(BRIDGE_DIR, "openapi.json"), "utf8"));
  const resolve = (schema) => (schema && schema.$ref ? spec.components.schemas[schema.$ref.split("/").pop()] : schema);
  const inner = (schema) => {
    schema = resolve(schema);
    if (schema.type === "array") return resolve(schema.items);
    const options = schema.anyOf || schema.oneOf;
    return options ? resolve(options.find((o) => resolve(o).type !== "null")) : schema;
  };
  const fieldsAt = (schema, dotted) => dotted.split(".").reduce((s, name) => {
    const props = inner(s).properties || {};
    assert.ok(props[name], `${name} missing in ${JSON.stringify(Object.keys(props))}`);
    return props[name];
  }, schema);
  const ok = (route, method, status) => spec.paths[route][method].responses[status].content["application/json"].schema;
  const params = (route, method) => spec.paths[route][method].parameters.map((p) => p.name);
  // query parameters the client sends
  assert.ok(["k", "model"].every((p) => params("/v1/papers/{key}/related", "get").includes(p)));
  assert.ok(["since", "n"].every((p) => params("/v1/recommendations", "get").includes(p)));
  assert.ok(params("/v1/duplicates", "get").includes("min_score"));
  // fields the views read
  const related = ok("/v1/papers/{key}/related", "get", "200");
  fieldsAt(related, "item.has_abstract");
  for (const f of ["key", "title", "year", "venue", "first_author", "doi", "arxiv_id", "pool", "score"]) fieldsAt(related, `related.${f}`);
  const recs = ok("/v1/recommendations", "get", "200");
  for (const f of ["seeds.title", "results.key", "results.pool", "results.because.title", "results.because.score", "message"]) fieldsAt(recs, f);
  const dups = ok("/v1/duplicates", "get", "200");
  for (const f of ["clusters.id", "clusters.score", "clusters.master", "clusters.papers.key", "clusters.papers.title", "clusters.papers.year", "clusters.papers.first_author", "clusters.papers.doi", "clusters.papers.item_type", "clusters.pairs.reasons"]) fieldsAt(dups, f);
  fieldsAt(ok("/v1/sync", "post", "202"), "state");
  fieldsAt(ok("/v1/feedback", "post", "200"), "labels.up");
  fieldsAt(ok("/v1/feedback", "post", "200"), "labels.down");
  const feedbackBody = resolve(spec.paths["/v1/feedback"].post.requestBody.content["application/json"].schema);
  assert.ok(feedbackBody.properties.key && feedbackBody.properties.vote);
  // the error body the client parses
  const errorSchema = spec.paths["/v1/papers/{key}/related"].get.responses["409"].content["application/json"].schema;
  fieldsAt(errorSchema, "error.code");
  fieldsAt(errorSchema, "error.message");
});

test("the client calls only the listed endpoints, with the token on all but /v1/health", async () => {
  const bridge = await startFakeBridge();
  try {
    const { SDApi } = await sandbox();
    const client = SDApi.create({ url: bridge.url, getToken: async () => bridge.token });
    await client.health();
    await client.related("ABCD2345", { k: 5 });
    await client.recommendations({ since: "week", n: 3 });
    await client.duplicates({ minScore: 0.9 });
    await client.sync();
    await client.feedback("ABCD2345", "up");
    const templates = SDApi.ENDPOINTS.map(([m, p]) => [m, new RegExp("^" + p.replace(/\{\w+\}/g, "[^/]+") + "$")]);
    for (const r of bridge.requests) {
      assert.ok(templates.some(([m, re]) => m === r.method && re.test(r.path)), `${r.method} ${r.path}`);
      assert.equal(r.headers.authorization, r.path === "/v1/health" ? undefined : `Bearer ${bridge.token}`);
    }
    assert.deepEqual(bridge.requests.map((r) => r.query), [{}, { k: "5" }, { since: "week", n: "3" }, { min_score: "0.9" }, {}, {}]);
  } finally {
    await bridge.close();
  }
});

test("a 401 re-reads the token once (the daemon may have made a new one) and retries", async () => {
  const bridge = await startFakeBridge({ token: "new-token" });
  try {
    const { SDApi } = await sandbox();
    const asked = [];
    const client = SDApi.create({ url: bridge.url, getToken: async (refresh) => { asked.push(refresh); return refresh ? "new-token" : "old-token"; } });
    const data = await client.related("ABCD2345");
    assert.equal(data.related.length, 3);
    assert.deepEqual(asked, [false, true]);
    assert.deepEqual(bridge.requests.map((r) => r.headers.authorization), ["Bearer old-token", "Bearer new-token"]);
  } finally {
    await bridge.close();
  }
});

test("errors carry the bridge's stable code and message", async () => {
  const bridge = await startFakeBridge();
  bridge.route("GET", "/v1/papers/{key}/related", () => ({ status: 409, json: { error: { code: "not_embedded", message: "waiting for its vector" } } }));
  try {
    const { SDApi, SDBridgeError } = await sandbox();
    const client = SDApi.create({ url: bridge.url, getToken: async () => bridge.token });
    await assert.rejects(client.related("ABCD2345"), (e) => e instanceof SDBridgeError && e.code === "not_embedded" && e.status === 409 && e.message === "waiting for its vector");
  } finally {
    await bridge.close();
  }
});

test("no daemon -> daemon_not_running with the command to start it", async () => {
  const { SDApi } = await sandbox();
  const client = SDApi.create({ url: await deadURL(), getToken: async () => "t" });
  await assert.rejects(client.duplicates(), (e) => e.code === SDApi.DAEMON_DOWN && /specter-desk serve/.test(e.message));
});

test("a daemon that accepts but never answers times out with its own code", async () => {
  const server = http.createServer(() => {});
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    const { SDApi } = await sandbox();
    const client = SDApi.create({ url: `http://127.0.0.1:${server.address().port}`, getToken: async () => "t", timeoutMs: 150 });
    await assert.rejects(client.sync(), (e) => e.code === SDApi.TIMEOUT);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test("settings: defaults from prefs.js, k clamped to 1..100, URL must be loopback http", async () => {
  const { SDConfig } = await sandbox();
  const prefs = (values) => ({ get: (name) => values[name] });
  const defaults = (await startPlugin()).context.SDPlugin.settings();
  assert.equal(defaults.url, "http://127.0.0.1:23120");
  assert.equal(defaults.k, 10);
  assert.equal(defaults.token, "");
  assert.equal(defaults.syncOnChange, true);
  assert.equal(SDConfig.read(prefs({ "extensions.specter-desk.results": "500" })).k, 100);
  assert.equal(SDConfig.read(prefs({ "extensions.specter-desk.results": "zero" })).k, 10);
  assert.equal(SDConfig.urlProblem("http://127.0.0.1:23120"), null);
  assert.equal(SDConfig.urlProblem("http://localhost:9"), null);
  assert.match(SDConfig.urlProblem("https://127.0.0.1:23120"), /this computer/);
  assert.match(SDConfig.urlProblem("http://10.0.0.5:23120"), /this computer/);
  assert.match(SDConfig.urlProblem("not a url"), /not a URL/);
});

test("token file paths follow platformdirs (SPECTER_DESK_HOME first)", async () => {
  const { SDTokenFile } = await sandbox();
  const join = (...parts) => parts.join("/");
  const env = (values) => (name) => values[name] || "";
  const paths = (platform, values) => [...SDTokenFile.candidatePaths({ env: env(values), platform, home: "/h", join })];
  assert.deepEqual(paths("linux", {}), ["/h/.local/share/specter-desk/bridge-token"]);
  assert.deepEqual(paths("linux", { XDG_DATA_HOME: "/x" }), ["/x/specter-desk/bridge-token"]);
  assert.deepEqual(paths("mac", { SPECTER_DESK_HOME: "/sd" }), ["/sd/bridge-token", "/h/Library/Application Support/specter-desk/bridge-token"]);
  assert.deepEqual(paths("win", { LOCALAPPDATA: "C:/L" }), ["C:/L/specter-desk/bridge-token"]);
});

test("a 401 when the token file has gone is a no-token error; a 401 with the same token is not retried", async () => {
  const bridge = await startFakeBridge({ token: "current" });
  try {
    const { SDApi, SDBridgeError } = await sandbox();
    let file = "stale";
    const client = SDApi.create({ url: bridge.url, getToken: async (refresh) => (refresh ? file : "stale") });
    file = null;
    await assert.rejects(client.related("AAAAAAA2"), (e) => e.code === SDApi.NO_TOKEN && /no bridge-token file/.test(e.message));
    file = "stale";
    await assert.rejects(client.related("AAAAAAA2"), (e) => e instanceof SDBridgeError && e.code === "unauthorized");
    assert.equal(bridge.requests.length, 2, "one request each: a re-read that gives the same token is not sent again");
  } finally {
    await bridge.close();
  }
});
