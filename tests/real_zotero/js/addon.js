// The add-on args.id as Zotero's add-on manager sees it (null when not installed).
const { AddonManager } = ChromeUtils.importESModule("resource://gre/modules/AddonManager.sys.mjs");
const addon = await AddonManager.getAddonByID(args.id);
return addon && { version: addon.version, isActive: addon.isActive, appDisabled: addon.appDisabled,
  userDisabled: addon.userDisabled, isCompatible: addon.isCompatible };
