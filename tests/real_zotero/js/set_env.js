// Set environment variables of the Zotero process (args.env: {name: value}), as if Zotero had
// been started with them; returns the previous values ("" when unset).
const before = {};
for (const [name, value] of Object.entries(args.env)) {
  before[name] = Services.env.exists(name) ? Services.env.get(name) : "";
  Services.env.set(name, value);
}
return before;
