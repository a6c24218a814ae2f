// Change the item args.key the way the Zotero UI does, each in its own transaction:
// "edit" sets args.fields ({field: value}), "tag" adds the tag args.tag, "note" adds a child
// note with the HTML args.note, "trash" moves it to the trash, "restore" takes it out again,
// "erase" deletes it for good (as emptying the trash does for it). Returns the library's local
// version (clientVersion) afterwards.
const item = Zotero.Items.getByLibraryAndKey(Zotero.Libraries.userLibraryID, args.key);
if (!item) throw new Error("no item " + args.key);
if (args.action === "edit") {
  for (const [field, value] of Object.entries(args.fields)) item.setField(field, value);
  await item.saveTx();
} else if (args.action === "tag") {
  item.addTag(args.tag);
  await item.saveTx();
} else if (args.action === "note") {
  const note = new Zotero.Item("note");
  note.libraryID = item.libraryID;
  note.parentID = item.id;
  note.setNote(args.note);
  await note.saveTx();
} else if (args.action === "trash") {
  await Zotero.Items.trashTx([item.id]);
} else if (args.action === "restore") {
  item.deleted = false;
  await item.saveTx();
} else if (args.action === "erase") {
  await item.eraseTx();
} else {
  throw new Error("unknown action " + args.action);
}
return Zotero.Libraries.userLibrary.clientVersion;
