// Make a collection args.collection in My Library holding the regular items whose titles are in
// args.titles (as the user does: New Collection, then drag the items in); returns its key.
const libraryID = Zotero.Libraries.userLibraryID;
const collection = new Zotero.Collection({ name: args.collection, libraryID });
await collection.saveTx();
const wanted = new Set(args.titles || []);
const items = (await Zotero.Items.getAll(libraryID, true)).filter(
  (item) => item.isRegularItem() && wanted.has(item.getField("title")),
);
await Zotero.DB.executeTransaction(async () => {
  for (const item of items) {
    item.addToCollection(collection.id);
    await item.save();
  }
});
return { key: collection.key, id: collection.id, items: items.length };
