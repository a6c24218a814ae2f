// Install the .xpi at args.path as Tools -> Plugins -> gear menu -> "Install Plugin From
// File..." does (the add-on manager's install for a local file, less its confirmation prompt);
// returns the add-on as addon.js does.
const { AddonManager } = ChromeUtils.importESModule("resource://gre/modules/AddonManager.sys.mjs");
const install = await AddonManager.getInstallForFile(Zotero.File.pathToFile(args.path));
const addon = await install.install();
await Zotero.Promise.delay(500);
return { version: addon.version, isActive: addon.isActive, appDisabled: addon.appDisabled,
  userDisabled: addon.userDisabled, isCompatible: addon.isCompatible };
