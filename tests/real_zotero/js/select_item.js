// Select the item args.key in the main window's items list, as a click does; returns its id
// once the item pane shows it.
const item = Zotero.Items.getByLibraryAndKey(Zotero.Libraries.userLibraryID, args.key);
if (!item) throw new Error("no item " + args.key);
const win = Zotero.getMainWindow();
await win.ZoteroPane.selectItem(item.id);
const details = win.document.querySelector("#zotero-item-pane item-details");
for (let i = 0; i < 200 && (details.item?.id !== item.id || details._isRendering); i++) {
  await Zotero.Promise.delay(50);
}
return item.id;
