// @ts-check
// Zotero 7-10 bootstrap: loads the plugin's scripts into this scope and forwards the lifecycle.

/** @type {{ destruct(): void } | null} */
var chromeHandle = null;

var SD_SCRIPTS = [
  "config.js",
  "tokenFile.js",
  "api.js",
  "render.js",
  "actions.js",
  "merge.js",
  "section.js",
  "relatedSection.js",
  "citationsSection.js",
  "views.js",
  "duplicatesView.js",
  "syncOnChange.js",
  "checkOnAdd.js",
  "feedSubscribe.js",
  "windows.js",
  "plugin.js",
];

function install() {}

/**
 * @param {{ id: string, version: string, rootURI: string }} data
 * @param {number} _reason
 */
async function startup({ id, version, rootURI }, _reason) {
  await Zotero.initializationPromise;
  const aomStartup = Cc["@mozilla.org/addons/addon-manager-startup;1"].getService(
    Ci.amIAddonManagerStartup,
  );
  const manifestURI = Services.io.newURI(rootURI + "manifest.json");
  chromeHandle = aomStartup.registerChrome(manifestURI, [
    ["content", "specter-desk", rootURI + "content/"],
  ]);
  for (const script of SD_SCRIPTS) {
    Services.scriptloader.loadSubScript(rootURI + "content/" + script);
  }
  await SDPlugin.startup({ id, version, rootURI });
}

/** @param {{ window: Window }} data */
function onMainWindowLoad({ window }) {
  SDPlugin.onMainWindowLoad(window);
}

/** @param {{ window: Window }} data */
function onMainWindowUnload({ window }) {
  SDPlugin.onMainWindowUnload(window);
}

/**
 * @param {{ id: string, version: string, rootURI: string }} _data
 * @param {number} _reason
 */
function shutdown(_data, _reason) {
  if (typeof SDPlugin !== "undefined") SDPlugin.shutdown();
  if (chromeHandle) chromeHandle.destruct();
  chromeHandle = null;
}

function uninstall() {}
