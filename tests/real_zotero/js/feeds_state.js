// Every Zotero feed: name, url, last check and its error, and its items as Zotero keeps them
// (item JSON, plus the feed item's guid and whether it was translated), by title.
const feeds = [];
for (const feed of Zotero.Feeds.getAll()) {
  const items = await Zotero.Items.getAll(feed.libraryID, true);
  feeds.push({
    libraryID: feed.libraryID,
    name: feed.name,
    url: feed.url,
    lastCheck: feed.lastCheck,
    lastCheckError: feed.lastCheckError,
    updating: feed.updating,
    items: items
      .map((item) => ({ ...item.toJSON(), guid: item.guid, isTranslated: item.isTranslated }))
      .sort((a, b) => a.title.localeCompare(b.title)),
  });
}
return feeds;
