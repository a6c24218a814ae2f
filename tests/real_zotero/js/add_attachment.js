// Attach the file args.path to the item args.parent as a stored copy (an imported-file
// attachment in storage/KEY/, what "Attach Stored Copy of File" makes) without asking Zotero to
// index it: this build has no PDF worker, so the tests write .zotero-ft-cache themselves.
// Returns the attachment's key and storage folder.
const parent = Zotero.Items.getByLibraryAndKey(Zotero.Libraries.userLibraryID, args.parent);
const name = PathUtils.filename(args.path);
const attachment = new Zotero.Item("attachment");
attachment.libraryID = parent.libraryID;
attachment.parentID = parent.id;
attachment.attachmentLinkMode = Zotero.Attachments.LINK_MODE_IMPORTED_FILE;
attachment.attachmentContentType = args.contentType || "application/pdf";
attachment.attachmentPath = "storage:" + name;
attachment.setField("title", "Full Text PDF");
await attachment.saveTx();
const dir = Zotero.Attachments.getStorageDirectory(attachment).path;
await IOUtils.makeDirectory(dir, { ignoreExisting: true });
await IOUtils.copy(args.path, PathUtils.join(dir, name));
return { key: attachment.key, dir };
