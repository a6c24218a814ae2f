// @ts-check
// Script of the preferences pane (prefs.xhtml): the "Test connection" button and the note
// about Zotero's local API. Zotero 7 runs pane scripts in the settings window itself; Zotero 8+
// runs them in a sandbox of their own, so the object the pane's onload calls is put on the
// window explicitly.

var SpecterDeskPrefs = {
  LOCAL_API_PREF: "httpServer.localAPI.enabled",

  init() {
    const button = document.getElementById("specter-desk-pref-test");
    const result = document.getElementById("specter-desk-pref-test-result");
    if (button && result) {
      button.addEventListener("command", async () => {
        const plugin = /** @type {{ testConnection(): Promise<string> } | undefined} */ (
          /** @type {any} */ (Zotero).SpecterDesk
        );
        result.textContent = plugin ? "Checking…" : "The specter-desk plugin is not running.";
        if (plugin) result.textContent = await plugin.testConnection();
      });
    }
    SpecterDeskPrefs.showLocalAPINote();
    const observer = Zotero.Prefs.registerObserver(SpecterDeskPrefs.LOCAL_API_PREF, () => SpecterDeskPrefs.showLocalAPINote());
    window.addEventListener("unload", () => Zotero.Prefs.unregisterObserver(observer), { once: true });
  },

  /** Show the local-API note only while "Allow other applications…" is off. */
  showLocalAPINote() {
    const note = document.getElementById("specter-desk-pref-local-api");
    if (note) note.hidden = Boolean(Zotero.Prefs.get(SpecterDeskPrefs.LOCAL_API_PREF));
  },
};

/** @type {any} */ (window).SpecterDeskPrefs = SpecterDeskPrefs;
