// Disable, enable or uninstall the add-on args.id through Zotero's add-on manager (what
// Tools -> Plugins does); returns whether it is active afterwards.
const { AddonManager } = ChromeUtils.importESModule("resource://gre/modules/AddonManager.sys.mjs");
const addon = await AddonManager.getAddonByID(args.id);
await addon[args.action]();
await Zotero.Promise.delay(500);
return addon.isActive;
