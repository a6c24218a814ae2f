// Set global preferences (args.prefs: {name: value}; null clears a user value).
for (const [name, value] of Object.entries(args.prefs)) {
  if (value === null) Zotero.Prefs.clear(name, true);
  else Zotero.Prefs.set(name, value, true);
}
return true;
