// Click the first element of the section args.pane that matches args.selector (and, when given,
// whose text is args.text), as the user does; returns its text.
const doc = Zotero.getMainWindow().document;
const box = [...doc.querySelectorAll("#zotero-item-pane item-pane-custom-section")]
  .find((el) => el.dataset.pane === args.pane);
if (!box) throw new Error("no section " + args.pane);
const target = [...box.querySelectorAll(args.selector)]
  .find((el) => args.text == null || el.textContent.trim() === args.text);
if (!target) throw new Error(`nothing matches ${args.selector} ${args.text ?? ""}`);
target.click();
return target.textContent;
