// Click (deferred: a modal prompt it opens must not hold this answer) the first element of the
// newest window at args.href that matches args.selector (and has text args.text, if given).
let found = null;
for (const w of Services.wm.getEnumerator(null)) if (w.location.href === args.href) found = w;
if (!found) throw new Error("no window " + args.href);
const target = [...found.document.querySelectorAll(args.selector)]
  .find((el) => args.text == null || el.textContent.trim() === args.text);
if (!target) throw new Error(`nothing matches ${args.selector} ${args.text ?? ""}`);
setTimeout(() => (target.doCommand ? target.doCommand() : target.click()), 0);
return target.textContent;
