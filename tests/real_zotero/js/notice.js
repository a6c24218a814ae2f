// The plugin's duplicate notice above the main window's items list: its rows (added and
// existing keys, kind, text, buttons, status); null when there is no notice.
const doc = Zotero.getMainWindow().document;
const notice = doc.getElementById("specter-desk-duplicate-notice");
if (!notice) return null;
return {
  href: Zotero.getMainWindow().location.href,
  beforeTrees: notice.nextElementSibling?.id ?? null,
  rows: [...notice.querySelectorAll(".sd-notice-row")].map((row) => ({
    added: row.getAttribute("data-added"),
    existing: row.getAttribute("data-existing"),
    kind: row.getAttribute("data-kind"),
    text: row.querySelector(".sd-notice-message")?.textContent ?? "",
    buttons: [...row.querySelectorAll("button")].map((b) => b.textContent.trim()),
    status: row.querySelector(".sd-notice-status")?.textContent ?? "",
  })),
};
