// Open Zotero's settings at the specter-desk pane (as Settings -> specter-desk does) and wait
// until its markup is in; with args.test, click "Test connection" and return its answer;
// returns the local-API note's visibility and text too.
const win = Zotero.Utilities.Internal.openPreferences("specter-desk-prefpane");
let doc = null;
for (let i = 0; i < 200; i++) {
  doc = win.document;
  if (doc && doc.getElementById("specter-desk-pref-test")) break;
  await Zotero.Promise.delay(50);
}
const button = doc.getElementById("specter-desk-pref-test");
const result = doc.getElementById("specter-desk-pref-test-result");
if (args.test) {
  result.textContent = "";
  button.doCommand();
  for (let i = 0; i < 300 && (!result.textContent || result.textContent === "Checking…"); i++) {
    await Zotero.Promise.delay(50);
  }
}
const note = doc.getElementById("specter-desk-pref-local-api");
return {
  button: button.getAttribute("label"),
  result: result.textContent,
  noteShown: !note.hidden,
  note: note.textContent,
};
