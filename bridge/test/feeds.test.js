// Subscribe in Zotero (feedSubscribe.js): the collection menu entry asks the daemon for the
// collection's feed (POST /v1/feeds) and makes one Zotero feed for its URL, refreshed at once;
// again reuses it (a replaced token updates its URL); each failure is one clear notice.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { startFakeBridge, deadURL } = require("./helpers/fakeBridge");
const { startPlugin } = require("./helpers/fakeZotero");

const READING = { key: "COLLKEY2", name: "Reading group" };
let bridge;
test.beforeEach(async () => { bridge = await startFakeBridge(); });
test.afterEach(async () => { await bridge.close(); });

async function plugin({ zotero = 10, collections = [READING], prefs = {} } = {}) {
  return startPlugin({
    zotero,
    collections,
    prefs: { "extensions.specter-desk.bridgeURL": bridge.url, "extensions.specter-desk.token": bridge.token, ...prefs },
  });
}

/** Choose Subscribe in Zotero as the user does (Zotero 8+: MenuManager; 7: the window's menu). */
async function subscribe(env) {
  if (env.zotero >= 8) {
    const entry = [...env.records.menus.values()].find((m) => m.target === "main/library/collection").menus[0];
    const shown = { visible: null };
    entry.onShowing({}, { setVisible: (v) => { shown.visible = v; } });
    assert.equal(shown.visible, true, "shown for a selected collection");
  } else {
    const popup = env.window.document.getElementById("zotero-collectionmenu");
    popup.dispatchEvent(new env.window.Event("popupshowing"));
    assert.equal(env.window.document.getElementById("specter-desk-menu-subscribe").hasAttribute("hidden"), false);
  }
  return env.Zotero.SpecterDesk.commands.subscribeCollection(env.window);
}

const posts = () => bridge.requests.filter((r) => r.method === "POST" && r.path === "/v1/feeds");

for (const zotero of [10, 7]) {
  test(`subscribing makes one Zotero feed for the daemon's URL, refreshed; again reuses it (Zotero ${zotero})`, async () => {
    const env = await plugin({ zotero });
    const [line] = await subscribe(env);
    assert.deepEqual(posts().map((r) => r.body), [{ collection: "COLLKEY2" }]);
    assert.equal(posts()[0].headers.authorization, `Bearer ${bridge.token}`);
    const url = `${bridge.url}/feeds/reading-group/feedtoken1.atom`;
    assert.deepEqual(env.records.feeds.map((f) => [f.name, f.url]), [["specter-desk: Reading group", url]]);
    assert.deepEqual(env.records.feedUpdates, [url]);
    assert.match(line, /^Zotero now has the feed “specter-desk: Reading group”, for the collection “Reading group”: 3 recommended paper\(s\)/);
    assert.equal(env.records.progress[0].headline, "Subscribed in Zotero");

    const [again] = await subscribe(env);
    assert.equal(env.records.feeds.length, 1);
    assert.match(again, /^Zotero already had the feed/);
    assert.deepEqual(env.records.feedUpdates, [url, url]);
  });
}

test("two clicks at once make one feed (the second waits for the first)", async () => {
  const env = await plugin();
  const [a, b] = await Promise.all([subscribe(env), subscribe(env)]);
  assert.equal(env.records.feeds.length, 1);
  assert.match(a[0], /now has the feed/);
  assert.match(b[0], /already had the feed/);
});

test("a replaced feed token updates the Zotero feed's URL instead of adding a feed", async () => {
  const env = await plugin();
  await subscribe(env);
  bridge.feedToken = "feedtoken2"; // `specter-desk feeds set reading-group --new-token`
  const [line] = await subscribe(env);
  assert.equal(env.records.feeds.length, 1);
  assert.equal(env.records.feeds[0].url, `${bridge.url}/feeds/reading-group/feedtoken2.atom`);
  assert.match(line, /already had the feed .*\(its address is updated\)/);
});

test("a collection the daemon has not synced, a refused token and a stopped daemon each say so", async () => {
  let env = await plugin({ collections: [{ key: "NEWCOLL3", name: "Made today" }] });
  let [line] = await subscribe(env);
  assert.equal(line, "specter-desk does not know the collection “Made today” yet: it has not been synced. Run Tools → specter-desk: Sync now, wait for it to finish, then subscribe again.");
  assert.equal(env.records.progress[0].headline, "specter-desk: not subscribed");
  assert.equal(env.records.feeds.length, 0);

  env = await plugin({ prefs: { "extensions.specter-desk.token": "wrong" } });
  [line] = await subscribe(env);
  assert.match(line, /^specter-desk refused the plugin's token \(missing or wrong bearer token\)\. Check the token in Settings → specter-desk/);

  const dead = await deadURL();
  env = await plugin({ prefs: { "extensions.specter-desk.bridgeURL": dead } });
  [line] = await subscribe(env);
  assert.equal(line, `specter-desk is not running at ${dead}. Start it with: specter-desk serve Then choose Subscribe in Zotero again.`);
  assert.equal(env.records.feeds.length, 0);
});

test("the entry is hidden without a selected collection, and then asks nothing", async () => {
  const env = await plugin({ collections: [] });
  const entry = [...env.records.menus.values()].find((m) => m.target === "main/library/collection").menus[0];
  let visible = null;
  entry.onShowing({}, { setVisible: (v) => { visible = v; } });
  assert.equal(visible, false);
  const lines = await env.Zotero.SpecterDesk.commands.subscribeCollection(env.window);
  assert.deepEqual([...lines], ["Select a collection first, then choose Subscribe in Zotero."]);
  assert.equal(posts().length, 0);
});
