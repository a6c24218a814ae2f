// Every regular item (trash included) whose title starts with args.prefix (any case): key, in the trash or
// not, its type, fields (Extra included), notes' and attachments' keys, tags, relations and date added.
const items = await Zotero.Items.getAll(Zotero.Libraries.userLibraryID, false, true);
return items
  .filter((i) => i.isRegularItem()
    && i.getField("title").toLowerCase().startsWith(args.prefix.toLowerCase()))
  .map((i) => ({
    key: i.key,
    itemType: i.itemType,
    fields: Object.fromEntries(i.getUsedFields(true).map((f) => [f, i.getField(f)])),
    deleted: Boolean(i.deleted),
    notes: Zotero.Items.get(i.getNotes(true)).map((n) => n.key),
    attachments: Zotero.Items.get(i.getAttachments(true)).map((a) => a.key),
    tags: i.getTags().map((t) => t.tag).sort(),
    relations: i.getRelations(),
    uri: Zotero.URI.getItemURI(i),
    dateAdded: i.dateAdded,
  }));
