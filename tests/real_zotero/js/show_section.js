// Bring the item-pane section args.pane into view, as clicking its side-nav icon does
// (Zotero renders a section's async part only once it is visible).
const details = Zotero.getMainWindow().document.querySelector("#zotero-item-pane item-details");
await details.scrollToPane(args.pane, "instant");
