// True once Zotero's main window shows a library in its items list.
const pane = Zotero.getMainWindow()?.ZoteroPane;
return Boolean(pane?.itemsView && pane.collectionsView?.itemTreeView);
