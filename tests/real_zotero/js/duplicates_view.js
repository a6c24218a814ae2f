// The Duplicates dialog (the newest window at args.href) as data: each card (cluster or version
// group) with its kind, state, keys, kept key, buttons and status; the bulk bar's button, status
// and undo button. null when no such window is open.
let found = null;
for (const w of Services.wm.getEnumerator(null)) if (w.location.href === args.href) found = w;
if (!found) return null;
const doc = found.document;
const text = (el) => (el ? el.textContent.trim() : null);
return {
  state: doc.querySelector("[data-sd-state]")?.getAttribute("data-sd-state") ?? null,
  cards: [...doc.querySelectorAll(".sd-cluster")].map((card) => ({
    id: card.getAttribute("data-cluster"),
    kind: card.getAttribute("data-kind"),
    state: card.getAttribute("data-state"),
    keys: [...card.querySelectorAll(".sd-cluster-papers > li")].map((li) => li.getAttribute("data-key")),
    kept: card.querySelector(".sd-master")?.getAttribute("data-key") ?? null,
    score: text(card.querySelector(".sd-score")),
    buttons: [...card.querySelectorAll(".sd-card-actions button")].map((b) => b.textContent.trim()),
    status: text(card.querySelector(".sd-merge-status")),
  })),
  bulk: {
    button: text(doc.querySelector(".sd-bulk-merge")),
    disabled: doc.querySelector(".sd-bulk-merge")?.hasAttribute("disabled") ?? null,
    progress: doc.querySelector(".sd-bulk-progress")?.getAttribute("value") ?? null,
    status: text(doc.querySelector(".sd-bulk-status")),
    undo: text(doc.querySelector(".sd-bulk-undo-button")),
  },
};
