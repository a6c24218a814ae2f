// Zotero's version and whether this is a release build (beta, dev and source builds ignore
// strict_max_version, so only a release build proves the plugin is not disabled).
const version = Services.appinfo.version;
return { zotero: Zotero.version, app: version, release: !/beta|dev|SOURCE/.test(version) };
