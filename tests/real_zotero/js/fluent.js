// args.ids formatted by Zotero's own Localization from the plugin's .ftl files (Zotero 10
// merges every plugin's .ftl into one source): {id: {value, attributes}} (null when missing).
const l10n = new Localization(["specter-desk.ftl", "specter-desk-prefs.ftl"], true);
const messages = l10n.formatMessagesSync(args.ids.map((id) => ({ id })));
return Object.fromEntries(args.ids.map((id, i) => [id, messages[i] && {
  value: messages[i].value,
  attributes: Object.fromEntries((messages[i].attributes || []).map((a) => [a.name, a.value])),
}]));
