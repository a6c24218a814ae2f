// @ts-check
// Script of the preferences pane (prefs.xhtml): the "Test connection" button.

var SpecterDeskPrefs = {
  init() {
    const button = document.getElementById("specter-desk-pref-test");
    const result = document.getElementById("specter-desk-pref-test-result");
    if (!button || !result) return;
    button.addEventListener("command", async () => {
      const plugin = /** @type {{ testConnection(): Promise<string> } | undefined} */ (
        /** @type {any} */ (Zotero).SpecterDesk
      );
      result.textContent = plugin ? "Checking…" : "The specter-desk plugin is not running.";
      if (plugin) result.textContent = await plugin.testConnection();
    });
  },
};
