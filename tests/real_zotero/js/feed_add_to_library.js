// Add one feed item to My Library as the user does: select the feed in the collection tree and
// the item (title args.title) in the items list, then click the item pane's "Add to My Library"
// button (deferred: Zotero's translation runs after this script answers). Returns the button's label.
const win = Zotero.getMainWindow();
const pane = win.ZoteroPane;
const feed = Zotero.Feeds.getAll().find((f) => f.url === args.url);
if (!feed) throw new Error("no feed " + args.url);
await pane.collectionsView.selectLibrary(feed.libraryID);
const item = (await Zotero.Items.getAll(feed.libraryID, true)).find((i) => i.getField("title") === args.title);
if (!item) throw new Error("no feed item " + args.title);
await pane.selectItem(item.id);
const details = win.document.querySelector("#zotero-item-pane item-details");
for (let i = 0; i < 200 && (details.item?.id !== item.id || details._isRendering); i++) {
  await Zotero.Promise.delay(50);
}
await Zotero.Promise.delay(500); // the pane redraws its head once more (a new button each time)
// the item pane keeps a head per mode; the feed one shown now has a laid-out button
const find = () => [...win.document.querySelectorAll(".feed-item-addTo-button")]
  .find((b) => b.isConnected && b.getBoundingClientRect().width > 0);
const button = find();
if (!button) throw new Error("no Add to My Library button for " + args.title);
const label = button.label || button.getAttribute("label") || button.textContent;
// a click on its left part (Zotero's split-menu-button turns "command" listeners into click
// listeners that skip the dropmarker): itemPane.translateSelectedItems()
setTimeout(() => find().click(), 0);
return label;
