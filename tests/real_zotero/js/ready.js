// True once Zotero's main window shows its items list.
return Boolean(Zotero.getMainWindow()?.ZoteroPane?.itemsView);
