// Default preferences, read by Zotero from the plugin root. Values are strings where a
// preference pane text field edits them: the pane writes String(value) back.
pref("extensions.specter-desk.bridgeURL", "http://127.0.0.1:23120");
pref("extensions.specter-desk.token", "");
pref("extensions.specter-desk.results", "10");
pref("extensions.specter-desk.model", "");
pref("extensions.specter-desk.syncOnChange", true);
pref("extensions.specter-desk.syncDelayMs", "2000");
pref("extensions.specter-desk.checkOnAdd", true);
