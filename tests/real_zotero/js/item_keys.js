// Keys of the regular items (trash included) whose title contains args.title.
const items = await Zotero.Items.getAll(Zotero.Libraries.userLibraryID, false, true);
return items
  .filter((item) => item.isRegularItem() && item.getField("title").includes(args.title))
  .map((item) => item.key);
