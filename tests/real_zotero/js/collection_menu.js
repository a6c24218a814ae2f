// Select the collection args.key in the collection tree, build its context menu as Zotero does
// on a right-click (buildCollectionContextMenu: MenuManager adds plugin entries), run the entry labelled args.label
// when given (a click, deferred so this script answers first), and return the visible
// entries' labels.
const win = Zotero.getMainWindow();
const doc = win.document;
const pane = win.ZoteroPane;
const collection = Zotero.Collections.getByLibraryAndKey(Zotero.Libraries.userLibraryID, args.key);
if (!collection) throw new Error("no collection " + args.key);
await pane.collectionsView.selectCollection(collection.id);
for (let i = 0; i < 100 && pane.getSelectedCollections()[0]?.id !== collection.id; i++) {
  await Zotero.Promise.delay(50);
}
const popup = doc.getElementById("zotero-collectionmenu");
await pane.buildCollectionContextMenu();
await doc.l10n.translateFragment(popup);
const entries = [...popup.querySelectorAll("menuitem")].filter((m) => !m.hidden && m.getAttribute("hidden") !== "true");
const labels = entries.map((m) => m.getAttribute("label") || "");
// the menu closes after a choice (or without one): Zotero fires popuphidden, which drops the
// menu's command listeners (MenuManager adds them at each build)
const hidden = () => popup.dispatchEvent(new win.Event("popuphidden"));
if (args.label) {
  const entry = entries.find((m) => m.getAttribute("label") === args.label);
  if (!entry) {
    hidden();
    throw new Error("no collection menu entry " + args.label + " in " + JSON.stringify(labels));
  }
  setTimeout(() => {
    entry.doCommand();
    hidden();
  }, 0);
} else {
  hidden();
}
return labels;
