// Keys of the items selected in the main window's items list.
return Zotero.getMainWindow().ZoteroPane.getSelectedItems().map((item) => item.key);
