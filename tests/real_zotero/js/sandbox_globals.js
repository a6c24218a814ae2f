// The own property names of this helper plugin's bootstrap sandbox (Zotero builds every
// plugin's sandbox the same way), less the names the helper itself defines.
const own = ["install", "startup", "shutdown", "uninstall", "ENDPOINT", "AsyncFunction"];
return Object.getOwnPropertyNames(sandbox).filter((name) => !own.includes(name)).sort();
