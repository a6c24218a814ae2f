// Open the main window's Tools menu as Zotero does (popupshowing: MenuManager adds plugin
// entries), run the entry labelled args.label when given (a click; deferred, so a modal dialog
// it opens does not hold this script's answer), and return the entries' labels.
const win = Zotero.getMainWindow();
const doc = win.document;
const popup = doc.getElementById("menu_ToolsPopup");
popup.dispatchEvent(new win.Event("popupshowing"));
await doc.l10n.translateFragment(popup);
const entries = [...popup.querySelectorAll("menuitem")];
const labels = entries.map((m) => m.getAttribute("label") || "");
if (args.label) {
  const entry = entries.find((m) => m.getAttribute("label") === args.label);
  if (!entry) throw new Error("no Tools entry " + args.label);
  setTimeout(() => entry.doCommand(), 0);
}
popup.dispatchEvent(new win.Event("popuphidden"));
return labels;
