// The open window whose URL is args.href (the newest), as {title, text, state}: state is the
// data-sd-state of the plugin's views; null when no such window is open.
let found = null;
for (const w of Services.wm.getEnumerator(null)) if (w.location.href === args.href) found = w;
if (!found) return null;
const doc = found.document;
const body = doc.getElementById(args.root || "") || doc.documentElement;
return {
  title: doc.title,
  text: body.textContent,
  state: doc.querySelector("[data-sd-state]")?.getAttribute("data-sd-state") ?? null,
};
