// What the custom section args.pane shows in the main window's item pane: its header label and
// summary, its body's data-sd-state and text, the Citations lists' headings, and one row per
// result (for Citations with its list and work id).
const doc = Zotero.getMainWindow().document;
const box = [...doc.querySelectorAll("#zotero-item-pane item-pane-custom-section")]
  .find((el) => el.dataset.pane === args.pane);
if (!box) return null;
const section = box.querySelector("collapsible-section");
const body = box.querySelector('[data-type="body"]');
const text = (el, selector) => el.querySelector(selector)?.textContent ?? null;
return {
  hidden: box.hidden,
  label: section.getAttribute("label"),
  summary: section.getAttribute("summary"),
  item: body.dataset.sdItem ?? null,
  request: Number(body.dataset.sdRequest ?? 0),
  state: body.querySelector("[data-sd-state]")?.getAttribute("data-sd-state") ?? null,
  text: body.textContent,
  headings: [...body.querySelectorAll(".sd-citation-heading")].map((el) => el.textContent),
  rows: [...body.querySelectorAll(".sd-hit")].map((row) => ({
    key: row.dataset.key,
    list: row.closest("[data-sd-list]")?.dataset.sdList ?? null,
    work: row.dataset.work ?? null,
    pool: row.dataset.pool,
    title: text(row, ".sd-title"),
    meta: text(row, ".sd-meta"),
    score: text(row, ".sd-score"),
    badge: text(row, ".sd-badge"),
    button: text(row, "button.sd-add") ?? text(row, ".sd-note"),
    link: row.querySelector("button.sd-title") !== null,
  })),
};
