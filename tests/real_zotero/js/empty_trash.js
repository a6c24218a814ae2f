// Empty the trash of My Library, as Zotero's "Empty Trash" does; returns how many items went.
return await Zotero.Items.emptyTrash(Zotero.Libraries.userLibraryID);
