// A PNG data: URL of a window as Zotero draws it (the main window, or the newest one at
// args.href), or of its element args.selector (with args.pad pixels around it).
let win = Zotero.getMainWindow();
if (args.href) {
  for (const w of Services.wm.getEnumerator(null)) if (w.location.href === args.href) win = w;
}
let x = 0;
let y = 0;
let w = win.innerWidth;
let h = win.innerHeight;
if (args.selector) {
  const el = win.document.querySelector(args.selector);
  if (!el) throw new Error("nothing matches " + args.selector);
  const r = el.getBoundingClientRect();
  x = Math.max(0, r.left - args.pad);
  y = Math.max(0, r.top - args.pad);
  w = Math.min(win.innerWidth - x, r.width + 2 * args.pad);
  h = Math.min(win.innerHeight - y, r.height + 2 * args.pad);
}
const canvas = win.document.createElementNS("http://www.w3.org/1999/xhtml", "canvas");
canvas.width = Math.round(w);
canvas.height = Math.round(h);
canvas.getContext("2d").drawWindow(win, x, y, w, h, "rgb(255,255,255)");
return canvas.toDataURL("image/png");
