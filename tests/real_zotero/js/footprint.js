// What the plugin args.id leaves in Zotero while it runs (each must be gone after disable or
// uninstall): registrations, Tools menu entries (built as Zotero builds them on popupshowing),
// elements in the main window, its chrome:// package.
const win = Zotero.getMainWindow();
const doc = win.document;
const section = Object.keys(Zotero.ItemPaneManager._sectionManager._optionsCache || {});
const menus = Object.keys(Zotero.MenuManager._menuManager._optionsCache || {});
// open the Tools menu the way Zotero does, so MenuManager builds its entries
const popup = doc.getElementById("menu_ToolsPopup");
popup.dispatchEvent(new win.Event("popupshowing"));
await doc.l10n.translateFragment(popup);
const toolsLabels = [...popup.querySelectorAll("menuitem")].map((m) => m.getAttribute("label") || m.getAttribute("data-l10n-id") || "");
popup.dispatchEvent(new win.Event("popuphidden"));
return {
  plugin: Boolean(Zotero.SpecterDesk),
  sections: section.filter((id) => id.includes("specter-desk")),
  sectionElements: [...doc.querySelectorAll("#zotero-item-pane item-pane-custom-section")]
    .filter((el) => el.dataset.pane.includes("specter-desk")).length,
  menus: menus.filter((id) => id.includes("specter-desk")),
  toolsEntries: toolsLabels.filter((label) => label.includes("specter-desk")),
  prefPanes: Zotero.PreferencePanes.pluginPanes.filter((p) => p.pluginID === args.id).map((p) => p.id),
  windowElements: [...doc.querySelectorAll('[id^="specter-desk-"]')].map((e) => e.id),
  chrome: (() => {
    try {
      Cc["@mozilla.org/chrome/chrome-registry;1"].getService(Ci.nsIChromeRegistry)
        .convertChromeURL(Services.io.newURI("chrome://specter-desk/content/plugin.js"));
      return true;
    } catch (e) { return false; }
  })(),
};
