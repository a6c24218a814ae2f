// TEST-ONLY plugin for tests/real_zotero (never packed into the product .xpi).
// Registers POST /specter-desk-test/eval on Zotero's own HTTP server: the JSON body
// {"script": "...", "args": {...}} is run as the body of an async function(args) in this
// plugin's sandbox (the same kind of sandbox Zotero gives every plugin) and its return value
// comes back as {"ok": true, "value": ...}; an exception as {"ok": false, "error", "stack"}.
var ENDPOINT = "/specter-desk-test/eval";
var AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;

function install() {}

async function startup() {
  await Zotero.initializationPromise;
  var sandbox = this;
  function Eval() {}
  Eval.prototype = {
    supportedMethods: ["POST"],
    supportedDataTypes: ["application/json"],
    async init(request) {
      var data = request.data || {};
      try {
        var run = new AsyncFunction("args", "sandbox", String(data.script || ""));
        var value = await run(data.args || {}, sandbox);
        return [200, "application/json", JSON.stringify({ ok: true, value: value === undefined ? null : value })];
      }
      catch (e) {
        return [200, "application/json", JSON.stringify({ ok: false, error: String(e), stack: String((e && e.stack) || "") })];
      }
    },
  };
  Zotero.Server.Endpoints[ENDPOINT] = Eval;
  Zotero.debug("specter-desk test helper: " + ENDPOINT + " ready");
}

function shutdown() {
  delete Zotero.Server.Endpoints[ENDPOINT];
}

function uninstall() {}
