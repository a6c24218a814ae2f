// Close every open window at args.href; returns how many were open.
let closed = 0;
for (const w of Services.wm.getEnumerator(null)) {
  if (w.location.href === args.href) {
    w.close();
    closed += 1;
  }
}
return closed;
