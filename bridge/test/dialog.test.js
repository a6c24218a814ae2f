// dialog.xhtml + dialog.js: the window's load hands it to io.onLoad (as Zotero's openDialog does).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { JSDOM } = require("jsdom");
const { BRIDGE_DIR } = require("./helpers/fakeZotero");

for (const wrapped of [false, true]) {
  test(`dialog.js calls io.onLoad(window) on load (${wrapped ? "wrappedJSObject" : "plain"} argument)`, () => {
    const xhtml = fs.readFileSync(path.join(BRIDGE_DIR, "content", "dialog.xhtml"), "utf8");
    assert.match(xhtml, /id="sd-dialog-root"/);
    assert.match(xhtml, /chrome:\/\/specter-desk\/content\/dialog\.js/);
    const dom = new JSDOM("<!DOCTYPE html><div id='sd-dialog-root'></div>", { runScripts: "outside-only" });
    const calls = [];
    const io = { onLoad: (win) => calls.push(win.document.getElementById("sd-dialog-root")) };
    dom.window.arguments = [wrapped ? { wrappedJSObject: io } : io];
    dom.window.eval(fs.readFileSync(path.join(BRIDGE_DIR, "content", "dialog.js"), "utf8"));
    assert.equal(calls.length, 0);
    dom.window.dispatchEvent(new dom.window.Event("load"));
    assert.equal(calls.length, 1);
    assert.ok(calls[0]);
  });
}
