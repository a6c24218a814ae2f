// Pin the item-pane section args.pane and bring it into view, as double-clicking its side-nav
// icon does: Zotero then keeps it in view, and renders it, for every item selected.
const details = Zotero.getMainWindow().document.querySelector("#zotero-item-pane item-details");
details.pinnedPane = args.pane;
await details.scrollToPane(args.pane, "instant");
