// The plugin against the real `specter-desk serve` (not the fake): token read from the file
// the daemon wrote, and the states a fresh store produces. Runs $SPECTER_DESK_CLI, default
// .venv/bin/specter-desk (make test-js builds the venv first and passes its path).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawn, execFileSync } = require("node:child_process");
const { deadURL } = require("./helpers/fakeBridge");
const { startPlugin, makeItem, renderSection, waitFor, section: sectionOf, BRIDGE_DIR } = require("./helpers/fakeZotero");

const CLI = process.env.SPECTER_DESK_CLI || path.join(BRIDGE_DIR, "..", ".venv", "bin", "specter-desk");
const PAPERS = [
  { key: "E2EAAAA2", title: "Attention is all you need", abstract: "We propose the Transformer, a network based solely on attention.", year: 2017 },
  { key: "E2ENOAB5", title: "Neural machine translation by jointly learning to align and translate", year: 2015 },
];

test("against the real bridge: token file, not embedded, not synced, recommendations, duplicates, feedback, sync", async (t) => {
  assert.ok(fs.existsSync(CLI), `${CLI} is missing: run make test (it builds .venv) first`);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "sd-e2e-"));
  const env = { ...process.env, SPECTER_DESK_HOME: home, SPECTER_DESK_MODEL: "minilm", HF_HUB_OFFLINE: "1" };
  fs.writeFileSync(path.join(home, "lib.jsonl"), PAPERS.map((p) => JSON.stringify(p)).join("\n") + "\n");
  execFileSync(CLI, ["import", path.join(home, "lib.jsonl")], { env });
  const url = await deadURL();
  const port = new URL(url).port;
  const server = spawn(CLI, ["serve", "--port", port, "--foreground"], { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  server.stderr.on("data", (d) => { stderr += d; });
  t.after(() => server.kill());
  await waitFor(async () => {
    try {
      return (await fetch(`${url}/v1/health`)).ok;
    } catch (_e) {
      return false;
    }
  }, 60000).catch(() => assert.fail(`serve did not start: ${stderr.slice(-500)}`));

  const items = PAPERS.map((p, i) => makeItem({ id: i + 1, key: p.key, title: p.title, abstract: p.abstract || "" }));
  const plugin = await startPlugin({
    prefs: { "extensions.specter-desk.bridgeURL": url },
    env: { SPECTER_DESK_HOME: home },
    realFiles: true,
    items,
  });
  const section = sectionOf(plugin);
  const state = (body) => body.querySelector("[data-sd-state]").getAttribute("data-sd-state");

  const embedded = await renderSection(section, plugin.window, items[0]);
  assert.equal(state(embedded.body), "not-embedded", embedded.body.textContent);
  assert.equal(plugin.records.tokenReads[0], path.join(home, "bridge-token"));

  const noAbstract = await renderSection(section, plugin.window, items[1]);
  assert.equal(state(noAbstract.body), "no-abstract");

  const unknown = await renderSection(section, plugin.window, makeItem({ id: 9, key: "ZZZZZZZ9" }));
  assert.equal(state(unknown.body), "not-synced");

  const client = plugin.context.SDPlugin.client();
  const recs = await client.recommendations({ since: "week" });
  assert.deepEqual([...recs.results], []);
  assert.match(recs.message, /no papers were added/);
  const dups = await client.duplicates();
  assert.ok(Array.isArray(dups.clusters));
  assert.ok(Array.isArray(dups.versions));
  // check on add: the plugin's item JSON (SDCheckOnAdd.itemJSON) is what the real bridge reads
  const added = makeItem({ id: 3, key: "E2ENEWK3", title: "Attention Is All You Need", fields: { date: "2017" } });
  const check = await client.checkDuplicates([plugin.context.SDCheckOnAdd.itemJSON(added)]);
  assert.deepEqual([...check.matches].map((m) => [m.index, m.key, m.kind]), [[0, "E2EAAAA2", "duplicate"]]);
  const marked = await client.markDistinct(["E2EAAAA2", "E2ENOAB5"]);
  assert.equal(marked.changed, 1);
  await assert.rejects(client.markDistinct(["E2EAAAA2", "E2ENOKEY"]), (e) => e.status === 404);
  assert.equal((await client.markDistinct(["E2EAAAA2", "E2ENOAB5"], false)).changed, 1);
  assert.ok(["queued", "running", "failed", "idle"].includes((await client.syncStatus()).state));
  const vote = await client.feedback("E2EAAAA2", "up");
  assert.equal(vote.labels.up, 1);
  const sync = await client.sync();
  assert.ok(["queued", "running", "failed", "idle"].includes(sync.state), sync.state);

  // The Citations section: a paper citations sync has not matched yet, and an unknown key.
  const citations = sectionOf(plugin, "specter-desk-citations");
  const notFetched = await renderSection(citations, plugin.window, items[0]);
  assert.equal(state(notFetched.body), "no-citations", notFetched.body.textContent);
  assert.match(notFetched.body.textContent, /specter-desk citations sync/);
  const unknownCitations = await renderSection(citations, plugin.window, makeItem({ id: 9, key: "ZZZZZZZ9" }));
  assert.equal(state(unknownCitations.body), "not-synced");

  // A wrong token typed into the preferences is refused by the real bridge too.
  plugin.prefStore.set("extensions.specter-desk.token", "not-the-token");
  const refused = await renderSection(section, plugin.window, items[0]);
  assert.equal(state(refused.body), "unauthorized");
});
