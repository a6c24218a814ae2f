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
let button = null;
for (let i = 0; i < 200 && !button; i++) {
  button = win.document.querySelector("#zotero-item-pane .feed-item-addTo-button");
  if (!button || button.closest("[hidden]") || pane.getSelectedItems()[0]?.id !== item.id) button = null;
  if (!button) await Zotero.Promise.delay(50);
}
if (!button) throw new Error("no Add to My Library button for " + args.title);
const label = button.label || button.getAttribute("label") || button.textContent;
setTimeout(() => button.dispatchEvent(new win.CustomEvent("command", { bubbles: true })), 0);
return label;
