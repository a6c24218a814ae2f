// Whether this Zotero build has the translation modules its RemoteTranslate loads into the
// page (translate/modules/utilities, a nested submodule of zotero/translate): "Add to My
// Library" on a feed item runs through it.
try {
  await Zotero.File.getContentsFromURLAsync(
    "chrome://zotero/content/xpcom/translate/modules/utilities/openurl.js",
  );
  return true;
} catch (e) {
  return false;
}
