// The text of every Zotero progress window open now (Zotero's pop-up notices, the plugin's
// too): one string per window, its headline and lines joined by " | ".
const texts = [];
for (const win of Services.wm.getEnumerator(null)) {
  if (!String(win.location?.href).includes("progressWindow")) continue;
  const parts = [...win.document.querySelectorAll("#zotero-progress-text-headline, description, label, .zotero-progress-item-label")]
    .map((el) => (el.textContent || el.getAttribute("value") || "").trim())
    .filter(Boolean);
  texts.push([...new Set(parts)].join(" | "));
}
return texts;
