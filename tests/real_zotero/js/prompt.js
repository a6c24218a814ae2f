// The open Services.prompt dialog (commonDialog.xhtml): returns its title and text, then
// accepts it (args.accept) or cancels it; null when none is open.
let prompt = null;
for (const w of Services.wm.getEnumerator(null)) {
  if (w.location.href === "chrome://global/content/commonDialog.xhtml") prompt = w;
}
if (!prompt) return null;
const doc = prompt.document;
// a dialog still being built (a loaded machine) has no title or text yet: ask again later
if (doc.readyState !== "complete" || !doc.title || !doc.getElementById("infoBody")?.textContent)
  return null;
const answer = { title: doc.title, text: doc.getElementById("infoBody")?.textContent ?? "" };
const dialog = doc.querySelector("dialog");
setTimeout(() => (args.accept ? dialog.acceptDialog() : dialog.cancelDialog()), 0);
return answer;
